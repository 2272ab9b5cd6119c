package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/webhook"
)

var (
	// Fixed instants keep every test independent of the real clock.
	signedAt = time.Unix(1_767_225_600, 0) // 2026-01-01T00:00:00Z
	body     = []byte(`{"id":"evt_1","type":"payment_intent.succeeded"}`)
	oldKey   = []byte("whsec_old")
	newKey   = []byte("whsec_new")
)

func verifier(secrets ...[]byte) webhook.Verifier {
	return webhook.Verifier{Secrets: secrets, Now: func() time.Time { return signedAt }}
}

// hexMAC is written independently of the package so that a change to what is
// signed (the "<t>.<body>" text) cannot pass by changing both sides at once.
func hexMAC(secret []byte, signed string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(signed))
	return hex.EncodeToString(h.Sum(nil))
}

func TestSignFormat(t *testing.T) {
	got := webhook.Sign(body, signedAt, oldKey, nil, newKey)
	signed := "1767225600." + string(body)
	want := "t=1767225600,v1=" + hexMAC(oldKey, signed) + ",v1=" + hexMAC(newKey, signed)
	if got != want {
		t.Fatalf("Sign =\n %s\nwant\n %s", got, want)
	}
	if got := webhook.Sign(body, signedAt); got != "t=1767225600" {
		t.Fatalf("Sign without secrets = %q, want only the timestamp", got)
	}
}

func TestRoundTrip(t *testing.T) {
	header := webhook.Sign(body, signedAt, newKey)
	if err := verifier(newKey).Verify(header, body); err != nil {
		t.Fatalf("Verify(Sign(body)) = %v, want nil", err)
	}
	empty := webhook.Sign(nil, signedAt, newKey)
	if err := verifier(newKey).Verify(empty, []byte{}); err != nil {
		t.Fatalf("Verify of an empty body = %v, want nil", err)
	}
}

func TestDefaultClock(t *testing.T) {
	// Now left nil means the real clock: a fresh signature passes, one from
	// the fixed 2026 instant is (by now, or soon) outside the tolerance
	// either way, unless the test runs in that very minute.
	v := webhook.Verifier{Secrets: [][]byte{newKey}}
	if err := v.Verify(webhook.Sign(body, time.Now(), newKey), body); err != nil {
		t.Fatalf("fresh signature with the real clock: %v", err)
	}
	old := webhook.Sign(body, time.Now().Add(-time.Hour), newKey)
	if err := v.Verify(old, body); !errors.Is(err, webhook.ErrStaleSignature) {
		t.Fatalf("hour-old signature with the real clock: %v, want ErrStaleSignature", err)
	}
}

func TestRotation(t *testing.T) {
	bothSigned := webhook.Sign(body, signedAt, oldKey, newKey)
	newSigned := webhook.Sign(body, signedAt, newKey)
	tests := []struct {
		name      string
		header    string
		receiver  [][]byte
		wantError error
	}{
		{"sender both, receiver old", bothSigned, [][]byte{oldKey}, nil},
		{"sender both, receiver new", bothSigned, [][]byte{newKey}, nil},
		{"sender both, receiver new and unrelated", bothSigned, [][]byte{[]byte("other"), newKey}, nil},
		{"sender new, receiver old and new", newSigned, [][]byte{oldKey, newKey}, nil},
		{"sender new, receiver old only", newSigned, [][]byte{oldKey}, webhook.ErrSignatureMismatch},
		{"receiver with an empty entry and the key", newSigned, [][]byte{{}, newKey}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifier(tt.receiver...).Verify(tt.header, body)
			if !errors.Is(err, tt.wantError) || (tt.wantError == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantError)
			}
		})
	}
}

func TestMismatch(t *testing.T) {
	header := webhook.Sign(body, signedAt, newKey)
	tampered := bytes.Replace(body, []byte("succeeded"), []byte("failed"), 1)
	ts := "1767225600"
	tests := []struct {
		name   string
		header string
		body   []byte
		keys   [][]byte
	}{
		{"wrong secret", header, body, [][]byte{oldKey}},
		{"tampered body", header, tampered, [][]byte{newKey}},
		{"body with a trailing newline", header, append(append([]byte{}, body...), '\n'), [][]byte{newKey}},
		{"timestamp moved", strings.Replace(header, "t="+ts, "t=1767225601", 1), body, [][]byte{newKey}},
		{"timestamp with a leading zero", strings.Replace(header, "t="+ts, "t=0"+ts, 1), body, [][]byte{newKey}},
		{"signature of the body alone", "t=" + ts + ",v1=" + hexMAC(newKey, string(body)), body, [][]byte{newKey}},
		{"only an unknown scheme signed", "t=" + ts + ",v2=" + hexMAC(newKey, ts+"."+string(body)) + ",v1=" + strings.Repeat("0", 64), body, [][]byte{newKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verifier(tt.keys...).Verify(tt.header, tt.body); !errors.Is(err, webhook.ErrSignatureMismatch) {
				t.Fatalf("Verify = %v, want ErrSignatureMismatch", err)
			}
		})
	}
}

func TestTolerance(t *testing.T) {
	tests := []struct {
		name      string
		signed    time.Time
		tolerance time.Duration
		wantError error
	}{
		{"now", signedAt, 0, nil},
		{"exactly the default age", signedAt.Add(-300 * time.Second), 0, nil},
		{"one second too old", signedAt.Add(-301 * time.Second), 0, webhook.ErrStaleSignature},
		{"a day old", signedAt.Add(-24 * time.Hour), 0, webhook.ErrStaleSignature},
		{"exactly the default ahead", signedAt.Add(300 * time.Second), 0, nil},
		{"one second too far ahead", signedAt.Add(301 * time.Second), 0, webhook.ErrStaleSignature},
		{"far future", signedAt.Add(24 * 365 * time.Hour), 0, webhook.ErrStaleSignature},
		{"negative tolerance means default", signedAt.Add(-200 * time.Second), -time.Second, nil},
		{"custom tolerance, inside", signedAt.Add(-10 * time.Second), 10 * time.Second, nil},
		{"custom tolerance, outside", signedAt.Add(-11 * time.Second), 10 * time.Second, webhook.ErrStaleSignature},
		{"Unix epoch", time.Unix(0, 0), 0, webhook.ErrStaleSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verifier(newKey)
			v.Tolerance = tt.tolerance
			err := v.Verify(webhook.Sign(body, tt.signed, newKey), body)
			if !errors.Is(err, tt.wantError) || (tt.wantError == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantError)
			}
		})
	}
}

func TestStaleIsReportedOnlyForGenuineSignatures(t *testing.T) {
	old := webhook.Sign(body, signedAt.Add(-time.Hour), newKey)
	if err := verifier(oldKey).Verify(old, body); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Fatalf("old and forged: %v, want ErrSignatureMismatch", err)
	}
}

func TestMalformed(t *testing.T) {
	valid := webhook.Sign(body, signedAt, newKey)
	v1 := strings.TrimPrefix(valid, "t=1767225600,")
	tests := []struct {
		name   string
		header string
	}{
		{"no equals sign", "garbage"},
		{"only a comma", ","},
		{"no timestamp", v1},
		{"no v1", "t=1767225600"},
		{"only unknown schemes", "t=1767225600,v0=abc"},
		{"empty timestamp", "t=," + v1},
		{"letters in timestamp", "t=abc," + v1},
		{"negative timestamp", "t=-1," + v1},
		{"plus sign", "t=+1767225600," + v1},
		{"fractional timestamp", "t=1767225600.5," + v1},
		{"timestamp too long", "t=" + strings.Repeat("9", 13) + "," + v1},
		{"two timestamps", "t=1767225600,t=1767225600," + v1},
		{"short v1", "t=1767225600,v1=abcd"},
		{"long v1", "t=1767225600," + v1 + "00"},
		{"v1 not hex", "t=1767225600,v1=" + strings.Repeat("zz", 32)},
		{"empty part", "t=1767225600,," + v1},
		{"leading comma", ",t=1767225600," + v1},
		{"trailing comma", valid + ","},
		{"empty key", valid + ",=x"},
		{"semicolons", strings.ReplaceAll(valid, ",", ";")},
		{"too long", valid + ",x=" + strings.Repeat("a", webhook.MaxHeaderLength)},
		{"too many parts", valid + strings.Repeat(",x=1", 40)},
		{"only spaces", "   "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verifier(newKey).Verify(tt.header, body); !errors.Is(err, webhook.ErrMalformedSignature) {
				t.Fatalf("Verify(%.60q) = %v, want ErrMalformedSignature", tt.header, err)
			}
		})
	}
}

func TestTolerated(t *testing.T) {
	valid := webhook.Sign(body, signedAt, newKey)
	v1 := strings.TrimPrefix(valid, "t=1767225600,")
	tests := []struct {
		name   string
		header string
	}{
		{"v1 before t", v1 + ",t=1767225600"},
		{"unknown scheme after", valid + ",v2=" + strings.Repeat("ab", 40)},
		{"unknown scheme before", "v0=whatever," + valid},
		{"unknown key with empty value", valid + ",future="},
		{"spaces after commas", strings.ReplaceAll(valid, ",", ", ")},
		{"upper-case hex", "t=1767225600,v1=" + strings.ToUpper(strings.TrimPrefix(v1, "v1="))},
		{"a wrong v1 beside the right one", "t=1767225600,v1=" + strings.Repeat("0", 64) + "," + v1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := verifier(newKey).Verify(tt.header, body); err != nil {
				t.Fatalf("Verify(%q) = %v, want nil", tt.header, err)
			}
		})
	}
}

func TestMissingAndUnconfigured(t *testing.T) {
	header := webhook.Sign(body, signedAt, newKey)
	tests := []struct {
		name    string
		v       webhook.Verifier
		header  string
		wantErr error
	}{
		{"empty header", verifier(newKey), "", webhook.ErrMissingSignature},
		{"no secrets", verifier(), header, webhook.ErrNoSecrets},
		{"only empty secrets", verifier(nil, []byte{}), header, webhook.ErrNoSecrets},
		{"no secrets and no header", verifier(), "", webhook.ErrNoSecrets},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.v.Verify(tt.header, body); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseSecrets(t *testing.T) {
	tests := []struct {
		in   string
		want [][]byte
	}{
		{"", nil},
		{" , ,", nil},
		{"one", [][]byte{[]byte("one")}},
		{" old , new ,", [][]byte{[]byte("old"), []byte("new")}},
		{"a,,b", [][]byte{[]byte("a"), []byte("b")}},
		{"with space inside", [][]byte{[]byte("with space inside")}},
	}
	for _, tt := range tests {
		if got := webhook.ParseSecrets(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSecrets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// errorsOfVerify are the only errors Verify may return (possibly wrapped).
var errorsOfVerify = []error{
	webhook.ErrMissingSignature, webhook.ErrMalformedSignature, webhook.ErrStaleSignature,
	webhook.ErrSignatureMismatch, webhook.ErrNoSecrets,
}

func FuzzVerify(f *testing.F) {
	f.Add(webhook.Sign(body, signedAt, newKey), body)
	f.Add(webhook.Sign(body, signedAt, oldKey, newKey)+",v2=x", body)
	f.Add("t=1767225600,v1=", []byte{})
	f.Add("t=1,t=2", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, payload []byte) {
		v := verifier(newKey)
		err := v.Verify(header, payload)
		if err != nil {
			known := false
			for _, e := range errorsOfVerify {
				known = known || errors.Is(err, e)
			}
			if !known {
				t.Fatalf("Verify returned an undocumented error: %v", err)
			}
		} else {
			// Accepting means the header holds the real MAC of its own
			// timestamp and this payload: nothing else may pass.
			if !containsMACForAnyT(header, payload) {
				t.Fatalf("Verify accepted %q without the MAC of the payload", header)
			}
		}
		// Whatever the payload, signing it now must verify.
		if err := v.Verify(webhook.Sign(payload, signedAt, newKey), payload); err != nil {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

// containsMACForAnyT reports whether header holds the MAC of payload under
// newKey for one of its t= values (t need not come first).
func containsMACForAnyT(header string, payload []byte) bool {
	lower := strings.ToLower(header)
	for part := range strings.SplitSeq(header, ",") {
		if ts, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			if strings.Contains(lower, hexMAC(newKey, ts+"."+string(payload))) {
				return true
			}
		}
	}
	return false
}

func BenchmarkVerify(b *testing.B) {
	payload := bytes.Repeat([]byte(`{"k":"v"}`), 200) // about 2 KiB, a typical event
	header := webhook.Sign(payload, signedAt, oldKey, newKey)
	v := verifier(newKey, oldKey) // the matching secret second: the worst order
	for b.Loop() {
		if err := v.Verify(header, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHostileHeader(b *testing.B) {
	// The largest header Verify still parses, full of v1 entries: what an
	// attacker can make one request cost.
	v1 := ",v1=" + strings.Repeat("0", 64)
	header := "t=1767225600" + strings.Repeat(v1, 31)
	if len(header) > webhook.MaxHeaderLength {
		b.Fatalf("header of %d bytes is over the limit", len(header))
	}
	v := verifier(newKey, oldKey)
	for b.Loop() {
		if err := v.Verify(header, body); !errors.Is(err, webhook.ErrSignatureMismatch) {
			b.Fatal(fmt.Sprint("want mismatch, got ", err))
		}
	}
}
