package idempotency

import (
	"context"
	"errors"
	"time"
)

// A stranded claim is a key whose outcome this process could not write: the
// database stopped answering after the handler ran, so the key could be
// neither released (after an answer not to replay) nor completed (with the
// answer to replay). Left alone, the key stays in use until its lease ends
// (DefaultLease: a minute) and every retry meanwhile answers 409
// idempotency_key_in_use, though nothing is running. Remembered (in
// Middleware.stranded, until the lease ends), the first retry that meets the
// key in use here finishes what was left, then goes on as if it had been
// written at the time: a replay of the stored answer, or a new run. A retry
// that lands on another replica, or after a crash, waits out the lease as
// before.
type stranded struct {
	claim *Claim
	// resp is the answer to store; nil means the key is to be released.
	resp *Response
}

// settleStranded finishes the stranded claim on id, if there is one whose
// lease still runs, and reports whether the key may have changed (so Begin
// is worth calling again).
func (m *Middleware) settleStranded(ctx context.Context, id ID, now time.Time) (bool, error) {
	st, ok := m.stranded.Get(id, now)
	if !ok {
		return false, nil
	}
	var err error
	if st.resp != nil {
		err = st.claim.Complete(ctx, *st.resp)
	} else {
		err = st.claim.Release(ctx)
	}
	if err != nil && !errors.Is(err, ErrLeaseLost) {
		return false, err
	}
	m.stranded.RemoveIf(id, func(s stranded) bool { return s.claim == st.claim })
	return true, nil
}
