#!/usr/bin/env bash
# Checks the three service images against DESIGN section 6 and the lesson:
#
#   shape    the three Dockerfiles are one shape: the same once the service's
#            name and port are replaced, but for the description and the
#            run-time defaults
#   context  each build context (services/<name>/Dockerfile.dockerignore)
#            holds pkg/ and that service's sources only: no .env, no local
#            database, no test file, no other service; built with a canary
#            .env present (at the root and in each service) when none exists
#   images   the images, built again with the canaries present: at most
#            IMAGE_MAX_MB; a numeric non-root user; a HEALTHCHECK running the
#            binary; EXPOSE of its port; the OCI labels; files limited to the
#            binary, CA certificates and /data (so no shell); no .env, no
#            canary and no secret of the compose files in any layer, in
#            `docker history --no-trunc` or in `docker inspect`
#   run      each image started as the lesson does (a bare `docker run`), on
#            a random loopback port: it turns healthy, booking without its
#            secrets refuses a booking with 503 problem+json, the catalog
#            serves demo tours on GET /v1/tours and logs in the zone TZ
#            names (the binary carries the time zones), and `docker stop`
#            ends it with exit code 0
#
# Run:  bash deploy/check-images.sh [shape|context|images|run]...   (default: all)
# Env:  TAG (1.0), GO_IMAGE, GOPROXY (passed to the builds), IMAGE_MAX_MB.
# Everything it creates (canary files, containers, temporary directories) is
# removed when it exits, whatever happens; the images stay.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TAG=${TAG:-1.0}
# The size budget, in MB of 10^6 bytes as `docker images` shows them
# (issue 5). The Dockerfiles' build flags say where each megabyte went.
IMAGE_MAX_MB=${IMAGE_MAX_MB:-25}
SERVICES=(tour-catalog booking payment-gateway)
declare -A PORT=([tour-catalog]=3001 [booking]=3002 [payment-gateway]=3004)
OCI_LABELS=(title description source version revision licenses)
CANARY="tourism-canary-$$-${RANDOM}${RANDOM}"

WORK=$(mktemp -d)
CLEANUP=("rm -rf '${WORK}'")
cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILED=0
ok() { printf '  ok    %s\n' "$*"; }
fail() {
	printf '  FAIL  %s\n' "$*" >&2
	FAILED=1
}

image_of() { printf '%s-service:%s\n' "$1" "${TAG}"; }

# Canary .env files where none exists (an existing .env is never touched:
# the checks then look for its name only), removed at exit.
CANARY_FILES=()
plant_canaries() {
	((${#CANARY_FILES[@]} == 0)) || return 0
	local f
	for f in .env $(printf 'services/%s/.env ' "${SERVICES[@]}"); do
		if [[ -e ${f} ]]; then
			echo "  note  ${f} exists: left alone, checked by name only"
			continue
		fi
		printf '# canary of deploy/check-images.sh: must never reach a build\nTOURISM_CANARY=%s\n' "${CANARY}" >"${f}"
		CANARY_FILES+=("${f}")
		CLEANUP+=("rm -f '${f}'")
	done
}

build_all() {
	local svc args=()
	[[ -z ${GO_IMAGE:-} ]] || args+=(--build-arg "GO_IMAGE=${GO_IMAGE}")
	[[ -z ${GOPROXY:-} ]] || args+=(--build-arg GOPROXY)
	[[ -z ${COMMIT:-} ]] || args+=(--build-arg "COMMIT=${COMMIT}")
	for svc in "${SERVICES[@]}"; do
		echo "  build $(image_of "${svc}") (canaries present)"
		docker build --quiet -f "services/${svc}/Dockerfile" -t "$(image_of "${svc}")" \
			--build-arg "VERSION=${TAG}" "${args[@]}" . >/dev/null
	done
}

# The Dockerfiles have one shape: with the service's name and port
# replaced, they differ only in the first line, the description label and
# the block of run-time defaults (from "# A bare `docker run`" to VOLUME).
normalized_dockerfile() {
	sed -e "s/$1/SERVICE/g" -e "s/${PORT[$1]}/PORT/g" "services/$1/Dockerfile" |
		sed -e '1d' -e '/org.opencontainers.image.description=/d' -e '/^# A bare `docker run`/,/^VOLUME/d'
}

check_shape() {
	echo "== Dockerfiles"
	local svc diffs
	for svc in "${SERVICES[@]:1}"; do
		if diffs=$(diff <(normalized_dockerfile "${SERVICES[0]}") <(normalized_dockerfile "${svc}")); then
			ok "services/${svc}/Dockerfile has the shape of services/${SERVICES[0]}/Dockerfile"
		else
			fail "services/${svc}/Dockerfile differs from services/${SERVICES[0]}/Dockerfile beyond name, port, description and defaults:"
			head -n 20 <<<"${diffs}" >&2
		fi
	done
}

check_context() {
	echo "== build contexts"
	plant_canaries
	local svc dir files bad
	for svc in "${SERVICES[@]}"; do
		# The same ignore file beside a Dockerfile that copies the whole
		# context, exported as files: exactly what the builder receives.
		dir="${WORK}/context-${svc}"
		mkdir -p "${dir}"
		printf 'FROM scratch\nCOPY . /\n' >"${dir}/Dockerfile"
		cp "services/${svc}/Dockerfile.dockerignore" "${dir}/Dockerfile.dockerignore"
		docker build --quiet -f "${dir}/Dockerfile" --output "type=local,dest=${dir}/out" . >/dev/null
		files=$(cd "${dir}/out" && find . -type f | sed 's,^\./,,' | sort)
		bad=$(grep -vE "^(pkg|services/${svc})/" <<<"${files}" || true)
		[[ -z ${bad} ]] && ok "${svc}: only pkg/ and services/${svc}/ ($(wc -l <<<"${files}") files)" ||
			fail "${svc}: files from elsewhere in the context: $(head -n 5 <<<"${bad}" | tr '\n' ' ')"
		bad=$(grep -E '(^|/)\.env|\.db(-|$)|_test\.go$|/testdata/|(^|/)data/' <<<"${files}" || true)
		[[ -z ${bad} ]] && ok "${svc}: no .env, database, data/ or test file" ||
			fail "${svc}: context holds $(head -n 5 <<<"${bad}" | tr '\n' ' ')"
		if grep -rqF "${CANARY}" "${dir}/out"; then
			fail "${svc}: the canary .env content is in the context"
		fi
	done
}

# The values of every secret the compose files set (demo defaults, .env,
# the e2e file's): none may appear in an image.
secret_values() {
	{
		docker compose -f docker-compose.yml config
		docker compose -f docker-compose.yml -f e2e/compose.e2e.yml config
	} 2>/dev/null |
		sed -nE 's/^ +[A-Z_]*(TOKEN|SECRET|PASSWORD|API_KEY)[A-Z_]*: "?([^"]+)"?$/\2/p' | sort -u
}

check_images() {
	echo "== images"
	plant_canaries
	build_all
	local secrets svc img size user health ports label value files layer bad meta
	mapfile -t secrets < <(secret_values)
	((${#secrets[@]} >= 5)) || fail "found only ${#secrets[@]} secret values in the compose files"
	for svc in "${SERVICES[@]}"; do
		img=$(image_of "${svc}")
		size=$(docker image inspect --format '{{.Size}}' "${img}")
		((size <= IMAGE_MAX_MB * 1000000)) && ok "${img}: $(awk -v s="${size}" 'BEGIN { printf "%.1f", s / 1e6 }') MB, within ${IMAGE_MAX_MB} MB" ||
			fail "${img}: ${size} bytes, over ${IMAGE_MAX_MB} MB"

		user=$(docker image inspect --format '{{.Config.User}}' "${img}")
		[[ ${user} =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] && ok "${img}: runs as ${user} (numeric, not root)" ||
			fail "${img}: USER is '${user}', want a numeric non-root uid"

		health=$(docker image inspect --format '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}' "${img}")
		[[ ${health} == "CMD /${svc} healthcheck" ]] && ok "${img}: HEALTHCHECK ${health}" ||
			fail "${img}: HEALTHCHECK is '${health}', want CMD /${svc} healthcheck"

		ports=$(docker image inspect --format '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}' "${img}")
		[[ ${ports} == "${PORT[${svc}]}/tcp " ]] && ok "${img}: EXPOSE ${ports}" ||
			fail "${img}: EXPOSE '${ports}', want ${PORT[${svc}]}/tcp"

		for label in "${OCI_LABELS[@]}"; do
			value=$(docker image inspect --format "{{index .Config.Labels \"org.opencontainers.image.${label}\"}}" "${img}")
			[[ -n ${value} ]] || fail "${img}: no org.opencontainers.image.${label} label"
		done

		# Every file of every layer, from `docker save`.
		rm -rf "${WORK}/save" && mkdir -p "${WORK}/save"
		docker save "${img}" | tar -x -C "${WORK}/save"
		files=$(find "${WORK}/save" -name layer.tar -exec tar -tf {} \; | sed 's,^\./,,' | sort -u)
		bad=$(grep -vE "^(${svc}|data/?|etc/?|etc/ssl/?|etc/ssl/certs/?|etc/ssl/certs/ca-certificates\.crt)$" <<<"${files}" || true)
		[[ -z ${bad} ]] && ok "${img}: only /${svc}, CA certificates and /data (no shell)" ||
			fail "${img}: unexpected files: $(head -n 5 <<<"${bad}" | tr '\n' ' ')"
		if grep -qE '(^|/)\.env' <<<"${files}"; then
			fail "${img}: a .env file is in a layer"
		fi
		for layer in $(find "${WORK}/save" -name layer.tar); do
			if grep -aqF "${CANARY}" "${layer}"; then
				fail "${img}: the canary .env content is in a layer"
			fi
		done

		# Read once, then searched: with pipefail, `docker history | grep -q`
		# fails when grep stops at a match (SIGPIPE), so a found secret
		# would read as absent.
		bad=""
		meta="$(docker history --no-trunc --format '{{.CreatedBy}}' "${img}")
$(docker image inspect "${img}")"
		for value in "${secrets[@]}"; do
			if grep -qF -- "${value}" <<<"${meta}"; then
				bad+=" ${value:0:4}..."
			fi
		done
		[[ -z ${bad} ]] && ok "${img}: no .env, canary or compose secret in its layers, history or config" ||
			fail "${img}: secrets found in history or inspect:${bad}"
	done
}

# run_plain SERVICE [ARGS...]: docker run -d as the lesson does, on a random
# loopback port; sets CONTAINER and ADDR once it is healthy.
run_plain() {
	local svc=$1 status i
	shift
	CONTAINER="tourism-check-${svc}-$$"
	CLEANUP+=("docker rm -f -v '${CONTAINER}' >/dev/null 2>&1")
	docker run -d -p "127.0.0.1::${PORT[${svc}]}" --name "${CONTAINER}" "$@" "$(image_of "${svc}")" >/dev/null
	for ((i = 0; i < 120; i++)); do
		status=$(docker inspect --format '{{.State.Status}}/{{.State.Health.Status}}' "${CONTAINER}")
		[[ ${status} == running/healthy || ${status} == exited/* ]] && break
		sleep 0.5
	done
	if [[ ${status} != running/healthy ]]; then
		docker logs --tail 10 "${CONTAINER}" >&2 || true
		fail "${svc}: bare docker run is ${status}, not healthy"
		return 1
	fi
	ADDR=$(docker port "${CONTAINER}" "${PORT[${svc}]}/tcp")
	ADDR=${ADDR%%$'\n'*}
	ok "${svc}: docker run -d $* $(image_of "${svc}") is healthy (port ${ADDR})"
}

stop_plain() {
	local svc=$1 code
	docker stop --time 20 "${CONTAINER}" >/dev/null
	code=$(docker inspect --format '{{.State.ExitCode}}' "${CONTAINER}")
	[[ ${code} == 0 ]] && ok "${svc}: docker stop: exit code 0" || fail "${svc}: docker stop: exit code ${code}"
	docker rm -v "${CONTAINER}" >/dev/null
}

check_run() {
	echo "== plain docker run"
	local body logs
	# TZ: there is no /usr/share/zoneinfo in the image; the zone must come
	# from the binary, or the log times stay in UTC (+00:00 or Z).
	if run_plain tour-catalog -e TZ=Asia/Tokyo; then
		body=$(curl -fsS "http://${ADDR}/v1/tours") || body=""
		[[ ${body} == *'"slug"'* ]] && ok "tour-catalog: GET /v1/tours serves the demo tours ($(grep -o '"slug"' <<<"${body}" | wc -l) on the first page)" ||
			fail "tour-catalog: GET /v1/tours gave '${body:0:200}'"
		# Into a variable first: grep -q stops reading at its match, and
		# under pipefail docker logs' SIGPIPE would fail the check.
		logs=$(docker logs "${CONTAINER}" 2>&1)
		grep -q '"time":"[^"]*+09:00"' <<<"${logs}" && ok "tour-catalog: TZ=Asia/Tokyo gives +09:00 log times" ||
			fail "tour-catalog: TZ=Asia/Tokyo did not change the log times: $(head -n 1 <<<"${logs}")"
		stop_plain tour-catalog
	fi
	if run_plain payment-gateway; then
		stop_plain payment-gateway
	fi
	# Bare, exactly as the lesson runs it: the image has no secret, so
	# booking starts with what needs them switched off, and says so with a
	# problem rather than an exit.
	if run_plain booking; then
		body=$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' -X POST -H 'Content-Type: application/json' \
			-d '{}' "http://${ADDR}/v1/bookings") || body=""
		[[ ${body} == '503 application/problem+json'* ]] && ok "booking: without its secrets, POST /v1/bookings answers ${body}" ||
			fail "booking: without its secrets, POST /v1/bookings gave '${body}', want 503 application/problem+json"
		stop_plain booking
	fi
}

checks=("$@")
((${#checks[@]})) || checks=(shape context images run)
for check in "${checks[@]}"; do
	case ${check} in
	shape | context | images | run) "check_${check}" ;;
	*) echo "unknown check ${check}: shape, context, images or run" >&2 && exit 2 ;;
	esac
done
((FAILED == 0)) || {
	echo "image checks FAILED" >&2
	exit 1
}
echo "image checks passed"
