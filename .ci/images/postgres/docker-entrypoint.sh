#!/usr/bin/env bash
# Entry point of the CI stand-in for the official postgres image. It keeps the
# behaviour compose files and init scripts rely on:
#   - POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#     POSTGRES_USER (default postgres), POSTGRES_DB (default $POSTGRES_USER),
#     POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, and *_FILE variants of
#     the first three for docker secrets; PGDATA (default in the image).
#   - On an empty PGDATA only: initdb, then a socket-only temporary server on
#     which POSTGRES_DB is created and /docker-entrypoint-initdb.d/* runs in
#     name order (*.sh executable: run, otherwise sourced; *.sql, *.sql.gz,
#     *.sql.xz: fed to psql as POSTGRES_USER with ON_ERROR_STOP).
#   - Remote hosts authenticate with a password (scram-sha-256); local socket
#     connections inside the container are trusted, as initdb sets them up.
#   - The server is exec'ed, so postgres is PID 1 and gets docker stop's signal.
set -Eeuo pipefail

log() { printf 'entrypoint: %s\n' "$*" >&2; }

# read_env VAR [DEFAULT]: VAR, or the content of the file named by VAR_FILE.
read_env() {
	local var=$1 file_var="$1_FILE" default=${2:-}
	if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
		log "both ${var} and ${file_var} are set; use one"
		exit 1
	fi
	local value=${default}
	if [[ -n ${!var:-} ]]; then
		value=${!var}
	elif [[ -n ${!file_var:-} ]]; then
		value=$(<"${!file_var}")
	fi
	export "${var}=${value}"
	unset "${file_var}"
}

# Options that make postgres print something and exit need no data directory.
wants_info_only() {
	local arg
	for arg; do
		case ${arg} in
		-'?' | --help | --describe-config | -V | --version) return 0 ;;
		esac
	done
	return 1
}

prepare_directories() {
	mkdir -p "${PGDATA}" /var/run/postgresql
	# postgres refuses a data directory that others can read.
	chmod 0700 "${PGDATA}" || true
	chmod 03775 /var/run/postgresql || true
	if [[ $(id -u) == 0 ]]; then
		# A volume mounted over PGDATA arrives owned by root.
		find "${PGDATA}" /var/run/postgresql \! -user postgres -exec chown postgres: '{}' +
	fi
}

# psql_in DATABASE [ARGS...]: psql as POSTGRES_USER on the temporary server's
# socket (PGHOST is cleared: it could point elsewhere).
psql_in() {
	local db=$1
	shift
	PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" \
		--no-password --no-psqlrc --dbname "${db}" "$@"
}

initialise() {
	if [[ -z ${POSTGRES_PASSWORD} && ${POSTGRES_HOST_AUTH_METHOD} != trust ]]; then
		log "the database is not initialised and POSTGRES_PASSWORD is empty;"
		log "set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, not recommended)"
		exit 1
	fi

	log "initialising ${PGDATA}"
	# initdb ignores an empty password file, hence the trailing newline.
	# POSTGRES_INITDB_ARGS is split on purpose: it holds several options.
	# shellcheck disable=SC2086
	initdb --username="${POSTGRES_USER}" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD}") \
		${POSTGRES_INITDB_ARGS} "${@:2}"

	# Remote hosts use the server's password hashing (scram-sha-256 by default)
	# unless the caller chose another method.
	local method=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "${@:2}")}
	printf '\nhost all all all %s\n' "${method}" >>"${PGDATA}/pg_hba.conf"

	# Socket-only while the init scripts run, so no client sees a half-made
	# database. (Like the official image, the socket is already up: a health
	# check that must wait for the init scripts should use -h 127.0.0.1.)
	export PGPASSWORD=${PGPASSWORD:-${POSTGRES_PASSWORD}}
	PGUSER=${POSTGRES_USER} pg_ctl -D "${PGDATA}" -w start \
		-o "-c listen_addresses='' -p ${PGPORT:-5432}"

	local exists
	exists=$(psql_in postgres --tuples-only --set db="${POSTGRES_DB}" \
		<<<"SELECT 1 FROM pg_database WHERE datname = :'db';")
	if [[ -z ${exists//[[:space:]]/} ]]; then
		psql_in postgres --set db="${POSTGRES_DB}" <<<'CREATE DATABASE :"db";'
	fi

	local f
	for f in /docker-entrypoint-initdb.d/*; do
		[[ -e ${f} ]] || continue
		case ${f} in
		*.sh)
			if [[ -x ${f} ]]; then
				log "running ${f}"
				"${f}"
			else
				log "sourcing ${f}"
				# Init scripts are written for a shell without nounset.
				set +u
				# shellcheck disable=SC1090
				. "${f}"
				set -u
			fi
			;;
		*.sql) log "running ${f}" && psql_in "${POSTGRES_DB}" -f "${f}" ;;
		*.sql.gz) log "running ${f}" && gunzip -c "${f}" | psql_in "${POSTGRES_DB}" ;;
		*.sql.xz) log "running ${f}" && xzcat "${f}" | psql_in "${POSTGRES_DB}" ;;
		*) log "ignoring ${f}" ;;
		esac
	done

	PGUSER=${POSTGRES_USER} pg_ctl -D "${PGDATA}" -m fast -w stop
	unset PGPASSWORD
	log "initialisation complete"
}

main() {
	# "docker run image -c foo=bar" means: the server, with these options.
	if [[ ${1:-} == -* ]]; then
		set -- postgres "$@"
	fi

	if [[ ${1:-} == postgres ]] && ! wants_info_only "$@"; then
		read_env POSTGRES_PASSWORD
		read_env POSTGRES_USER postgres
		read_env POSTGRES_DB "${POSTGRES_USER}"
		read_env POSTGRES_INITDB_ARGS
		: "${POSTGRES_HOST_AUTH_METHOD:=}"

		prepare_directories
		if [[ $(id -u) == 0 ]]; then
			# Start again as postgres: initdb and the server refuse root.
			# setpriv execs in place, so no process stays behind as PID 1.
			exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
		fi

		if [[ -s ${PGDATA}/PG_VERSION ]]; then
			log "${PGDATA} holds a database; skipping initialisation"
		else
			initialise "$@"
		fi
	fi

	exec "$@"
}

main "$@"
