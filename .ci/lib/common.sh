# shellcheck shell=bash
# Helpers shared by the CI scripts: logging, step timing, the cache directory,
# root-only commands and exit hooks. Sourced, never executed.

# Sourced by each script and again by scripts that source other scripts; the
# second time must not reset the exit hooks and timings of the first.
[[ -z ${CI_COMMON_LOADED:-} ]] || return 0
CI_COMMON_LOADED=1

# Everything expensive that survives between runs on the same machine lives here
# (debootstrap roots, built docker plugins); docker images are cached by tag.
CI_CACHE_DIR="${CI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tourism-ci}"

# Log lines go to stderr so that stdout stays free for values callers capture
# (an image tag, an export line).
ci_log() { printf '==> [%4ss] %s\n' "${SECONDS}" "$*" >&2; }
ci_warn() { printf 'WARN: %s\n' "$*" >&2; }
ci_die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

# ci_step NAME CMD...: runs CMD and prints how long it took; the timings are
# listed by ci_timing_summary, also when a step fails (the EXIT hook).
# CMD runs plainly, not behind `||`: bash turns off set -e inside anything
# called from a condition, and a failing command must stop the step.
CI_TIMINGS=()
CI_STEPS_RUNNING=()
ci_step() {
	local name=$1 start=${SECONDS}
	shift
	ci_log "${name}"
	CI_STEPS_RUNNING+=("${start}|${name}")
	"$@"
	unset 'CI_STEPS_RUNNING[-1]'
	CI_TIMINGS+=("$(printf '%5ss  %s' "$((SECONDS - start))" "${name}")")
	ci_log "${name}: done in $((SECONDS - start))s"
}

ci_timing_summary() {
	local i
	# Steps still running here are the ones a failure interrupted.
	for ((i = ${#CI_STEPS_RUNNING[@]} - 1; i >= 0; i--)); do
		CI_TIMINGS+=("$(printf '%5ss  %s (FAILED)' "$((SECONDS - ${CI_STEPS_RUNNING[i]%%|*}))" "${CI_STEPS_RUNNING[i]#*|}")")
	done
	CI_STEPS_RUNNING=()
	((${#CI_TIMINGS[@]})) || return 0
	ci_log "timings"
	printf '   %s\n' "${CI_TIMINGS[@]}" >&2
}

# ci_as_root CMD...: CI runs as root; a developer running a script by hand may
# not, so fall back to sudo rather than failing on the first apt-get.
ci_as_root() {
	if [[ ${EUID} -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		ci_die "need root for: $*"
	fi
}

# ci_apt_install PKG...: installs Debian packages that are not installed yet.
# apt-get update runs at most once per process because it is the slow part.
CI_APT_UPDATED=false
ci_apt_install() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${pkg}")
	done
	((${#missing[@]})) || return 0
	if [[ ${CI_APT_UPDATED} != true ]]; then
		ci_log "apt-get update"
		ci_as_root apt-get update -qq
		CI_APT_UPDATED=true
	fi
	ci_log "apt-get install ${missing[*]}"
	ci_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ci_on_exit CMD: runs CMD when the shell exits; hooks run in reverse order
# (like defer). One EXIT trap for all scripts, so sourcing one script never
# drops another's cleanup. A hook runs only in the process that registered it:
# a subshell ($(...)) copies the list but must not stop the parent's database.
CI_EXIT_HOOKS=()
ci_on_exit() {
	CI_EXIT_HOOKS+=("${BASHPID}|$1")
	trap ci_run_exit_hooks EXIT
	# A signal must run the hooks too; exiting from the handler triggers EXIT.
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
ci_run_exit_hooks() {
	local i pid cmd
	for ((i = ${#CI_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		pid=${CI_EXIT_HOOKS[i]%%|*}
		cmd=${CI_EXIT_HOOKS[i]#*|}
		[[ ${pid} == "${BASHPID}" ]] || continue
		eval "${cmd}" || ci_warn "cleanup failed: ${cmd}"
	done
	CI_EXIT_HOOKS=()
}

# ci_locked NAME CMD...: runs CMD holding a machine-wide lock, so that two
# runs at once (two engineers, two CI jobs) do not both build the same image
# or plugin; the second waits, then finds the first one's result. The lock is
# a file in /tmp, not in the cache, because docker's image store is
# machine-wide whatever $HOME says. Released when CMD returns or the shell exits.
ci_locked() {
	local name=$1 fd
	shift
	exec {fd}>>"${CI_LOCK_DIR:-/tmp}/tourism-ci-${name}.lock"
	if ! flock --nonblock "${fd}"; then
		ci_log "waiting for another run that holds the ${name} lock"
		flock "${fd}"
	fi
	"$@"
	exec {fd}>&-
}

# ci_cancel_exit_hooks: for a script that hands what it started to its caller.
ci_cancel_exit_hooks() { CI_EXIT_HOOKS=(); }
