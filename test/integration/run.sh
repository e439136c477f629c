#!/usr/bin/env bash
# The integration tier (`npm run test:integration`, called by .ci/run): starts the real servers
# from test/support/servers (FerretDB for READ_STORE=mongodb, Kafka for the relay; both build or
# fetch what they need into ~/.cache/chronicle on first use), runs the jest "integration"
# project against them, and stops them again on any exit.
#
#   bash test/integration/run.sh [jest args...]     e.g. bash test/integration/run.sh libs/read-store
#
# Env: INTEGRATION_TIMEOUT (seconds for the jest run, default 1800), SERVER_START_TIMEOUT
# (seconds for building/fetching and starting both servers, default 1500), plus the servers'
# own variables (test/support/servers/README.md). A server that was already running when this
# script started (someone else's) is used and left running; the ones started here are stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVERS=test/support/servers
INTEGRATION_TIMEOUT="${INTEGRATION_TIMEOUT:-1800}"
SERVER_START_TIMEOUT="${SERVER_START_TIMEOUT:-1500}"
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chronicle-integration.XXXXXX")"
started=()

log() { printf '[integration] %s\n' "$*" >&2; }

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

# Extra arguments (paths, -t …) go before --selectProjects, which would take them as project names.
# In the background so that a signal reaches this script at once; it is passed on to jest.
timeout --kill-after=30 "$INTEGRATION_TIMEOUT" npx jest "$@" --selectProjects integration &
jest_pid=$!
forward() {
  log "$1: stopping jest"
  kill -TERM "$jest_pid" 2>/dev/null || true
  wait "$jest_pid" 2>/dev/null || true
  exit "$2"
}
trap 'forward SIGINT 130' INT
trap 'forward SIGTERM 143' TERM
set +e
wait "$jest_pid"
code=$?
set -e
if ((code == 124)); then log "jest did not finish within ${INTEGRATION_TIMEOUT} s"; fi
exit "$code"
