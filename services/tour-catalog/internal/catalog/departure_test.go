package catalog

import (
	"testing"
	"time"
)

func TestNewDepartureValidate(t *testing.T) {
	today := NewDate(2027, time.March, 15)
	tests := []struct {
		name   string
		in     NewDeparture
		fields []string
	}{
		{"valid", NewDeparture{StartsOn: "2027-06-01", Capacity: 16}, nil},
		{"today is fine", NewDeparture{StartsOn: "2027-03-15", Capacity: 1}, nil},
		{"five years ahead is fine", NewDeparture{StartsOn: "2032-03-15", Capacity: 500}, nil},
		{"with a price", NewDeparture{StartsOn: "2027-06-01", Capacity: 16, Price: &Money{99000, "EUR"}}, nil},
		{"yesterday", NewDeparture{StartsOn: "2027-03-14", Capacity: 16}, []string{"starts_on"}},
		{"too far ahead", NewDeparture{StartsOn: "2032-03-16", Capacity: 16}, []string{"starts_on"}},
		{"not a real date", NewDeparture{StartsOn: "2027-02-30", Capacity: 16}, []string{"starts_on"}},
		{"missing date", NewDeparture{Capacity: 16}, []string{"starts_on"}},
		{"capacity zero", NewDeparture{StartsOn: "2027-06-01"}, []string{"capacity"}},
		{"capacity 501", NewDeparture{StartsOn: "2027-06-01", Capacity: 501}, []string{"capacity"}},
		{"bad price", NewDeparture{StartsOn: "2027-06-01", Capacity: 16, Price: &Money{0, "EUR"}}, []string{"price.amount"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFields(t, tt.in.Validate(today), tt.fields...)
		})
	}
}

func TestDeparturePatchValidate(t *testing.T) {
	assertFields(t, DeparturePatch{}.Validate())
	assertFields(t, DeparturePatch{Capacity: ptr(10), Price: &Money{5000, "EUR"}}.Validate())
	assertFields(t, DeparturePatch{Capacity: ptr(0), Price: &Money{5000, "eur"}}.Validate(), "capacity", "price.currency")
}

func TestEffectivePrice(t *testing.T) {
	base := Money{1000, "EUR"}
	if got := EffectivePrice(base, nil); got != base {
		t.Fatalf("no override: %v", got)
	}
	if got := EffectivePrice(base, &Money{800, "EUR"}); got != (Money{800, "EUR"}) {
		t.Fatalf("override: %v", got)
	}
	if got := (Departure{Capacity: 10, SeatsReserved: 3}).SeatsAvailable(); got != 7 {
		t.Fatalf("SeatsAvailable = %d", got)
	}
}
