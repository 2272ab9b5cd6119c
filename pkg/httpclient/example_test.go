package httpclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tourism-go/tourism/pkg/httpclient"
)

// Booking confirms a payment at the gateway and turns each failure into
// its own answer.
func ExampleClient_Do() {
	gateway, err := httpclient.New(httpclient.Options{
		BaseURL:        "http://payment-gateway-service:3004",
		Token:          "sk_test_example",
		AttemptTimeout: 2 * time.Second,
		Deadline:       8 * time.Second,
	})
	if err != nil {
		fmt.Println("config:", err)
		return
	}
	var intent struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	_, err = gateway.Do(context.Background(), httpclient.Request{
		Method:         http.MethodPost,
		Path:           "/v1/payment_intents/pi_123/confirm",
		Body:           map[string]any{"card": map[string]any{"number": "4242424242424242"}},
		Out:            &intent,
		IdempotencyKey: "booking-b1-payment-1", // makes the call safe to retry
	})
	var se *httpclient.StatusError
	switch {
	case err == nil:
		fmt.Println("paid:", intent.Status)
	case errors.Is(err, httpclient.ErrUnavailable):
		fmt.Println("503 upstream_unavailable")
	case errors.As(err, &se) && se.Code == "card_declined":
		fmt.Println("402 card_declined:", se.Extension("decline_code"))
	default:
		fmt.Println("500:", err)
	}
}
