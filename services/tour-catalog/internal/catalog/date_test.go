package catalog

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2027-06-01", NewDate(2027, time.June, 1), true},
		{"2028-02-29", NewDate(2028, time.February, 29), true},
		{"2027-02-29", Date{}, false}, // not a leap year
		{"2027-13-01", Date{}, false},
		{"2027-6-1", Date{}, false},
		{"27-06-01", Date{}, false},
		{"2027-06-01T00:00:00Z", Date{}, false},
		{" 2027-06-01", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestDateArithmeticAndOrder(t *testing.T) {
	d := NewDate(2027, time.December, 31)
	if got := d.AddDays(1); got != NewDate(2028, time.January, 1) {
		t.Fatalf("AddDays = %v", got)
	}
	if got := NewDate(2028, time.February, 29).AddYears(1); got != NewDate(2029, time.March, 1) {
		t.Fatalf("AddYears = %v", got)
	}
	if !d.Before(d.AddDays(1)) || !d.AddDays(1).After(d) || d.Compare(d) != 0 {
		t.Fatal("ordering is wrong")
	}
	// The store compares dates as strings: their order must agree.
	a, b := NewDate(999, time.January, 2), NewDate(2027, time.January, 1)
	if !(a.String() < b.String()) || a.String() != "0999-01-02" {
		t.Fatalf("string order disagrees: %s vs %s", a, b)
	}
	// "Today" is UTC: 23:30 in UTC-5 is already tomorrow.
	ny := time.FixedZone("UTC-5", -5*3600)
	if got := Today(time.Date(2027, 6, 1, 23, 30, 0, 0, ny)); got != NewDate(2027, time.June, 2) {
		t.Fatalf("Today = %v", got)
	}
	if !(Date{}).IsZero() || d.IsZero() {
		t.Fatal("IsZero is wrong")
	}
}

func TestDateJSON(t *testing.T) {
	var v struct {
		D Date `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2027-06-01"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.D != NewDate(2027, time.June, 1) {
		t.Fatalf("decoded %v", v.D)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"d":"2027-06-01"}` {
		t.Fatalf("encoded %s", b)
	}
	if err := json.Unmarshal([]byte(`{"d":"June 1st"}`), &v); err == nil {
		t.Fatal("accepted a bad date")
	}
}
