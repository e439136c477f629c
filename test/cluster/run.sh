#!/usr/bin/env bash
# The cluster tier (`npm run test:cluster`): several real API, projector and relay processes
# (from dist/) on the EventStoreDB protocol double, FerretDB and Kafka, with faults, checked
# against the event store (test/support/cluster/). Starts the servers of test/support/servers
# that are not running yet, builds, runs the jest "cluster" project in band, and stops the
# servers it started on any exit.
#
#   bash test/cluster/run.sh [jest args...]     e.g. bash test/cluster/run.sh -t 'projector'
#
# Env: CLUSTER_TIMEOUT (seconds for the jest run, default 1200), SERVER_START_TIMEOUT (seconds for
# building/fetching and starting both servers, default 1500), CLUSTER_KEEP=1 (keep the run's Mongo
# database, topics and process logs; a failed test keeps its logs anyway), CLUSTER_RUN_DIR (where
# run dirs go, default $TMPDIR), CLUSTER_COMMANDS / CLUSTER_SEED (the spec's load), plus the servers' own variables
# (test/support/servers/README.md). A server that was already running when this script started
# (someone else's) is used and left running; the ones started here are stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVERS=test/support/servers
CLUSTER_TIMEOUT="${CLUSTER_TIMEOUT:-1200}"
SERVER_START_TIMEOUT="${SERVER_START_TIMEOUT:-1500}"
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/chronicle-cluster-run.XXXXXX")"
started=()

log() { printf '[cluster] %s\n' "$*" >&2; }

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

# The processes run from dist/ (as deployed), the ESDB double included.
t0=$SECONDS
npm run build --silent
log "built in $((SECONDS - t0)) s"

# Extra arguments (paths, -t …) go before --selectProjects, which would take them as project names.
# In the background so that a signal reaches this script at once; it is passed on to jest (the
# harness's reaper then ends the app processes if jest could not).
timeout --kill-after=30 "$CLUSTER_TIMEOUT" npx jest "$@" --selectProjects cluster --runInBand &
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
if ((code == 124)); then log "jest did not finish within ${CLUSTER_TIMEOUT} s"; fi
exit "$code"
