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

# --- Server lifecycle shared by kafka.sh and ferretdb.sh -------------------------------------
# Each script sets, before calling these: PID_FILE, LOG_FILE, RUN_DIR, DATA_DIR and MATCH (a
# string the server's command line contains, see pid_alive), and defines running_pid (usually
# `running_pid_by PATTERN`).

# running_pid_by PGREP_PATTERN -> prints the server's pid: from PID_FILE, or, when the pid file
# is lost, the first process whose command line matches PGREP_PATTERN (and MATCH).
running_pid_by() {
  local pattern="$1" pid; pid=$(read_pid "$PID_FILE")
  if pid_alive "$pid" "$MATCH"; then echo "$pid"; return 0; fi
  pid=$(pgrep -f -- "$pattern" | head -n1 || true)
  if [[ -n "$pid" ]] && pid_alive "$pid" "$MATCH"; then echo "$pid"; return 0; fi
  return 1
}

# prepare_run_dir KEEP_DATA -> creates RUN_DIR; unless KEEP_DATA is 1, empties the data dir and the log.
prepare_run_dir() {
  mkdir -p "$RUN_DIR"
  if [[ "$1" != 1 ]]; then
    rm -rf "$DATA_DIR"
    : >"$LOG_FILE"
  fi
}

# wait_ready LABEL T0 TIMEOUT LOG_LINES STOP_GRACE POLL_SECONDS HOST PORT PROBE_SCRIPT PROBE_TARGET
# -> waits until HOST:PORT accepts connections and `node PROBE_SCRIPT PROBE_TARGET 5000` (run in
# SERVERS_DIR) succeeds, keeping PID_FILE up to date. Dies (stopping the server when it is still
# up) if the server exits or is not ready TIMEOUT seconds after T0.
wait_ready() {
  local label="$1" t0="$2" timeout_s="$3" log_lines="$4" grace="$5" poll="$6" host="$7" port="$8" probe_script="$9" probe_target="${10}"
  local deadline=$(( t0 + timeout_s )) probe="" pid
  while :; do
    if ! pid=$(running_pid); then
      log_tail "$LOG_FILE" "$log_lines"
      rm -f "$PID_FILE"
      die "$label exited during startup (see $LOG_FILE)"
    fi
    echo "$pid" >"$PID_FILE"
    if port_open "$host" "$port" &&
       probe=$(cd "$SERVERS_DIR" && timeout 10 node "$probe_script" "$probe_target" 5000 2>&1); then
      break
    fi
    if (( $(now_s) >= deadline )); then
      log "last probe: ${probe:-port closed}"
      log_tail "$LOG_FILE" "$log_lines"
      stop_pid "$pid" "$MATCH" "$grace"
      rm -f "$PID_FILE"
      die "$label not ready within ${timeout_s}s"
    fi
    sleep "$poll"
  done
}

# stop_server SIGNAL GRACE_SECONDS [AFTER_STOP_FN] -> stops the server (see stop_pid) when it
# runs, then calls AFTER_STOP_FN (if given) before removing PID_FILE. Safe when not running.
stop_server() {
  local sig="$1" grace="$2" after="${3:-}" pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid (SIG$sig)"
  stop_pid "$pid" "$MATCH" "$grace" "$sig"
  if [[ -n "$after" ]]; then "$after"; fi
  rm -f "$PID_FILE"
  log "stopped"
}
