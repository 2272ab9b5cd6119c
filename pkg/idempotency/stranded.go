package idempotency

import (
	"context"
	"errors"
	"sync"
	"time"
)

// maxStranded bounds the claims remembered at once. Past it, expired ones
// are dropped, then new ones are not kept (their keys wait out the lease,
// as after a crash).
const maxStranded = 10_000

// strandedClaims are keys whose outcome this process could not write: the
// database stopped answering after the handler ran, so the key could be
// neither released (after an answer not to replay) nor completed (with the
// answer to replay). Left alone, the key stays in use until its lease ends
// (DefaultLease: a minute) and every retry meanwhile answers 409
// idempotency_key_in_use, though nothing is running. Remembered, the first
// retry that meets the key in use here finishes what was left, then goes on
// as if it had been written at the time: a replay of the stored answer, or
// a new run. A retry that lands on another replica, or after a crash, waits
// out the lease as before.
type strandedClaims struct {
	mu     sync.Mutex
	claims map[ID]stranded
}

type stranded struct {
	claim *Claim
	// resp is the answer to store; nil means the key is to be released.
	resp *Response
}

func (s *strandedClaims) add(c *Claim, resp *Response, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims == nil {
		s.claims = map[ID]stranded{}
	}
	if len(s.claims) >= maxStranded {
		for id, st := range s.claims {
			if !st.claim.until.After(now) {
				delete(s.claims, id)
			}
		}
	}
	if len(s.claims) < maxStranded {
		s.claims[c.id] = stranded{claim: c, resp: resp}
	}
}

// settle finishes the stranded claim on id, if there is one whose lease
// still runs, and reports whether the key may have changed (so Begin is
// worth calling again).
func (s *strandedClaims) settle(ctx context.Context, id ID, now time.Time) (bool, error) {
	s.mu.Lock()
	st, ok := s.claims[id]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if !st.claim.until.After(now) {
		s.forget(id, st.claim)
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
	s.forget(id, st.claim)
	return true, nil
}

func (s *strandedClaims) forget(id ID, c *Claim) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.claims[id]; ok && st.claim == c {
		delete(s.claims, id)
	}
}
