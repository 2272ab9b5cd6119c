#!/usr/bin/env bash
# Checks the container machinery of this machine before the real services are
# built, so that a failure names the machine, not a service:
#   build     docker buildx build of .ci/smoke FROM the local Go stand-in: the
#             base resolves from the engine's image store (no pull), and a RUN
#             step downloads a module through the Go module proxy.
#   postgres  the PostgreSQL stand-in: password, an init script that creates a
#             second user and database, a psql login from the host as that
#             user, a wrong password refused, docker stop exiting 0, and a
#             restart on the same data skipping initialisation.
#   compose   docker compose (v2) against this engine: build, health checks,
#             depends_on service_healthy, service-name DNS, hardening options,
#             a clean stop.
# Run:    bash .ci/lib/smoke.sh [build|postgres|compose]...   (default: all three)
# Source: smoke_build, smoke_postgres, smoke_compose (after docker_plugins and
#         standin_images).
set -euo pipefail

SMOKE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SMOKE_DIR="${SMOKE_LIB_DIR}/../smoke"
# shellcheck source-path=SCRIPTDIR
source "${SMOKE_LIB_DIR}/common.sh"

smoke_build() {
	# --pull=false is the default; said here because the point is that the
	# FROM image must come from the engine's store. GOPROXY is the host's, so a
	# machine with its own module mirror uses it inside builds too.
	docker buildx build --progress=plain \
		--build-arg "GO_IMAGE=${GO_IMAGE:?}" --build-arg "GOPROXY=$(go env GOPROXY)" \
		--tag tourism-ci/smoke:build "${SMOKE_DIR}" 2>&1 | sed 's/^/    /' >&2
	docker run --rm tourism-ci/smoke:build -probe http://127.0.0.1:1 >/dev/null 2>&1 &&
		ci_die "smoke image: the probe of a closed port succeeded"
	ci_log "smoke image: $(docker image inspect --format '{{.Size}} bytes, user {{.Config.User}}' tourism-ci/smoke:build)"
}

# smoke_wait_healthy NAME [SECONDS]: wait for a container's health check.
smoke_wait_healthy() {
	local name=$1 deadline=$((SECONDS + ${2:-60})) status
	while ((SECONDS < deadline)); do
		status=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "${name}")
		case ${status} in
		healthy) return 0 ;;
		exited | dead) break ;;
		esac
		sleep 0.5
	done
	docker logs "${name}" >&2 || true
	ci_die "${name}: not healthy (${status})"
}

# smoke_stop_ok NAME: docker stop, and the process must exit 0 by itself
# (137 would mean docker had to kill it).
smoke_stop_ok() {
	local code
	docker stop --time 20 "$1" >/dev/null
	code=$(docker inspect --format '{{.State.ExitCode}}' "$1")
	[[ ${code} == 0 ]] || {
		docker logs --tail 20 "$1" >&2
		ci_die "$1: exit code ${code} after docker stop"
	}
	ci_log "$1: stopped with exit code 0"
}

smoke_postgres() {
	command -v psql >/dev/null || ci_apt_install postgresql-client
	# Named per run: other runs may be smoke-testing at the same time.
	local work name="tourism-ci-smoke-pg-$$" port
	work=$(mktemp -d)
	ci_on_exit "docker rm -f -v '${name}' >/dev/null 2>&1 || true; rm -rf '${work}'"

	# One script of each kind: an executable .sh (run) and a .sql (fed to psql).
	mkdir -p "${work}/initdb"
	cat >"${work}/initdb/10-app.sh" <<-'EOF'
		#!/bin/bash
		set -euo pipefail
		psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-EOSQL
			CREATE ROLE smoke_app LOGIN PASSWORD 'smoke-app-password';
			CREATE DATABASE smoke_app OWNER smoke_app;
		EOSQL
	EOF
	chmod 0755 "${work}/initdb/10-app.sh"
	printf 'CREATE TABLE init_marker (n int);\nINSERT INTO init_marker VALUES (1);\n' >"${work}/initdb/20-marker.sql"
	# The health check compose will use.
	docker run -d --name "${name}" -p 127.0.0.1::5432 \
		-e POSTGRES_PASSWORD=smoke-admin-password -e POSTGRES_DB=smoke \
		-v "${work}/initdb:/docker-entrypoint-initdb.d:ro" \
		--health-cmd 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' \
		--health-interval 1s --health-retries 60 \
		"${POSTGRES_IMAGE:?}" >/dev/null
	smoke_wait_healthy "${name}" 60
	port=$(docker port "${name}" 5432/tcp)
	port=${port%%$'\n'*}
	port=${port##*:}

	local who
	who=$(PGPASSWORD=smoke-app-password psql -h 127.0.0.1 -p "${port}" -U smoke_app -d smoke_app \
		-Atc "SELECT current_user || '@' || current_database()")
	[[ ${who} == smoke_app@smoke_app ]] || ci_die "postgres: login as the init script's user gave '${who}'"
	ci_log "postgres: host psql login as the init script's role: ${who}"
	[[ $(PGPASSWORD=smoke-admin-password psql -h 127.0.0.1 -p "${port}" -U postgres -d smoke \
		-Atc 'SELECT n FROM init_marker') == 1 ]] || ci_die "postgres: the .sql init script did not run"
	if PGPASSWORD=wrong psql -h 127.0.0.1 -p "${port}" -U smoke_app -d smoke_app -c 'SELECT 1' >/dev/null 2>&1; then
		ci_die "postgres: a wrong password was accepted"
	fi
	local method
	method=$(docker exec "${name}" sh -c 'tail -n 1 "$PGDATA/pg_hba.conf"')
	ci_log "postgres: remote hosts: '${method}'; wrong password refused"

	smoke_stop_ok "${name}"
	# Same data again: the init scripts must not run twice.
	docker start "${name}" >/dev/null
	smoke_wait_healthy "${name}" 60
	# Not `docker logs | grep -q`: under pipefail, grep stopping at its
	# match fails the pipe (SIGPIPE) and a skip would read as missing.
	grep -q 'skipping initialisation' <<<"$(docker logs "${name}" 2>&1)" ||
		ci_die "postgres: a restart on existing data did not skip initialisation"
	ci_log "postgres: restart on existing data skipped initialisation"
	smoke_stop_ok "${name}"
	docker rm -v "${name}" >/dev/null
}

smoke_compose() {
	# A project per run: other runs may be smoke-testing at the same time.
	local project=(docker compose --project-name "tourism-ci-smoke-$$"
		--project-directory "${SMOKE_DIR}" --file "${SMOKE_DIR}/compose.yaml")
	ci_on_exit "$(printf '%q ' "${project[@]}") down --volumes --timeout 5 >/dev/null 2>&1 || true"
	GOPROXY=$(go env GOPROXY) "${project[@]}" up --detach --build --wait --wait-timeout 120 2>&1 |
		sed 's/^/    /' >&2
	local addr body
	addr=$("${project[@]}" port app 8080)
	body=$(curl -fsS "http://${addr}/db") || ci_die "compose: GET /db on ${addr} failed"
	ci_log "compose: app on ${addr} says: ${body}"
	"${project[@]}" ps --format '    {{.Name}}  {{.Status}}' >&2
	"${project[@]}" stop --timeout 20 >/dev/null 2>&1
	local id code
	for id in $("${project[@]}" ps --all --quiet); do
		code=$(docker inspect --format '{{.Name}} {{.State.ExitCode}}' "${id}")
		[[ ${code##* } == 0 ]] || ci_die "compose: ${code% *} exited ${code##* } on stop"
	done
	ci_log "compose: every container stopped with exit code 0"
	"${project[@]}" down --volumes --timeout 5 >/dev/null 2>&1
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	# shellcheck source-path=SCRIPTDIR
	source "${SMOKE_LIB_DIR}/docker-plugins.sh"
	# shellcheck source-path=SCRIPTDIR
	source "${SMOKE_LIB_DIR}/standin-images.sh"
	ci_on_exit ci_timing_summary
	docker_plugins
	standin_images
	checks=("$@")
	((${#checks[@]})) || checks=(build postgres compose)
	for check in "${checks[@]}"; do
		ci_step "smoke: ${check}" "smoke_${check}"
	done
fi
