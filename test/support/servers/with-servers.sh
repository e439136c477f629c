#!/usr/bin/env bash
# Runs a command with the test servers up: starts those of test/support/servers (FerretDB, Kafka)
# that are not running yet (each builds or fetches what it needs into ~/.cache/chronicle on first
# use), exports MONGO_URL and KAFKA_BROKERS, runs the command, and stops the servers it started on
# any exit. A server that was already running (someone else's) is used and left running.
#
#   bash test/support/servers/with-servers.sh <label> <timeout seconds> <command...>
#
# The command runs in the background so that a signal reaches this script at once; it is passed
# on. Env: SERVER_START_TIMEOUT (seconds for building/fetching and starting both servers, default
# 1500), plus the servers' own variables (README.md beside this script).
set -euo pipefail
cd "$(dirname "$0")/../../.."

LABEL="$1"
TIMEOUT="$2"
shift 2
SERVERS=test/support/servers
SERVER_START_TIMEOUT="${SERVER_START_TIMEOUT:-1500}"
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chronicle-$LABEL.XXXXXX")"
started=()

log() { printf '[%s] %s\n' "$LABEL" "$*" >&2; }

cleanup() {
  local code=$?
  trap - EXIT INT TERM
  for server in "${started[@]}"; do
    log "stopping $server"
    "$SERVERS/$server.sh" stop >&2 || log "stopping $server failed (exit $?)"
  done
  rm -rf "$LOG_DIR"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Decide which servers this run owns before starting anything, so that an early failure
# still stops whatever did come up.
to_start=()
for server in ferretdb kafka; do
  if "$SERVERS/$server.sh" status >/dev/null 2>&1; then
    log "$server is already running: using it, and leaving it running"
  else
    to_start+=("$server")
    started+=("$server")
  fi
done

# Both start in parallel (each script serialises on its own port lock).
declare -A pids=()
t0=$SECONDS
for server in "${to_start[@]}"; do
  timeout --kill-after=30 "$SERVER_START_TIMEOUT" "$SERVERS/$server.sh" start >"$LOG_DIR/$server.log" 2>&1 &
  pids[$server]=$!
done
failed=0
for server in "${to_start[@]}"; do
  if wait "${pids[$server]}"; then
    log "$server up"
  else
    code=$?
    log "$server did not start (exit $code):"
    cat "$LOG_DIR/$server.log" >&2
    failed=1
  fi
done
((failed == 0)) || exit 1
log "servers ready in $((SECONDS - t0)) s"

export MONGO_URL="mongodb://127.0.0.1:${FERRETDB_PORT:-27018}/"
export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-19092}"
log "MONGO_URL=$MONGO_URL KAFKA_BROKERS=$KAFKA_BROKERS"

timeout --kill-after=30 "$TIMEOUT" "$@" &
command_pid=$!
forward() {
  log "$1: stopping the run"
  kill -TERM "$command_pid" 2>/dev/null || true
  wait "$command_pid" 2>/dev/null || true
  exit "$2"
}
trap 'forward SIGINT 130' INT
trap 'forward SIGTERM 143' TERM
set +e
wait "$command_pid"
code=$?
set -e
if ((code == 124)); then log "the run did not finish within ${TIMEOUT} s"; fi
exit "$code"
