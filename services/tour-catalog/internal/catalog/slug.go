package catalog

import (
	"strings"
	"unicode"

	"github.com/google/uuid"
)

// MaxSlugLen bounds a slug, in bytes (slugs are ASCII).
const MaxSlugLen = 80

// Slugify turns a title into a URL slug: lowercase ASCII letters and digits
// in words joined by single dashes, at most MaxSlugLen bytes, cut at a word
// boundary when it can be. Accented Latin letters lose their accent
// ("Côte d'Azur" → "cote-d-azur"); ligatures are spelt out (œ → oe, ß → ss);
// anything else separates words. A title with no Latin letter or digit
// gives "", which the caller must treat as "give a slug explicitly".
func Slugify(title string) string {
	var b strings.Builder
	dash := false // a separator is pending: written only before the next word
	for _, r := range title {
		s := foldRune(unicode.ToLower(r))
		if s == "" {
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteString(s)
	}
	return cutSlug(b.String())
}

// cutSlug shortens s to MaxSlugLen at the last dash that fits, so that a
// long title keeps whole words; a single word longer than that is cut hard.
func cutSlug(s string) string {
	if len(s) <= MaxSlugLen {
		return s
	}
	if s[MaxSlugLen] == '-' {
		return s[:MaxSlugLen]
	}
	if i := strings.LastIndexByte(s[:MaxSlugLen], '-'); i > 0 {
		return s[:i]
	}
	return s[:MaxSlugLen]
}

// foldRune returns the ASCII spelling of a lowercase rune for a slug, or ""
// for a separator. The table covers the Latin letters of French, German,
// the Nordic, Iberian, Italian and Central European languages, which is
// where the catalogue's place names come from.
func foldRune(r rune) string {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return string(r)
	}
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą':
		return "a"
	case 'ç', 'ć', 'č', 'ĉ', 'ċ':
		return "c"
	case 'ď', 'đ', 'ð':
		return "d"
	case 'è', 'é', 'ê', 'ë', 'ē', 'ė', 'ę', 'ě':
		return "e"
	case 'ğ', 'ġ', 'ģ':
		return "g"
	case 'ì', 'í', 'î', 'ï', 'ī', 'į', 'ı':
		return "i"
	case 'ķ':
		return "k"
	case 'ĺ', 'ļ', 'ľ', 'ł':
		return "l"
	case 'ñ', 'ń', 'ņ', 'ň':
		return "n"
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'ō', 'ő':
		return "o"
	case 'ŕ', 'ř':
		return "r"
	case 'ś', 'ş', 'š', 'ș':
		return "s"
	case 'ţ', 'ť', 'ț':
		return "t"
	case 'ù', 'ú', 'û', 'ü', 'ū', 'ů', 'ű', 'ų':
		return "u"
	case 'ý', 'ÿ':
		return "y"
	case 'ź', 'ż', 'ž':
		return "z"
	case 'æ':
		return "ae"
	case 'œ':
		return "oe"
	case 'ß':
		return "ss"
	case 'þ':
		return "th"
	}
	return ""
}

// validSlug reports what is wrong with s as a slug, or "" when nothing is.
func validSlug(s string) string {
	switch {
	case s == "":
		return "is required (the title has no letters to derive one from)"
	case len(s) > MaxSlugLen:
		return "must be at most 80 characters"
	case !isSlugShaped(s):
		return "must be lowercase letters and digits in words separated by single dashes"
	case looksLikeUUID(s):
		// GET /v1/tours/{id_or_slug} reads a UUID as an id, so a slug
		// shaped like one could never be reached.
		return "must not look like a UUID"
	}
	return ""
}

// isSlugShaped matches ^[a-z0-9]+(-[a-z0-9]+)*$: lowercase ASCII words
// joined by single dashes.
func isSlugShaped(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func looksLikeUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}
