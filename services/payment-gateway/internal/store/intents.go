package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
)

// CreateIntent inserts a new intent, as payment.NewIntent made it. Creating
// an intent is not an event: nothing happened to any money yet.
func (s *Store) CreateIntent(ctx context.Context, in *payment.Intent) error {
	m, err := intentToModel(in)
	if err != nil {
		return fmt.Errorf("create intent: %w", err)
	}
	m.UpdatedAt = m.CreatedAt
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("create intent: %w", err)
	}
	return nil
}

// Intent returns the intent with id, or ErrIntentNotFound.
func (s *Store) Intent(ctx context.Context, id string) (*payment.Intent, error) {
	in, err := intentByID(s.db.WithContext(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("get intent: %w", err)
	}
	return in, nil
}

func intentByID(tx *gorm.DB, id string) (*payment.Intent, error) {
	var m intentModel
	err := tx.Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrIntentNotFound
	}
	if err != nil {
		return nil, err
	}
	return intentFromModel(m)
}

// SaveConfirmation writes the outcome of payment.Intent.Confirm (approved:
// the intent succeeded; declined: it keeps waiting with its
// last_payment_error) together with its event. It applies only if the
// intent is still requires_payment_method in the database: of two confirms
// racing, one charges the card and the other gets
// payment.ErrIntentNotConfirmable, whatever their interleaving.
func (s *Store) SaveConfirmation(ctx context.Context, in *payment.Intent, ev NewEvent, now time.Time) error {
	if err := s.applyTransition(ctx, in, ev, now, payment.ErrIntentNotConfirmable); err != nil {
		return fmt.Errorf("save confirmation: %w", err)
	}
	return nil
}

// SaveCancellation writes a canceled intent and its event, on the same
// condition as SaveConfirmation; a miss is payment.ErrIntentNotCancelable.
func (s *Store) SaveCancellation(ctx context.Context, in *payment.Intent, ev NewEvent, now time.Time) error {
	if err := s.applyTransition(ctx, in, ev, now, payment.ErrIntentNotCancelable); err != nil {
		return fmt.Errorf("save cancellation: %w", err)
	}
	return nil
}

// applyTransition writes the status, card and last decline of in, on the
// condition that the stored intent is still requires_payment_method (the
// only state confirm and cancel leave from), and inserts ev in the same
// transaction. When the condition fails, the intent moved on since it was
// read: the result is refused, wrapped with the status it has now, which is
// what a request arriving a moment later would have been told.
//
// Every mutable column is written, so the row is exactly the intent that
// ev shows. The other columns cannot change under it: amount, currency,
// description and metadata never do, and amount_refunded only once the
// intent succeeded. The one thing a race can overwrite is the card and
// decline of a declined confirm that landed between this request's read
// and its write; the decline keeps its own payment_failed event.
func (s *Store) applyTransition(ctx context.Context, in *payment.Intent, ev NewEvent, now time.Time, refused error) error {
	var m intentModel
	setCard(&m, in)
	now = dbTime(now)
	applied := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&intentModel{}).
			Where("id = ? AND status = ?", in.ID, string(payment.StatusRequiresPaymentMethod)).
			Updates(map[string]any{
				"status":             string(in.Status),
				"card_brand":         m.CardBrand,
				"card_last4":         m.CardLast4,
				"card_exp_month":     m.CardExpMonth,
				"card_exp_year":      m.CardExpYear,
				"error_code":         m.ErrorCode,
				"error_decline_code": m.ErrorDeclineCode,
				"error_message":      m.ErrorMessage,
				"updated_at":         now,
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		applied = true
		return insertEvent(tx, ev, now)
	})
	if err != nil || applied {
		return err
	}
	current, err := intentByID(s.db.WithContext(ctx), in.ID)
	if err != nil {
		return err
	}
	return fmt.Errorf("%s intent: %w", current.Status, refused)
}

// SaveRefund records r, adds its amount to the intent's amount_refunded and
// inserts ev, in one transaction. The limit is enforced by the UPDATE
// itself (the intent succeeded, and the running total stays within the
// amount), never by a read followed by a write, so refunds racing on one
// intent can never add up to more than its amount. When the update misses,
// the intent is read again and the domain's own Refund rule explains why
// (payment.ErrRefundExceedsAmount with the amount that remains, or
// payment.ErrIntentNotRefundable once nothing does).
func (s *Store) SaveRefund(ctx context.Context, r payment.Refund, ev NewEvent, now time.Time) error {
	now = dbTime(now)
	applied := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE payment_intents SET amount_refunded = amount_refunded + ?, updated_at = ?
			WHERE id = ? AND status = ? AND amount_refunded + ? <= amount`,
			r.Amount, now, r.PaymentIntentID, string(payment.StatusSucceeded), r.Amount)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		applied = true
		m := refundModel{
			ID:              r.ID,
			PaymentIntentID: r.PaymentIntentID,
			Amount:          r.Amount,
			Currency:        r.Currency,
			Status:          r.Status,
			CreatedAt:       dbTime(r.CreatedAt),
		}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		return insertEvent(tx, ev, now)
	})
	if err != nil {
		return fmt.Errorf("save refund: %w", err)
	}
	if applied {
		return nil
	}
	current, err := intentByID(s.db.WithContext(ctx), r.PaymentIntentID)
	if err != nil {
		return fmt.Errorf("save refund: %w", err)
	}
	amount := r.Amount
	if _, err := current.Refund(r.ID, &amount, now); err != nil {
		return fmt.Errorf("save refund: %w", err)
	}
	// Refunds only ever add up, so what failed a moment ago cannot pass
	// now; should it, the answer is still the conservative one.
	return fmt.Errorf("save refund: %w", payment.ErrRefundExceedsAmount)
}
