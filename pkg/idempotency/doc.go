// Package idempotency implements the Idempotency-Key protocol of DESIGN §2
// for booking and payment-gateway: a client may repeat a state-changing POST
// with the same key and get the first answer again instead of a second
// booking or a second charge.
//
// Keys live in the service's own database (table idempotency_keys), scoped
// by caller (Options.Scope), method and route pattern, so the same key on two
// endpoints or from two merchants never collides. A request's content is
// identified by Fingerprint: SHA-256 of method, concrete path and raw body.
//
// For a request with a key:
//
//   - first use: the handler runs and its response (status, body,
//     Content-Type, Location) is stored, unless it is an answer a corrected
//     retry could change (400, 401, 403, 408, 413, 415, 422, 429, 499, 5xx):
//     then the key is released and the retry runs the handler again;
//   - same key, same content, completed: the stored response is replayed
//     with Idempotent-Replayed: true;
//   - same key, other content: 422 idempotency_key_reused;
//   - same key while the first request runs: 409 idempotency_key_in_use
//     (Retry-After: 1); once its lease (DefaultLease) has expired the first
//     worker is presumed dead and the next request takes the key over;
//   - a key whose outcome could not be written (the database stopped
//     answering after the handler ran) is written by the first retry that
//     meets it in use in the same process, which then gets the replay or
//     the new run it would have had, instead of waiting out the lease.
//
// A service wires it in three lines, passing Model() to db.Migrate with its
// own models and purging old keys from a worker:
//
//	err := db.Migrate(ctx, gdb, append([]any{&bookingRow{}}, idempotency.Models()...))
//	keys := idempotency.NewStore(gdb)
//	r.POST("/v1/bookings", idempotency.New(keys, idempotency.Options{Log: log}).Handler(idempotency.Optional), h.create)
//
//	f.Go(func(ctx context.Context) {
//		worker.Every(ctx, log, "idempotency-purge", time.Hour, func(ctx context.Context) error {
//			_, err := keys.Purge(ctx, 24*time.Hour)
//			return err
//		})
//	})
//
// Code that is not an HTTP handler (a webhook consumer, a job) uses the
// same store directly: Store.Begin, then Claim.Complete or Claim.Release.
package idempotency
