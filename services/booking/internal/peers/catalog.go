package peers

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/httpclient"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
)

// Catalog is tour-catalog over HTTP. Its client carries the service token.
type Catalog struct {
	client *httpclient.Client
}

// NewCatalog returns the catalog behind client.
func NewCatalog(client *httpclient.Client) *Catalog { return &Catalog{client: client} }

var _ flow.Catalog = (*Catalog)(nil)

// catalogCodes are the catalog's refusals the flow acts on (DESIGN §3).
var catalogCodes = map[string]error{
	"seats_unavailable": booking.ErrSeatsUnavailable,
	"departure_closed":  booking.ErrDepartureClosed,
	"tour_archived":     booking.ErrDepartureClosed,
	"hold_expired":      flow.ErrHoldGone,
	"hold_released":     flow.ErrHoldGone,
}

type departureJSON struct {
	ID     uuid.UUID `json:"id"`
	TourID uuid.UUID `json:"tour_id"`
}

type holdRequestJSON struct {
	BookingID  uuid.UUID `json:"booking_id"`
	Seats      int       `json:"seats"`
	TTLSeconds int       `json:"ttl_seconds"`
}

type holdJSON struct {
	ID        uuid.UUID `json:"id"`
	UnitPrice moneyJSON `json:"unit_price"`
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Departure implements flow.Catalog.
func (c *Catalog) Departure(ctx context.Context, id uuid.UUID) (flow.Departure, error) {
	var out departureJSON
	_, err := c.client.Do(ctx, httpclient.Request{Path: "/v1/departures/" + id.String(), Out: &out})
	if err != nil {
		return flow.Departure{}, translate("read departure", err, catalogCodes)
	}
	return flow.Departure{ID: out.ID, TourID: out.TourID}, nil
}

// PlaceHold implements flow.Catalog. The catalog answers a repeated
// booking_id with the booking's existing hold, so the call is marked safe
// to retry.
func (c *Catalog) PlaceHold(ctx context.Context, departureID uuid.UUID, r flow.HoldRequest) (flow.Hold, error) {
	var out holdJSON
	_, err := c.client.Do(ctx, httpclient.Request{
		Method:     http.MethodPost,
		Path:       "/v1/departures/" + departureID.String() + "/holds",
		Body:       holdRequestJSON{BookingID: r.BookingID, Seats: r.Seats, TTLSeconds: int(r.TTL / time.Second)},
		Out:        &out,
		Idempotent: true,
	})
	if err != nil {
		return flow.Hold{}, translate("place hold", err, catalogCodes)
	}
	return flow.Hold{ID: out.ID, UnitPrice: out.UnitPrice.domain(), Status: out.Status, ExpiresAt: out.ExpiresAt}, nil
}

// ConfirmHold implements flow.Catalog. Confirming a confirmed hold is a
// success at the catalog, so a retry is safe.
func (c *Catalog) ConfirmHold(ctx context.Context, holdID uuid.UUID) error {
	_, err := c.client.Do(ctx, httpclient.Request{
		Method: http.MethodPost, Path: "/v1/holds/" + holdID.String() + "/confirm", Idempotent: true,
	})
	return translate("confirm hold", err, catalogCodes)
}

// ReleaseHold implements flow.Catalog. The catalog releases a hold once and
// answers repeats with 200, so a retry is safe.
func (c *Catalog) ReleaseHold(ctx context.Context, holdID uuid.UUID) error {
	_, err := c.client.Do(ctx, httpclient.Request{
		Method: http.MethodPost, Path: "/v1/holds/" + holdID.String() + "/release", Idempotent: true,
	})
	return translate("release hold", err, catalogCodes)
}
