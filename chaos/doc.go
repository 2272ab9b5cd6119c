// Package chaos breaks the compose stack on purpose and checks that the
// three services still keep their promises (DESIGN §4: no seat held without
// a live booking, no charge without a confirmed or refunded booking, no
// booking left unsettled).
//
// The tests are behind the build tag chaos, so `make test` never runs them:
// they need Docker, build the images, and take minutes. Run them with
// `make chaos`, which starts its own compose project (tourism-chaos: the
// repository's docker-compose.yml plus chaos/compose.chaos.yml, with a
// second booking replica, short timers and loopback-only ports), drives it
// with the docker CLI (kill -9, stop and start, network disconnect) and
// tears it down with its volumes at the end, even on failure.
//
// Each scenario is bounded in requests and time and ends with the same
// invariant check across the three services' APIs:
//
//   - A: for every departure used, seats_reserved equals the seats of its
//     live (awaiting_payment or confirmed) bookings, and is at most the
//     capacity;
//   - B: every succeeded charge belongs to a confirmed booking or is fully
//     refunded, and every confirmed booking is charged;
//   - C: no booking stays pending or awaiting_payment past its deadline
//     plus a margin (the crash lease and two sweeps).
//
// The results table goes to the test log and to
// bench/results/chaos-<date>.md; any violation fails the run.
//
// Environment: GO_IMAGE, POSTGRES_IMAGE, GOPROXY and TAG as for the compose
// file; CHAOS_PROJECT (the compose project, default tourism-chaos);
// CHAOS_REPORT (another path for the report); CHAOS_NO_BUILD=1 (use the
// images as they are); CHAOS_KEEP=1 (leave the project running, to look at
// it after a failure); CHAOS_BASE_FILE (another base compose file). One
// scenario alone: go test -tags chaos -run 'TestChaos/partition' ./chaos/.
// The invariant check itself, without Docker: -run TestCheck.
package chaos
