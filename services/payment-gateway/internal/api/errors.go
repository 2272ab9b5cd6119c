package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

// Problem codes of the gateway beyond DESIGN §2's shared ones.
const (
	// CodeIncorrectNumber: the card number fails the Luhn check (422).
	CodeIncorrectNumber = "incorrect_number"
	// CodeRefundExceedsAmount: a refund larger than what remains (422).
	CodeRefundExceedsAmount = "refund_exceeds_amount"
)

// newErrorMapper is the one place where the gateway's errors become HTTP
// answers (codes from DESIGN §2 and §5).
func newErrorMapper(log *slog.Logger) *problem.Mapper {
	return problem.NewMapper(log,
		problem.Rule{Err: store.ErrIntentNotFound, Status: http.StatusNotFound, Code: problem.CodeNotFound, Detail: "No payment intent has this id."},
		problem.Rule{Err: store.ErrEventNotFound, Status: http.StatusNotFound, Code: problem.CodeNotFound, Detail: "No event has this id."},
		problem.Rule{Err: payment.ErrIntentNotConfirmable, Status: http.StatusConflict, Code: problem.CodeConflict},
		problem.Rule{Err: payment.ErrIntentNotCancelable, Status: http.StatusConflict, Code: problem.CodeConflict},
		problem.Rule{Err: payment.ErrIntentNotRefundable, Status: http.StatusConflict, Code: problem.CodeConflict},
		db.UnavailableRule(),
	)
}

// fail answers err as a problem and ends the request.
//
// Two domain errors come joined with field problems and answer 422 under
// their own code rather than validation_failed, so that a client can tell
// "fix this field" from "this card number is mistyped" or "less is left
// to refund": the mapper alone would see the field problems first.
func (h *Handler) fail(c *gin.Context, err error) {
	if fields, ok := validate.Fields(err); ok {
		var code, detail string
		switch {
		case errors.Is(err, payment.ErrIncorrectNumber):
			code, detail = CodeIncorrectNumber, "The card number is incorrect."
		case errors.Is(err, payment.ErrRefundExceedsAmount):
			code, detail = CodeRefundExceedsAmount, "The refund exceeds the amount not yet refunded."
		}
		if code != "" {
			p := problem.Validation(fields)
			p.Code, p.Detail = code, detail
			problem.Write(c, p)
			return
		}
	}
	h.errors.Respond(c, err)
}
