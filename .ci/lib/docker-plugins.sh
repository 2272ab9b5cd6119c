#!/usr/bin/env bash
# Makes `docker buildx` and `docker compose` (v2) work. The CI machine has the
# docker CLI but neither plugin and no registry, so when a plugin is missing it
# is built from its Go module with this machine's Go (through the Go module
# proxy) and installed as a CLI plugin for the current user.
#
# Run:    bash .ci/lib/docker-plugins.sh   (installs; prints both versions)
# Source: docker_plugins installs both.
#
# Cache: built binaries in $CI_CACHE_DIR/plugins, named by plugin version, Go
# version and platform, so a warm run copies a file instead of compiling for
# minutes. A working plugin of another origin (a system package) is kept.
set -euo pipefail

PLUGINS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "${PLUGINS_LIB_DIR}/common.sh"

# Pinned: the newest releases whose go.mod this Go toolchain accepts.
BUILDX_MODULE="github.com/docker/buildx"
BUILDX_VERSION="v0.38.2"
COMPOSE_MODULE="github.com/docker/compose/v5"
COMPOSE_VERSION="v5.6.0"

# Where the docker CLI looks first for the current user's plugins.
PLUGINS_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

# plugin_build NAME MODULE VERSION PKG LDFLAGS: builds the command PKG (a
# directory of MODULE) into the cache unless it is there; sets PLUGIN_BIN.
plugin_build() {
	local name=$1 module=$2 version=$3 pkg=$4 ldflags=$5
	PLUGIN_BIN="${CI_CACHE_DIR}/plugins/docker-${name}-${version}-$(go env GOVERSION)-$(go env GOOS)-$(go env GOARCH)"
	if [[ -x ${PLUGIN_BIN} ]]; then
		ci_log "docker-${name} ${version}: cached build"
		return 0
	fi

	local work dir
	work=$(mktemp -d)
	ci_on_exit "rm -rf '${work}'"
	# Built inside the downloaded module rather than with `go install
	# module@version`: that refuses a go.mod with exclude or replace directives
	# (compose has some), and here the module's own go.mod decides every
	# dependency version, as in the upstream release build.
	# GOTOOLCHAIN=local: a go.mod wanting a newer Go fails instead of
	# downloading a toolchain. GOWORK=off: no workspace of the caller applies.
	ci_log "docker-${name} ${version}: go mod download ${module}@${version}"
	dir=$(GOWORK=off GOTOOLCHAIN=local go mod download -json "${module}@${version}" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -d ${dir} ]] || ci_die "go mod download ${module}@${version} gave no directory"
	ci_log "docker-${name} ${version}: go build ./${pkg} (takes minutes; output in the log on failure)"
	# Static like the released binaries.
	(cd "${dir}" && GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 \
		go build -trimpath -ldflags "-s -w ${ldflags}" -o "${work}/docker-${name}" "./${pkg}") \
		>"${work}/build.log" 2>&1 || {
		grep -v '^go: downloading' "${work}/build.log" | tail -n 40 >&2
		ci_die "building docker-${name} failed"
	}
	mkdir -p "${PLUGIN_BIN%/*}"
	# Copied beside the final name and renamed, so an interrupted run never
	# leaves a truncated binary that looks cached.
	install -m 0755 "${work}/docker-${name}" "${PLUGIN_BIN}.part"
	mv "${PLUGIN_BIN}.part" "${PLUGIN_BIN}"
	rm -rf "${work}"
}

# plugin_ensure NAME MODULE VERSION PKG LDFLAGS
plugin_ensure() {
	local name=$1 version=$3 out
	if out=$(docker "${name}" version 2>/dev/null); then
		if [[ ${out} == *"${version}"* ]]; then
			ci_log "docker ${name}: present (${out})"
			return 0
		fi
		if [[ ! -e ${PLUGINS_DIR}/docker-${name} ]]; then
			ci_log "docker ${name}: using the installed plugin (${out})"
			return 0
		fi
		ci_log "docker ${name}: replacing ${out} in ${PLUGINS_DIR} with ${version}"
	fi

	plugin_build "$@"
	mkdir -p "${PLUGINS_DIR}"
	install -m 0755 "${PLUGIN_BIN}" "${PLUGINS_DIR}/docker-${name}.part"
	mv "${PLUGINS_DIR}/docker-${name}.part" "${PLUGINS_DIR}/docker-${name}"
	out=$(docker "${name}" version) || ci_die "docker ${name} does not run after installing"
	ci_log "docker ${name}: installed (${out})"
}

docker_plugins() {
	# The version strings are what `docker buildx version` and
	# `docker compose version` print; go install alone leaves them empty.
	ci_step "docker buildx plugin" ci_locked plugins plugin_ensure buildx "${BUILDX_MODULE}" "${BUILDX_VERSION}" cmd/buildx \
		"-X github.com/docker/buildx/version.Version=${BUILDX_VERSION} -X github.com/docker/buildx/version.Package=github.com/docker/buildx"
	ci_step "docker compose plugin" ci_locked plugins plugin_ensure compose "${COMPOSE_MODULE}" "${COMPOSE_VERSION}" cmd \
		"-X github.com/docker/compose/v5/internal.Version=${COMPOSE_VERSION}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	ci_on_exit ci_timing_summary
	docker_plugins
	docker buildx version
	docker compose version
fi
