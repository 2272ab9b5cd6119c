package flow

import (
	"strconv"

	"github.com/google/uuid"
)

// Idempotency keys sent to the gateway. Each is derived from the booking,
// never random, so that a retry after a crash or a lost answer (by this
// replica or another) sends the same key and the gateway answers it with the
// first outcome instead of acting twice.

// intentKey: one intent per booking, however often payment is tried.
func intentKey(id uuid.UUID) string { return "booking:" + id.String() + ":intent" }

// confirmKey: one key per payment attempt. Retrying an attempt (the gateway
// timed out) reuses it; after a decline the attempt number moves on, so a
// new card gets a new charge instead of the stored decline.
func confirmKey(id uuid.UUID, attempt int) string {
	return "booking:" + id.String() + ":confirm:" + strconv.Itoa(attempt)
}

// refundKey: at most one refund per booking; it refunds the whole amount.
func refundKey(id uuid.UUID) string { return "booking:" + id.String() + ":refund" }
