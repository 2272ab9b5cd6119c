#!/usr/bin/env bash
# One database and one login role per service (DESIGN section 1: each service
# owns its data, and no service can read another's). The postgres image runs
# this once, on an empty data directory, as POSTGRES_USER on a server that
# only listens on its socket; it is executed, or sourced when not executable.
#
# Passwords come from the container's environment (docker-compose.yml passes
# CATALOG_DB_PASSWORD, BOOKING_DB_PASSWORD and PAYMENT_DB_PASSWORD). psql
# variables quote them, so any character is safe here; in the services'
# DATABASE_URL, though, a password must be URL-encoded.

create_service_database() {
	local name=$1 password=$2
	if [[ -z ${password} ]]; then
		echo "10-service-databases.sh: no password for ${name}" >&2
		return 1
	fi
	# The role owns its database, hence the public schema in it; PUBLIC
	# loses the right to connect, so the other services' roles cannot.
	psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname "${POSTGRES_DB}" --no-psqlrc \
		--set name="${name}" --set password="${password}" <<-'SQL'
		CREATE ROLE :"name" LOGIN PASSWORD :'password';
		CREATE DATABASE :"name" OWNER :"name";
		REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
	SQL
	echo "10-service-databases.sh: database and role ${name} created"
}

create_service_database catalog "${CATALOG_DB_PASSWORD:-}" &&
	create_service_database booking "${BOOKING_DB_PASSWORD:-}" &&
	create_service_database payment "${PAYMENT_DB_PASSWORD:-}"
