package catalog

import (
	"slices"
	"testing"

	"github.com/tourism-go/tourism/pkg/validate"
)

// fieldsOf returns the sorted field names of a *validate.Error, failing t
// when err is some other error; nil for a nil error.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	fe, ok := validate.Fields(err)
	if !ok {
		t.Fatalf("got %T %v, want *validate.Error", err, err)
	}
	var names []string
	for _, f := range fe {
		names = append(names, f.Field)
	}
	slices.Sort(names)
	return names
}

func assertFields(t *testing.T, err error, want ...string) {
	t.Helper()
	got := fieldsOf(t, err)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("invalid fields = %v, want %v (err: %v)", got, want, err)
	}
}

func ptr[T any](v T) *T { return &v }
