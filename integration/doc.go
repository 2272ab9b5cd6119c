// Package integration tests the three services together: booking wired to
// the real tour-catalog and payment-gateway over loopback HTTP, all started
// in this process with their own Run functions and fresh databases, on
// SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
//
// StartStack (stack.go) starts them for one test. The only fakes are the
// FaultProxy reverse proxies (proxy.go) between booking and its peers and
// between the gateway and booking's webhook endpoint: they pass every
// request to the real service until a test tells them to fail some. After
// each scenario, CheckInvariants (invariants.go) asserts DESIGN §4's
// promise from what the services themselves report: seats held equal the
// seats of live bookings, and every charge belongs to a confirmed booking
// or was refunded.
package integration
