// Package e2e tests the application as a customer sees it: the three
// services in their images, started by docker compose with PostgreSQL, and
// reached only through their published ports on 127.0.0.1. Nothing of the
// services' code is imported; the suite speaks HTTP and JSON, as the
// contract in DESIGN sections 3 to 5 says.
//
// The tests are behind the build tag e2e, so `make test` never runs them:
// they need a running stack. `make e2e` builds the images, starts its own
// compose project (docker-compose.yml with e2e/compose.e2e.yml: its own
// container names, random loopback ports and known secrets), runs
//
//	go test -tags e2e -count=1 ./e2e/...
//
// with E2E_CATALOG_URL, E2E_BOOKING_URL and E2E_GATEWAY_URL set to those
// ports, and removes the project with its volumes afterwards, even when a
// test fails. Against a stack of your own (make up), set the three URLs
// (default http://127.0.0.1:3001, :3002, :3004) and E2E_PAYMENT_API_KEY and
// E2E_CATALOG_ADMIN_TOKEN to its secrets.
//
// What it checks: browsing the demo tours; booking a departure and paying
// with 4242 4242 4242 4242 (confirmed, and the gateway's webhook delivered
// to booking); a declined card (402, the booking still payable, then paid);
// a cancellation with refund (cancelled, refunded at the gateway, seats
// back); and after each scenario the seats invariant of DESIGN section 3: a
// departure's seats_reserved equals the seats of the live bookings on it.
package e2e
