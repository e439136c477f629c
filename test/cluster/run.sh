#!/usr/bin/env bash
# The cluster tier (`npm run test:cluster`, called by .ci/run): several real API, projector and
# relay processes (from dist/, as deployed) on the EventStoreDB protocol double, FerretDB and
# Kafka, with faults, checked against the event store (test/support/cluster/). Builds, then runs
# the jest "cluster" project in band with the servers of test/support/servers/with-servers.sh.
#
#   bash test/cluster/run.sh [jest args...]     e.g. bash test/cluster/run.sh -t 'projector'
#
# Env: CLUSTER_TIMEOUT (seconds for the jest run, default 1500), CLUSTER_KEEP=1 (keep the run's
# Mongo database, topics and process logs; a failed test keeps its logs anyway), CLUSTER_RUN_DIR
# (where run dirs go, default $TMPDIR), CLUSTER_COMMANDS / CLUSTER_SEED (the spec's load), plus
# with-servers.sh's.
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$SECONDS
npm run build --silent
printf '[cluster] built in %s s\n' "$((SECONDS - t0))" >&2
# Extra arguments (paths, -t …) go before --selectProjects, which would take them as project names.
# A signal reaches jest through with-servers.sh; the harness's reaper then ends the app processes.
exec bash test/support/servers/with-servers.sh cluster "${CLUSTER_TIMEOUT:-1500}" npx jest "$@" --selectProjects cluster --runInBand
