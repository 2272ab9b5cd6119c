package metrics

import "testing"

func TestParseProcStat(t *testing.T) {
	// A command name with spaces and parentheses, which a split on spaces
	// or on the first ")" would misread.
	line := "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 3318 0 0 0 150 25 0 0 20 0 9 0 123456 1290240000 2560 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n"
	got, err := parseProcStat(line, 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{cpuSeconds: 1.75, residentBytes: 2560 * 4096, startTicks: 123456}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "4242 no parentheses", "4242 (short) S 1 2 3"} {
		if _, err := parseProcStat(bad, 4096); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseBootTime(t *testing.T) {
	got, err := parseBootTime("cpu  1 2 3\nintr 5\nbtime 1764000000\nprocesses 9\n")
	if err != nil || got != 1764000000 {
		t.Errorf("got %d, %v", got, err)
	}
	if _, err := parseBootTime("cpu 1\n"); err == nil {
		t.Error("no btime: no error")
	}
}
