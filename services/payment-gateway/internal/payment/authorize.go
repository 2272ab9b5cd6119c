package payment

import "time"

// CodeCardDeclined is the Code of every Decline, and the problem code the API
// answers with (402).
const CodeCardDeclined = "card_declined"

// DeclineCode says why the issuer refused a card.
type DeclineCode string

// Decline codes the simulator produces, as real gateways name them.
const (
	DeclineGeneric           DeclineCode = "generic_decline"
	DeclineInsufficientFunds DeclineCode = "insufficient_funds"
	DeclineExpiredCard       DeclineCode = "expired_card"
	DeclineIncorrectCVC      DeclineCode = "incorrect_cvc"
	DeclineProcessingError   DeclineCode = "processing_error"
)

// Decline is the issuer's refusal of a valid card. It is an outcome, not an
// error: the request was fine, the card was not, and the intent can be
// confirmed again with another card. An intent keeps the last one as its
// last_payment_error.
type Decline struct {
	Code        string      // always CodeCardDeclined
	DeclineCode DeclineCode // the reason, for programs
	Message     string      // the reason, for the person paying
}

// newDecline fills in the message a real gateway shows for code.
func newDecline(code DeclineCode) *Decline {
	msg := "Your card was declined."
	switch code {
	case DeclineInsufficientFunds:
		msg = "Your card has insufficient funds."
	case DeclineExpiredCard:
		msg = "Your card has expired."
	case DeclineIncorrectCVC:
		msg = "Your card's security code is incorrect."
	case DeclineProcessingError:
		msg = "An error occurred while processing your card. Try again in a little bit."
	}
	return &Decline{Code: CodeCardDeclined, DeclineCode: code, Message: msg}
}

// Authorize plays the card issuer. It validates c (an error, as from
// ValidateCard, means the request was invalid), then declines a card whose
// expiry month is over, then answers for the documented test cards; any other
// valid card is approved. On approval the Decline is nil; the CardDetails are
// returned whenever the card was valid, declined or not, so that an intent can
// show which card failed.
//
// Test cards (any future expiry, any 3 or 4 digit CVC):
//
//	4242424242424242, 5555555555554444  approved
//	4000000000000002                    generic_decline
//	4000000000009995                    insufficient_funds
//	4000000000000069                    expired_card
//	4000000000000127                    incorrect_cvc
//	4000000000000119                    processing_error
func Authorize(c Card, now time.Time) (CardDetails, *Decline, error) {
	details, err := ValidateCard(c)
	if err != nil {
		return CardDetails{}, nil, err
	}
	if expired(details, now) {
		return details, newDecline(DeclineExpiredCard), nil
	}
	if code, declined := testCardDecline(c.Number); declined {
		return details, newDecline(code), nil
	}
	return details, nil, nil
}

// expired reports whether the card's expiry month is over at now. A card is
// good through the last day of the month printed on it, so the current month
// still passes. The month is judged in UTC, the gateway's single clock.
func expired(d CardDetails, now time.Time) bool {
	now = now.UTC()
	y, m := now.Year(), int(now.Month())
	return d.ExpYear < y || (d.ExpYear == y && d.ExpMonth < m)
}

// testCardDecline is the simulated issuer's answer for the test numbers that
// are refused. A switch rather than a map: it is a constant table.
func testCardDecline(number string) (DeclineCode, bool) {
	switch number {
	case "4000000000000002":
		return DeclineGeneric, true
	case "4000000000009995":
		return DeclineInsufficientFunds, true
	case "4000000000000069":
		return DeclineExpiredCard, true
	case "4000000000000127":
		return DeclineIncorrectCVC, true
	case "4000000000000119":
		return DeclineProcessingError, true
	}
	return "", false
}
