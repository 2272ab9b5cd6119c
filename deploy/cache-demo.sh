#!/usr/bin/env bash
# Exercise 2 of lesson 6.1, on tour-catalog: which build steps does Docker
# take from its cache after a source edit, and after a go.mod edit?
#
#   1. build tour-catalog-service:$TAG        (the reference: usually all cached)
#   2. one line added to cmd/tour-catalog/main.go, build :2.0
#        -> go.mod/go.sum copies and `go mod download` CACHED, the build runs
#   3. one line added to go.mod too, build :2.1
#        -> the go.mod copy and everything after it runs again
#
# Each edit is one marked comment line appended to the file; it is removed
# again at the end, also when a build fails or the script is interrupted,
# so the files are as they were (other lines are never touched).
# Run from the repository root: make cache-demo (GO_IMAGE, GOPROXY honoured).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

TAG=${TAG:-1.0}
SERVICE_DIR=services/tour-catalog
SOURCE_FILE=${SOURCE_FILE:-${SERVICE_DIR}/cmd/tour-catalog/main.go}
GOMOD_FILE=${SERVICE_DIR}/go.mod
MARK="// cache-demo: a one-line edit for lesson 6.1, exercise 2 (removed afterwards)"

# The edits are undone whatever happens.
undo_edits() {
	local f
	for f in "${SOURCE_FILE}" "${GOMOD_FILE}"; do
		if grep -qxF "${MARK}" "${f}"; then
			grep -vxF "${MARK}" "${f}" >"${f}.cache-demo" && cat "${f}.cache-demo" >"${f}"
			rm -f "${f}.cache-demo"
			echo "restored ${f}"
		fi
	done
}
trap undo_edits EXIT
trap 'exit 130' INT TERM

build_args=()
[[ -z ${COMMIT:-} ]] || build_args+=(--build-arg "COMMIT=${COMMIT}")
[[ -z ${GO_IMAGE:-} ]] || build_args+=(--build-arg "GO_IMAGE=${GO_IMAGE}")
[[ -z ${GOPROXY:-} ]] || build_args+=(--build-arg GOPROXY)

# build TAG: docker build with plain progress, then one line per step of the
# build stage: CACHED (reused from an earlier build) or RUN (executed again).
build() {
	local tag=$1 log
	log=$(mktemp)
	echo
	echo "+ docker build --progress=plain -f ${SERVICE_DIR}/Dockerfile -t tour-catalog-service:${tag} --build-arg VERSION=${tag} ${build_args[*]} ."
	if ! docker build --progress=plain -f "${SERVICE_DIR}/Dockerfile" -t "tour-catalog-service:${tag}" \
		--build-arg "VERSION=${tag}" "${build_args[@]}" . >"${log}" 2>&1; then
		tail -n 30 "${log}"
		rm -f "${log}"
		return 1
	fi
	# BuildKit's plain output: "#7 [build 3/9] COPY ..." names a step, and
	# "#7 CACHED" (reused) or "#7 DONE 1.2s" (executed) says what became of
	# it; CACHED wins, as a step can print both. Listed in step order.
	awk '
		match($0, /^#[0-9]+ \[build [0-9]+\/[0-9]+\] /) {
			if (!($1 in name)) {
				name[$1] = substr($0, length($1) + 2)
				split(name[$1], f, /[ \/]/)
				step[$1] = f[2] + 0
			}
			next
		}
		$2 == "CACHED" && ($1 in name) { state[$1] = "CACHED" }
		$2 == "DONE" && ($1 in name) && !($1 in state) { state[$1] = "RUN" }
		END {
			for (id in name) byStep[step[id]] = id
			for (i = 1; i in byStep; i++) {
				id = byStep[i]
				line = name[id]
				gsub(/--mount=[^ ]+ +/, "", line)
				gsub(/ +/, " ", line)
				if (length(line) > 88) line = substr(line, 1, 85) "..."
				s = (line ~ /\] FROM /) ? "base" : state[id]
				printf "    %-6s  %s\n", s, line
			}
		}' "${log}"
	rm -f "${log}"
}

echo "== 1. The reference build"
build "${TAG}"

echo
echo "== 2. A one-line edit of the source (${SOURCE_FILE}), then tour-catalog-service:2.0"
printf '%s\n' "${MARK}" >>"${SOURCE_FILE}"
build 2.0
echo "   The dependency steps (go.mod/go.sum, go mod download) came from the cache;"
echo "   the source copy and go build ran again (go build itself reused its build cache mount)."

echo
echo "== 3. A one-line edit of ${GOMOD_FILE} as well, then tour-catalog-service:2.1"
printf '%s\n' "${MARK}" >>"${GOMOD_FILE}"
build 2.1
echo "   go.mod changed: its COPY and every step after it ran again, go mod download included"
echo "   (which found the modules in its cache mount, so nothing was downloaded twice)."
echo
echo "make clean removes tour-catalog-service:2.0 and :2.1 with the rest."
