#!/usr/bin/env bash
# Builds, when absent, local stand-ins for the two registry images that the
# Dockerfiles and the compose file use, because CI has no registry access:
#   tourism-ci/golang:<go version>  for golang:1.26-bookworm   (GO_IMAGE)
#   tourism-ci/postgres:<major>     for postgres:17-alpine      (POSTGRES_IMAGE)
# Both start from one Debian root made with debootstrap (this machine's suite,
# debootstrap's default mirror). The Go image carries this machine's Go
# toolchain, so the host and the image agree on the Go version.
#
# Run:    sudo bash .ci/lib/standin-images.sh   (prints GO_IMAGE=... and POSTGRES_IMAGE=...)
# Source: standin_images sets and exports GO_IMAGE and POSTGRES_IMAGE.
#
# Caches: the debootstrap root and the roots derived from it are tarballs in
# $CI_CACHE_DIR/rootfs, so rebuilding an image after `docker rmi` is an import,
# not a download. Images are reused by tag while their org.tourism-ci.recipe
# label matches the inputs that made them.
set -euo pipefail

STANDIN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR
source "${STANDIN_LIB_DIR}/common.sh"

STANDIN_ROOTFS_DIR="${CI_CACHE_DIR}/rootfs"
STANDIN_PG_CONTEXT="${STANDIN_LIB_DIR}/../images/postgres"
STANDIN_BASE_INCLUDE="ca-certificates,tzdata"
# Left out of every root and image: docker provides /dev, /proc and /sys, and
# man pages, translations and apt's caches only add size.
STANDIN_TAR_EXCLUDES=(
	--exclude=./dev/* --exclude=./proc/* --exclude=./sys/*
	--exclude=./usr/share/man/* --exclude=./usr/share/info/* --exclude=./usr/share/locale/*
	--exclude=./var/cache/apt/*.bin --exclude=./var/cache/apt/archives/*.deb
	--exclude=./var/lib/apt/lists/*
)

# The two scripts below run in the chroot: their $ must not expand here.
# shellcheck disable=SC2016

# git is in the official golang image (its base is buildpack-deps:*-scm):
# without it a module that falls back to "direct", or a build that stamps VCS
# data, fails here but not there.
STANDIN_GO_ROOT_SCRIPT=$(
	cat <<'EOF'
apt-get update -qq
apt-get install -y -qq --no-install-recommends git
apt-get clean
EOF
)

# As in the official image: the packaged cluster is not created (the entrypoint
# makes one in PGDATA), the sample config listens on all addresses, and the
# socket and data directories are writable for an arbitrary --user.
STANDIN_PG_ROOT_SCRIPT=$(
	cat <<'EOF'
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql-common
sed -ri 's/#(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf
apt-get install -y -qq --no-install-recommends postgresql
apt-get clean
major=$(ls /usr/lib/postgresql)
sample=/usr/share/postgresql/${major}/postgresql.conf.sample
sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "${sample}"
grep -q "^listen_addresses = '\*'" "${sample}"
install -d -o postgres -g postgres -m 3777 /var/run/postgresql
install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
install -d -m 0755 /docker-entrypoint-initdb.d
EOF
)

# The Go image's configuration, as in the official image. GOTOOLCHAIN=local: a
# go.mod asking for a newer Go fails the build instead of downloading one.
STANDIN_GO_CHANGES=(
	'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	'ENV GOPATH=/go'
	'ENV GOTOOLCHAIN=local'
	'WORKDIR /go'
	'CMD ["bash"]'
)

standin_hash() { sha256sum | cut -c1-"${1:-12}"; }

standin_suite() {
	# shellcheck disable=SC1091
	(. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}")
}

# The Go image's tag is the toolchain's version: go1.26.8 -> 1.26.8.
standin_go_version() {
	local v
	v=$(go env GOVERSION)
	v=${v%% *}
	printf '%s\n' "${v#go}"
}

# The CA bundle this machine trusts. Where outbound TLS is inspected by a
# proxy, its CA is in here and not in Debian's bundle; the Go image gets the
# difference, or `go mod download` inside a build fails with "x509:
# certificate signed by unknown authority".
standin_host_ca_bundle() {
	printf '%s\n' "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
}

# Bumped by hand when the way the images are put together changes in a way
# the inputs hashed below do not show.
STANDIN_RECIPE_VERSION=1

# Names of the cached roots, from what goes into them; computing a name builds
# nothing.
standin_base_name() {
	printf '%s-minbase-%s\n' "$(standin_suite)" \
		"$(printf '%s\n' "${STANDIN_BASE_INCLUDE}" "${STANDIN_TAR_EXCLUDES[@]}" | standin_hash 8)"
}
standin_derived_name() {
	printf '%s-%s-%s\n' "$(standin_base_name)" "$1" "$(printf '%s' "$2" | standin_hash 8)"
}

# Recipes: a hash of the inputs of an image, stored as its label; a changed
# input rebuilds the image, an edit elsewhere in these scripts does not (other
# engineers' builds use the same tags).
standin_go_recipe() {
	{
		echo "${STANDIN_RECIPE_VERSION}"
		standin_derived_name golang "${STANDIN_GO_ROOT_SCRIPT}"
		go env GOVERSION GOROOT GOARCH
		printf '%s\n' "${STANDIN_GO_CHANGES[@]}"
		cat "$(standin_host_ca_bundle)" 2>/dev/null || true
	} | standin_hash 16
}
standin_pg_recipe() {
	{
		echo "${STANDIN_RECIPE_VERSION}"
		standin_derived_name postgres "${STANDIN_PG_ROOT_SCRIPT}"
		cat "${STANDIN_PG_CONTEXT}"/*
	} | standin_hash 16
}

# standin_image_current TAG RECIPE: true when TAG exists and RECIPE made it.
standin_image_current() {
	local label
	label=$(docker image inspect --format '{{index .Config.Labels "org.tourism-ci.recipe"}}' "$1" 2>/dev/null) || return 1
	[[ ${label} == "$2" ]]
}

# standin_drop_replaced OLD_ID TAG: after TAG was rebuilt, remove the image it
# replaced so stale stand-ins do not pile up (ignored if a container uses it).
standin_drop_replaced() {
	local old=$1 tag=$2 new
	[[ -n ${old} ]] || return 0
	new=$(docker image inspect --format '{{.Id}}' "${tag}")
	[[ ${old} == "${new}" ]] || docker image rm "${old}" >/dev/null 2>&1 || true
}

# standin_tar_root DIR OUT: archive a root. Numeric owners, because uids differ
# between the host and the root (the root's postgres is not the host's).
standin_tar_root() {
	local root=$1 out=$2
	# debootstrap copied the host's; docker mounts its own at run time.
	: >"${root}/etc/resolv.conf"
	: >"${root}/etc/hostname"
	tar -C "${root}" --numeric-owner "${STANDIN_TAR_EXCLUDES[@]}" -cf "${out}.part" .
	# Renamed when complete, so an interrupted run never leaves a cut archive
	# that looks cached.
	mv "${out}.part" "${out}"
}

standin_untar_root() {
	mkdir -p "$2"
	tar -C "$2" --numeric-owner -xpf "$1"
}

# standin_chroot ROOT SCRIPT LOG: run SCRIPT with bash as root inside ROOT.
standin_chroot() {
	local root=$1 script=$2 log=$3 dev n major minor
	# apt needs name resolution; standin_tar_root empties the file again.
	cp /etc/resolv.conf "${root}/etc/resolv.conf"
	# The archives leave /dev empty; maintainer scripts need these devices.
	for dev in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
		IFS=: read -r n major minor <<<"${dev}"
		[[ -e ${root}/dev/${n} ]] || mknod -m 666 "${root}/dev/${n}" c "${major}" "${minor}"
	done
	# Packages must not try to start services in a chroot.
	printf '#!/bin/sh\nexit 101\n' >"${root}/usr/sbin/policy-rc.d"
	chmod +x "${root}/usr/sbin/policy-rc.d"
	chroot "${root}" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
		/bin/bash -euo pipefail -c "${script}" >"${log}" 2>&1 || {
		tail -n 30 "${log}" >&2
		ci_die "chroot script failed in ${root}"
	}
	rm -f "${root}/usr/sbin/policy-rc.d"
}

# standin_base_root: sets STANDIN_BASE_TAR to the cached minbase root.
standin_base_root() {
	local suite
	suite=$(standin_suite)
	STANDIN_BASE_TAR="${STANDIN_ROOTFS_DIR}/$(standin_base_name).tar"
	if [[ -s ${STANDIN_BASE_TAR} ]]; then
		ci_log "base root: cached ${STANDIN_BASE_TAR##*/}"
		return 0
	fi

	ci_apt_install debootstrap
	local work
	work=$(mktemp -d)
	ci_on_exit "rm -rf '${work}'"
	# No mirror argument: debootstrap's default mirror, so no host name is
	# written down here.
	ci_log "base root: debootstrap --variant=minbase --include=${STANDIN_BASE_INCLUDE} ${suite}"
	debootstrap --variant=minbase --include="${STANDIN_BASE_INCLUDE}" \
		"${suite}" "${work}/root" >"${work}/debootstrap.log" 2>&1 || {
		tail -n 30 "${work}/debootstrap.log" >&2
		ci_die "debootstrap failed"
	}
	mkdir -p "${STANDIN_ROOTFS_DIR}"
	standin_tar_root "${work}/root" "${STANDIN_BASE_TAR}"
	rm -rf "${work}"
	# Roots from an older recipe, and everything derived from them, are stale.
	find "${STANDIN_ROOTFS_DIR}" -name "${suite}-minbase-*.tar" ! -name "${STANDIN_BASE_TAR##*/}" -delete
	ci_log "base root: $(du -h "${STANDIN_BASE_TAR}" | cut -f1) in ${STANDIN_BASE_TAR##*/}"
}

# standin_derived_root NAME SCRIPT: the base root plus what SCRIPT installs in
# a chroot of a copy of it; sets STANDIN_DERIVED_TAR. Keyed by SCRIPT's text.
standin_derived_root() {
	local name=$1 script=$2
	standin_base_root
	STANDIN_DERIVED_TAR="${STANDIN_ROOTFS_DIR}/$(standin_derived_name "${name}" "${script}").tar"
	if [[ -s ${STANDIN_DERIVED_TAR} ]]; then
		ci_log "${name} root: cached ${STANDIN_DERIVED_TAR##*/}"
		return 0
	fi

	local work
	work=$(mktemp -d)
	ci_on_exit "rm -rf '${work}'"
	standin_untar_root "${STANDIN_BASE_TAR}" "${work}/root"
	ci_log "${name} root: apt-get install in a chroot"
	standin_chroot "${work}/root" "${script}" "${work}/chroot.log"
	standin_tar_root "${work}/root" "${STANDIN_DERIVED_TAR}"
	rm -rf "${work}"
	# The same root from an older recipe is stale.
	local base=${STANDIN_BASE_TAR##*/}
	find "${STANDIN_ROOTFS_DIR}" -name "${base%.tar}-${name}-*.tar" ! -name "${STANDIN_DERIVED_TAR##*/}" -delete
	ci_log "${name} root: $(du -h "${STANDIN_DERIVED_TAR}" | cut -f1) in ${STANDIN_DERIVED_TAR##*/}"
}

# standin_add_host_cas ROOT: install the host's CAs that ROOT does not trust.
standin_add_host_cas() {
	local root=$1 bundle dir line i=0
	bundle=$(standin_host_ca_bundle)
	[[ -r ${bundle} ]] || return 0
	dir="${root}/usr/local/share/ca-certificates"
	mkdir -p "${dir}"
	# One certificate per line, '|' for its newlines, to compare the bundles.
	# shellcheck disable=SC2016
	local awk_prog='/-----BEGIN CERTIFICATE-----/ { c = "" } { c = c $0 "|" } /-----END CERTIFICATE-----/ { print c }'
	while IFS= read -r line; do
		i=$((i + 1))
		tr '|' '\n' <<<"${line}" >"${dir}/ci-host-${i}.crt"
	done < <(comm -23 <(awk "${awk_prog}" "${bundle}" | sort -u) \
		<(awk "${awk_prog}" "${root}/etc/ssl/certs/ca-certificates.crt" | sort -u))
	((i > 0)) || return 0
	ci_log "adding ${i} CA certificate(s) that this machine trusts and Debian does not"
	standin_chroot "${root}" 'update-ca-certificates >/dev/null' "${root}.ca.log"
}

# standin_go_image: sets and exports GO_IMAGE.
standin_go_image() {
	local recipe old
	GO_IMAGE="tourism-ci/golang:$(standin_go_version)"
	export GO_IMAGE
	recipe=$(standin_go_recipe)
	if standin_image_current "${GO_IMAGE}" "${recipe}"; then
		ci_log "${GO_IMAGE}: present"
		return 0
	fi
	old=$(docker image inspect --format '{{.Id}}' "${GO_IMAGE}" 2>/dev/null || true)

	standin_derived_root golang "${STANDIN_GO_ROOT_SCRIPT}"
	local work
	work=$(mktemp -d)
	ci_on_exit "rm -rf '${work}'"
	standin_untar_root "${STANDIN_DERIVED_TAR}" "${work}/root"
	standin_add_host_cas "${work}/root"
	ci_log "${GO_IMAGE}: copying the Go toolchain from GOROOT"
	mkdir -p "${work}/root/usr/local/go"
	cp -a "$(go env GOROOT)/." "${work}/root/usr/local/go/"
	# As in the official image: GOPATH directories writable for any --user.
	install -d -m 1777 "${work}/root/go" "${work}/root/go/src" "${work}/root/go/bin"
	: >"${work}/root/etc/resolv.conf"

	ci_log "${GO_IMAGE}: docker import"
	local changes=() change
	for change in "${STANDIN_GO_CHANGES[@]}" "ENV GOLANG_VERSION=$(standin_go_version)" \
		"LABEL org.tourism-ci.recipe=${recipe}"; do
		changes+=(--change "${change}")
	done
	tar -C "${work}/root" --numeric-owner "${STANDIN_TAR_EXCLUDES[@]}" -c . | docker import "${changes[@]}" \
		--message "CI stand-in for golang:$(standin_go_version)-$(standin_suite)" \
		- "${GO_IMAGE}" >/dev/null
	rm -rf "${work}"
	standin_drop_replaced "${old}" "${GO_IMAGE}"
	ci_log "${GO_IMAGE}: $(docker run --rm "${GO_IMAGE}" go version)"
}

# standin_postgres_image: sets and exports POSTGRES_IMAGE.
standin_postgres_image() {
	local recipe
	recipe=$(standin_pg_recipe)
	# The tag carries the major version, known once the root exists; an image
	# this recipe built is found by its label without building anything.
	POSTGRES_IMAGE=$(docker image ls --filter "label=org.tourism-ci.recipe=${recipe}" \
		--format '{{.Repository}}:{{.Tag}}' 'tourism-ci/postgres' | head -n 1)
	if [[ -n ${POSTGRES_IMAGE} ]]; then
		export POSTGRES_IMAGE
		ci_log "${POSTGRES_IMAGE}: present"
		return 0
	fi

	standin_derived_root postgres "${STANDIN_PG_ROOT_SCRIPT}"
	local key major root_image old
	key=${STANDIN_DERIVED_TAR##*-}
	key=${key%.tar}
	major=$(tar -tf "${STANDIN_DERIVED_TAR}" | sed -n 's,^\./usr/lib/postgresql/\([0-9][0-9]*\)/$,\1,p')
	[[ -n ${major} ]] || ci_die "no PostgreSQL in ${STANDIN_DERIVED_TAR}"
	POSTGRES_IMAGE="tourism-ci/postgres:${major}"
	export POSTGRES_IMAGE

	# The root is imported as is (a file, no extraction), and kept under its
	# own tag so that a change to the entrypoint only rebuilds the top layer.
	root_image="tourism-ci/postgres-root:${major}-${key}"
	if ! docker image inspect "${root_image}" >/dev/null 2>&1; then
		ci_log "${root_image}: docker import"
		docker import --message "Debian root with PostgreSQL ${major} for ${POSTGRES_IMAGE}" \
			"${STANDIN_DERIVED_TAR}" "${root_image}" >/dev/null
	fi

	old=$(docker image inspect --format '{{.Id}}' "${POSTGRES_IMAGE}" 2>/dev/null || true)
	ci_log "${POSTGRES_IMAGE}: docker build ${STANDIN_PG_CONTEXT}"
	# The classic builder: this image needs nothing from BuildKit, and so the
	# script works before (and without) the buildx plugin.
	DOCKER_BUILDKIT=0 docker build --quiet \
		--build-arg "ROOT_IMAGE=${root_image}" --build-arg "PG_MAJOR=${major}" \
		--label "org.tourism-ci.recipe=${recipe}" \
		--tag "${POSTGRES_IMAGE}" "${STANDIN_PG_CONTEXT}" >/dev/null
	standin_drop_replaced "${old}" "${POSTGRES_IMAGE}"
	# Roots of older recipes are no longer the base of anything.
	docker image ls --format '{{.Repository}}:{{.Tag}}' tourism-ci/postgres-root |
		grep -vxF "${root_image}" | xargs -r docker image rm >/dev/null 2>&1 || true
	ci_log "${POSTGRES_IMAGE}: $(docker run --rm "${POSTGRES_IMAGE}" postgres --version)"
}

standin_images() {
	[[ ${EUID} -eq 0 ]] || ci_die "stand-in images need root (debootstrap, chroot, mknod)"
	ci_step "stand-in Go image" ci_locked images standin_go_image
	ci_step "stand-in PostgreSQL image" ci_locked images standin_postgres_image
	docker image ls --format '    {{.Repository}}:{{.Tag}}  {{.Size}}' 'tourism-ci/*' >&2
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	standin_images
	ci_timing_summary
	# For the caller, on stdout: eval "$(bash .ci/lib/standin-images.sh)".
	printf 'GO_IMAGE=%s\nPOSTGRES_IMAGE=%s\n' "${GO_IMAGE}" "${POSTGRES_IMAGE}"
fi
