package api

import (
	"net/http"
	"slices"
	"testing"
)

func TestEventLog(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		paid := e.paidIntent(1000)                                                // payment_intent.succeeded
		e.do("POST", "/v1/refunds", `{"payment_intent":"`+paid+`","amount":400}`) // refund.succeeded
		declined := e.createIntent(500)
		e.confirm(declined, "4000000000000002", "123", 12, 2030)    // payment_intent.payment_failed
		e.do("POST", "/v1/payment_intents/"+declined+"/cancel", "") // payment_intent.canceled
		wantTypes := []string{"payment_intent.canceled", "payment_intent.payment_failed", "refund.succeeded", "payment_intent.succeeded"}

		// Newest first, two per page.
		var types []string
		cursor := ""
		for pages := 0; ; pages++ {
			path := "/v1/events?limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r := e.do("GET", path, "")
			if r.Code != 200 {
				t.Fatalf("%s: %d %s", path, r.Code, r.Body)
			}
			page := r.object(t)
			for _, item := range page["data"].([]any) {
				ev := item.(map[string]any)
				types = append(types, ev["type"].(string))
				checkEventShape(t, ev)
			}
			next, _ := page["next_cursor"].(string)
			if next == "" {
				if _, ok := page["next_cursor"]; !ok || pages != 1 {
					t.Fatalf("page %d ends the list with %v", pages, page["next_cursor"])
				}
				break
			}
			cursor = next
		}
		if !slices.Equal(types, wantTypes) {
			t.Fatalf("types %v, want %v", types, wantTypes)
		}

		// One event, with its delivery history (none yet: no URL here).
		all := e.do("GET", "/v1/events", "").object(t)["data"].([]any)
		first := all[0].(map[string]any)
		one := e.do("GET", "/v1/events/"+first["id"].(string), "")
		if one.Code != 200 || one.object(t)["id"] != first["id"] {
			t.Fatalf("one event: %d %s", one.Code, one.Body)
		}
		e.do("GET", "/v1/events/evt_unknown", "").problem(t, http.StatusNotFound, "not_found")
	})
}

// checkEventShape checks an event of the list: the webhook shape (id, type,
// created, data.object) plus its delivery state, and nothing else.
func checkEventShape(t *testing.T, ev map[string]any) {
	t.Helper()
	var keys []string
	for k := range ev {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"created", "data", "delivery", "id", "type"}) {
		t.Fatalf("event members %v", keys)
	}
	if _, ok := ev["data"].(map[string]any)["object"].(map[string]any); !ok {
		t.Fatalf("data %v has no object", ev["data"])
	}
	d := ev["delivery"].(map[string]any)
	if d["state"] != "pending" || d["attempts"] != 0.0 || d["next_attempt_at"] == nil {
		t.Fatalf("delivery %v", d)
	}
	if ev["created"] != "2027-03-15T10:00:00Z" {
		t.Fatalf("created %v, want RFC 3339 UTC", ev["created"])
	}
}

func TestEventListParameters(t *testing.T) {
	tests := []struct {
		query  string
		status int
		fields []string
	}{
		{"limit=1", 200, nil},
		{"limit=100", 200, nil},
		{"limit=0", 422, []string{"limit"}},
		{"limit=101", 422, []string{"limit"}},
		{"limit=ten", 422, []string{"limit"}},
		{"cursor=nonsense", 422, []string{"cursor"}},
		{"cursor=ZTE6LTE", 422, []string{"cursor"}}, // "e1:-1"
		{"cursor=eDk6MQ", 422, []string{"cursor"}},  // "x9:1"
		{"limit=0&cursor=%21", 422, []string{"limit", "cursor"}},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				r := e.do("GET", "/v1/events?"+tt.query, "")
				if tt.status == 200 {
					if r.Code != 200 {
						t.Fatalf("%d %s", r.Code, r.Body)
					}
					return
				}
				if got := fields(r.problem(t, tt.status, "validation_failed")); !slices.Equal(got, tt.fields) {
					t.Fatalf("fields %v, want %v", got, tt.fields)
				}
			})
		}
		if got := e.do("GET", "/v1/events", "").object(t); got["next_cursor"] != nil || len(got["data"].([]any)) != 0 {
			t.Fatalf("empty log %v", got)
		}
	})
}
