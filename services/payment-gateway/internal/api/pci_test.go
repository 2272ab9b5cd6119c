package api

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tourism-go/tourism/pkg/db"
)

// After a run of payments with every test card (approved, declined, mistyped,
// sent malformed, replayed under an idempotency key), no table, no log
// line and no response holds a card number, nor anything labelled a CVC.
func TestNoCardNumberIsKeptAnywhere(t *testing.T) {
	numbers := []string{
		"4242424242424242", "5555555555554444", "378282246310005",
		"4000000000000002", "4000000000009995", "4000000000000069", "4000000000000127", "4000000000000119",
		"4242424242424241", // fails Luhn
	}
	eachEnv(t, func(t *testing.T, e *env) {
		var responses bytes.Buffer
		keep := func(r response) { responses.Write(r.Body); responses.WriteString("\n") }
		for i, n := range numbers {
			id := e.createIntent(10000)
			key := fmt.Sprintf("pci-%d", i)
			// Twice: the second is a replay from the idempotency table.
			keep(e.confirm(id, n, "9731", 12, 2030, "Idempotency-Key", key))
			keep(e.confirm(id, n, "9731", 12, 2030, "Idempotency-Key", key))
			keep(e.confirm(id, n, "9731", 1, 2020)) // expired, or a 409
			keep(e.do("POST", "/v1/payment_intents/"+id+"/confirm", `{"card":{"number":`+n+`,"cvc":"9731"}}`))
			keep(e.do("POST", "/v1/payment_intents/"+id+"/confirm", `{"card":{"number":"`+n+`","cvv":"9731"}}`))
			keep(e.do("POST", "/v1/refunds", `{"payment_intent":"`+id+`","amount":100}`))
			keep(e.do("GET", "/v1/payment_intents/"+id, ""))
		}
		keep(e.do("GET", "/v1/events?limit=100", ""))

		dump := dumpTables(t, e)
		logs := e.logs.String()
		for _, place := range []struct{ name, text string }{{"database", dump}, {"logs", logs}, {"responses", responses.String()}} {
			for _, n := range numbers {
				if strings.Contains(place.text, n) {
					t.Errorf("the %s hold the card number %s", place.name, n)
				}
			}
			if strings.Contains(strings.ToLower(place.text), `"cvc"`) {
				t.Errorf("the %s hold something labelled cvc", place.name)
			}
		}
		// The scans looked at something: the cards' safe parts are there.
		if !strings.Contains(dump, "4242") || !strings.Contains(logs, `"card_last4":"4242"`) || !strings.Contains(dump, "idempotency") {
			t.Fatalf("the scans saw no card data at all; dump %d bytes, logs %d bytes", len(dump), len(logs))
		}
	})
}

// dumpTables renders every row of every table, all columns as text, with
// the table and column names.
func dumpTables(t *testing.T, e *env) string {
	t.Helper()
	query := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.IsPostgres(e.gdb) {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var tables []string
	if err := e.gdb.Raw(query).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if len(tables) < 5 {
		t.Fatalf("tables %v: expected the gateway's and the idempotency keys'", tables)
	}
	var out strings.Builder
	for _, table := range tables {
		rows, err := e.gdb.Raw(`SELECT * FROM ` + table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&out, "table %s %v\n", table, cols)
		for rows.Next() {
			values := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range values {
				ptrs[i] = &values[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&out, "%v\t", v)
			}
			out.WriteString("\n")
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.String()
}
