# shellcheck shell=bash
# Shared helpers for kafka.sh / ferretdb.sh. Sourced, not executed.

SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_ROOT="$(cd "$SERVERS_DIR/../../.." && pwd)"
CHRONICLE_CACHE="${CHRONICLE_CACHE:-${HOME:-/tmp}/.cache/chronicle}"
# Per-run state (pid file, config, logs, data). Temp by default: data is throw-away.
CHRONICLE_RUN_DIR="${CHRONICLE_RUN_DIR:-${TMPDIR:-/tmp}/chronicle-servers}"

log() { printf '[%s] %s\n' "${SERVER_NAME:-servers}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now_s() { date +%s; }

# port_open HOST PORT -> 0 when something accepts TCP connections there.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# pid_alive PID MATCH -> 0 when PID runs and its command line contains MATCH
# (guards against a recycled pid in a stale pid file).
pid_alive() {
  local pid="$1" match="$2"
  [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0
  local cmdline; cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  # substring test, not `| grep -q`: with pipefail a SIGPIPE on tr would fail it
  [[ "$cmdline" == *"$match"* ]]
}

read_pid() { if [[ -f "$1" ]]; then tr -dc "0-9" <"$1"; fi; }

# log_tail FILE [N] -> last N lines of a log, to stderr.
log_tail() {
  local f="$1" n="${2:-60}"
  if [[ -f "$f" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf -- '----- end of log -----\n' >&2
  else
    printf -- '(no log file at %s)\n' "$f" >&2
  fi
}

# stop_pid PID MATCH GRACE_SECONDS [SIGNAL] -> TERM (or SIGNAL), wait, then KILL.
stop_pid() {
  local pid="$1" match="$2" grace="$3" sig="${4:-TERM}" deadline
  pid_alive "$pid" "$match" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  # A server a test left stopped (SIGSTOP) gets the signal only once it runs again.
  kill -CONT "$pid" 2>/dev/null || true
  deadline=$(( $(now_s) + grace ))
  while pid_alive "$pid" "$match"; do
    if (( $(now_s) >= deadline )); then
      log "pid $pid still alive after ${grace}s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$(( $(now_s) + 10 ))
      while pid_alive "$pid" "$match"; do
        (( $(now_s) >= deadline )) && die "pid $pid survived KILL"
        sleep 0.2
      done
      break
    fi
    sleep 0.2
  done
}

# with_lock FILE CMD... -> run CMD while holding an exclusive flock on FILE
# (bounded: gives up after LOCK_TIMEOUT seconds, default 600).
# Lock fds are recorded in HELD_LOCK_FDS so that long-lived servers can be
# started without inheriting them (see close_lock_fds): a daemon holding the
# flock would block every later start/stop.
HELD_LOCK_FDS=()
with_lock() {
  local f="$1" lockfd; shift
  mkdir -p "$(dirname "$f")"
  exec {lockfd}>"$f"
  flock -w "${LOCK_TIMEOUT:-600}" "$lockfd" || die "could not take lock $f within ${LOCK_TIMEOUT:-600}s"
  HELD_LOCK_FDS+=("$lockfd")
  "$@"
  local rc=$?
  unset 'HELD_LOCK_FDS[-1]'
  flock -u "$lockfd"
  exec {lockfd}>&-
  return $rc
}

# close_lock_fds -> close every held lock fd (call in the subshell that execs a daemon).
close_lock_fds() {
  local fd
  for fd in "${HELD_LOCK_FDS[@]}"; do
    eval "exec $fd>&-"
  done
}
