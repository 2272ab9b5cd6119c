#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the test suites (`make test`):
# no container, so unit and integration tests need nothing but the Debian
# package. The cluster lives in a temporary directory, listens on 127.0.0.1 on
# a free port, and is gone after pg_native_stop. Its role may CREATE DATABASE,
# because the tests create a fresh database per test.
#
# Run:    bash .ci/lib/postgres-native.sh run CMD...   CMD with TEST_DATABASE_URL set; stops after
#         eval "$(bash .ci/lib/postgres-native.sh start)"   leaves it running; prints the exports
#         bash .ci/lib/postgres-native.sh stop [DIR]         stops the one started (DIR or $PG_NATIVE_DIR)
# Source: pg_native_start exports TEST_DATABASE_URL and PG_NATIVE_DIR and stops
#         the cluster when the shell exits; pg_native_stop stops it earlier.
set -euo pipefail

PG_NATIVE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "${PG_NATIVE_LIB_DIR}/common.sh"

PG_NATIVE_ROLE="tourism_test"

# The newest installed server's bin directory (initdb and pg_ctl are not on
# PATH in Debian: they live per major version).
pg_native_bindir() {
	local dir
	dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n ${dir} && -x ${dir}/initdb && -x ${dir}/pg_ctl ]] && printf '%s\n' "${dir}"
}

pg_native_install() {
	pg_native_bindir >/dev/null && return 0
	ci_log "PostgreSQL server not installed; installing the distribution's"
	ci_apt_install postgresql-common
	# Installing the server would otherwise create and start a system cluster
	# on port 5432, which CI does not use and a compose file may publish.
	ci_as_root sed -ri 's/^#?\s*(create_main_cluster)\s*=.*/\1 = false/' \
		/etc/postgresql-common/createcluster.conf
	ci_apt_install postgresql
	pg_native_bindir >/dev/null || ci_die "no initdb under /usr/lib/postgresql/*/bin after installing"
}

# as the cluster's owner: initdb and postgres refuse to run as root.
pg_native_as_owner() {
	if [[ ${EUID} -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_native_free_port() {
	local port
	for _ in $(seq 50); do
		port=$(shuf -i 20000-60999 -n 1)
		# A refused connection means nobody listens there.
		if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
			printf '%s\n' "${port}"
			return 0
		fi
	done
	ci_die "no free port found on 127.0.0.1"
}

pg_native_start() {
	pg_native_install
	local bin dir port password
	bin=$(pg_native_bindir)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tourism-pg.XXXXXX")
	export PG_NATIVE_DIR=${dir}
	ci_on_exit pg_native_stop
	[[ ${EUID} -ne 0 ]] || chown postgres: "${dir}"

	ci_log "native PostgreSQL: initdb in ${dir} ($("${bin}/postgres" --version))"
	# C collation: deterministic ordering, the same as SQLite's.
	pg_native_as_owner "${bin}/initdb" --pgdata="${dir}/data" --username=postgres \
		--auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-locale \
		>"${dir}/initdb.log" 2>&1 || {
		cat "${dir}/initdb.log" >&2
		ci_die "initdb failed"
	}
	# A throwaway cluster: durability buys nothing and costs test time. The
	# socket goes in the temporary directory, not the system's.
	cat >>"${dir}/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '${dir}'
		max_connections = 200
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	EOF

	# The port is free when chosen; another process could take it before the
	# server binds, so a failed start tries another one.
	local attempt
	for attempt in 1 2 3; do
		port=$(pg_native_free_port)
		if pg_native_as_owner "${bin}/pg_ctl" --pgdata="${dir}/data" --log="${dir}/server.log" \
			--wait --timeout=60 --options="-p ${port}" start >/dev/null; then
			break
		fi
		((attempt < 3)) || {
			tail -n 20 "${dir}/server.log" >&2
			ci_die "PostgreSQL did not start"
		}
	done
	printf '%s\n' "${port}" >"${dir}/port"

	password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	pg_native_as_owner "${bin}/psql" --host="${dir}" --port="${port}" --username=postgres \
		--dbname=postgres --no-psqlrc --quiet -v ON_ERROR_STOP=1 \
		-v role="${PG_NATIVE_ROLE}" -v password="${password}" <<-'EOF'
			CREATE ROLE :"role" LOGIN CREATEDB PASSWORD :'password';
			CREATE DATABASE :"role" OWNER :"role";
		EOF
	export TEST_DATABASE_URL="postgres://${PG_NATIVE_ROLE}:${password}@127.0.0.1:${port}/${PG_NATIVE_ROLE}?sslmode=disable"
	printf 'export TEST_DATABASE_URL=%q\nexport PG_NATIVE_DIR=%q\n' \
		"${TEST_DATABASE_URL}" "${PG_NATIVE_DIR}" >"${dir}/env"
	ci_log "native PostgreSQL: listening on 127.0.0.1:${port}, role ${PG_NATIVE_ROLE} (CREATEDB)"
}

# pg_native_stop [DIR]: fast shutdown (ends sessions), then the directory goes.
pg_native_stop() {
	local dir=${1:-${PG_NATIVE_DIR:-}} bin
	[[ -n ${dir} && -d ${dir} ]] || return 0
	bin=$(pg_native_bindir) || true
	if [[ -n ${bin} && -f ${dir}/data/postmaster.pid ]]; then
		pg_native_as_owner "${bin}/pg_ctl" --pgdata="${dir}/data" --mode=fast --wait stop >/dev/null ||
			ci_warn "pg_ctl stop failed for ${dir}"
	fi
	rm -rf "${dir}"
	[[ ${dir} != "${PG_NATIVE_DIR:-}" ]] || unset PG_NATIVE_DIR TEST_DATABASE_URL
	ci_log "native PostgreSQL: stopped and removed ${dir}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	case ${1:-} in
	run)
		shift
		(($#)) || ci_die "usage: $0 run CMD..."
		pg_native_start
		"$@"
		;;
	start)
		pg_native_start
		# Left running for the caller, who stops it with `stop`.
		ci_cancel_exit_hooks
		cat "${PG_NATIVE_DIR}/env"
		;;
	stop)
		pg_native_stop "${2:-}"
		;;
	*) ci_die "usage: $0 run CMD... | start | stop [DIR]" ;;
	esac
fi
