package catalog

import (
	"strings"
	"testing"
)

func TestSlugify(t *testing.T) {
	long := strings.Repeat("abcdefghi ", 10) // 10 words of 9 letters
	tests := []struct {
		title, want string
	}{
		{"Tour du Mont-Blanc", "tour-du-mont-blanc"},
		{"Côte d'Azur", "cote-d-azur"},
		{"  Les Écrins — été 2027!  ", "les-ecrins-ete-2027"},
		{"Cœur de Bretagne", "coeur-de-bretagne"},
		{"Straße über Ålesund", "strasse-uber-alesund"},
		{"Ça va: Île-de-France", "ca-va-ile-de-france"},
		{"Kraków & Łódź", "krakow-lodz"},
		{"--Hello---World--", "hello-world"},
		{"UPPER lower 42", "upper-lower-42"},
		{"東京", ""},
		{"!!!", ""},
		{"", ""},
		// 10 words of 9 letters joined by dashes are 99 bytes: the cut
		// falls back to the last whole word within 80 (8 words = 79).
		{long, strings.TrimSuffix(strings.Repeat("abcdefghi-", 8), "-")},
		// Exactly at the boundary: the 81st byte is a dash.
		{strings.Repeat("a", 80) + " b", strings.Repeat("a", 80)},
		// One word longer than the limit is cut hard.
		{strings.Repeat("x", 100), strings.Repeat("x", 80)},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			got := Slugify(tt.title)
			if got != tt.want {
				t.Fatalf("Slugify(%q) = %q, want %q", tt.title, got, tt.want)
			}
			if got != "" && validSlug(got) != "" {
				t.Fatalf("Slugify(%q) = %q, which is not a valid slug: %s", tt.title, got, validSlug(got))
			}
		})
	}
}

func TestValidSlug(t *testing.T) {
	tests := []struct {
		slug string
		ok   bool
	}{
		{"mont-blanc", true},
		{"a", true},
		{"tour-2027", true},
		{strings.Repeat("a", 80), true},
		{strings.Repeat("a", 81), false},
		{"", false},
		{"Mont-Blanc", false},
		{"-mont", false},
		{"mont-", false},
		{"mont--blanc", false},
		{"mont_blanc", false},
		{"côte", false},
		{"mont blanc", false},
		{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", false}, // a UUID
		{"6ba7b8109dad11d180b400c04fd430c8", false},     // a UUID without dashes
	}
	for _, tt := range tests {
		if got := validSlug(tt.slug) == ""; got != tt.ok {
			t.Errorf("validSlug(%q) ok = %v, want %v (%s)", tt.slug, got, tt.ok, validSlug(tt.slug))
		}
	}
}
