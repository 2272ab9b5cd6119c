package webhook_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tourism-go/tourism/pkg/webhook"
)

// The gateway signs the exact bytes it is about to send, with every secret it
// is configured with (WEBHOOK_SECRET="old,new" during a rotation).
func ExampleSign() {
	secrets := webhook.ParseSecrets("whsec_old,whsec_new")
	body := []byte(`{"id":"evt_1","type":"payment_intent.succeeded"}`)
	header := webhook.Sign(body, time.Unix(1767225600, 0), secrets...)

	// One line in the request; split here to show its parts.
	fmt.Println(webhook.Header + ":")
	for part := range strings.SplitSeq(header, ",") {
		fmt.Println("  " + part)
	}
	// Output:
	// Gateway-Signature:
	//   t=1767225600
	//   v1=48e8ba1b50e69c647035638bfe045d430dcf61c4b0dedd7222bdb8f6867d30dd
	//   v1=6c331e56c91627b5ca0c8af3cbe74f4c058d384263479aa225270d81cf1084c2
}

// A receiver reads the raw body (bounded), verifies it, and only then decodes
// JSON: decoding first would invite acting on a forged event, and re-encoding
// would not reproduce the signed bytes. Every failure is a 401; the error
// value goes to the log, not to the caller.
func ExampleVerifier_Verify() {
	secret := "whsec_new"
	verifier := webhook.Verifier{
		// Accept the old and the new secret while the gateway rotates.
		Secrets: webhook.ParseSecrets("whsec_old," + secret),
		// Tolerance left zero: five minutes, as the contract says.
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	receive := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := verifier.Verify(r.Header.Get(webhook.Header), body); err != nil {
			logger.Warn("webhook refused", "err", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Now it is safe to json.Unmarshal(body, &event) and act on it.
		w.WriteHeader(http.StatusNoContent)
	})

	send := func(body, header string) int {
		req := httptest.NewRequest(http.MethodPost, "/v1/webhooks/payments", strings.NewReader(body))
		if header != "" {
			req.Header.Set(webhook.Header, header)
		}
		rec := httptest.NewRecorder()
		receive.ServeHTTP(rec, req)
		return rec.Code
	}

	body := `{"id":"evt_1","type":"payment_intent.succeeded"}`
	fresh := webhook.Sign([]byte(body), time.Now(), []byte(secret))
	replayed := webhook.Sign([]byte(body), time.Now().Add(-time.Hour), []byte(secret))

	fmt.Println("genuine:", send(body, fresh))
	fmt.Println("no header:", send(body, ""))
	fmt.Println("body changed:", send(strings.Replace(body, "succeeded", "canceled", 1), fresh))
	fmt.Println("an hour old:", send(body, replayed))

	// The error values tell the log why.
	err := verifier.Verify(replayed, []byte(body))
	fmt.Println(errors.Is(err, webhook.ErrStaleSignature))
	// Output:
	// genuine: 204
	// no header: 401
	// body changed: 401
	// an hour old: 401
	// true
}
