// Package peers implements the flow's Catalog and Payments interfaces over
// HTTP with pkg/httpclient, which brings the timeouts, the bounded retries
// of calls marked safe to repeat, and X-Request-ID propagation. This package
// adds the wire formats of DESIGN §3 and §5 and turns the peers' answers
// into the errors the flow decides on. Unconfigured stands in for a peer
// booking holds no credential for.
package peers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/tourism-go/tourism/pkg/httpclient"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
)

// moneyJSON is money on the wire.
type moneyJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func (m moneyJSON) domain() booking.Money {
	return booking.Money{Amount: m.Amount, Currency: m.Currency}
}

// translate turns what httpclient returns into the flow's errors: no usable
// answer (including a server error that survived the retries) into the
// upstream errors, a 404 into flow.ErrPeerNotFound, and a refusal whose code
// the flow acts on into the matching error from codes. Anything else is
// returned as it is, a *httpclient.StatusError that the API logs and answers
// with 500: a 401 there means booking's own credentials are wrong.
func translate(what string, err error, codes map[string]error) error {
	var se *httpclient.StatusError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, httpclient.ErrTimeout):
		return fmt.Errorf("%s: %w: %w", what, booking.ErrUpstreamTimeout, err)
	case errors.Is(err, httpclient.ErrUnavailable):
		return fmt.Errorf("%s: %w: %w", what, booking.ErrUpstreamUnavailable, err)
	case !errors.As(err, &se):
		return fmt.Errorf("%s: %w", what, err)
	case se.Status >= http.StatusInternalServerError:
		return fmt.Errorf("%s: %w: %w", what, booking.ErrUpstreamUnavailable, err)
	case se.Status == http.StatusNotFound && se.Code == "not_found":
		return fmt.Errorf("%s: %w", what, flow.ErrPeerNotFound)
	}
	if mapped, ok := codes[se.Code]; ok {
		return fmt.Errorf("%s: %w", what, mapped)
	}
	return fmt.Errorf("%s: %w", what, err)
}
