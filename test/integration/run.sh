#!/usr/bin/env bash
# The integration tier (`npm run test:integration`, called by .ci/run): the jest "integration"
# project against real servers (FerretDB for READ_STORE=mongodb, Kafka for the relay), started and
# stopped by test/support/servers/with-servers.sh.
#
#   bash test/integration/run.sh [jest args...]     e.g. bash test/integration/run.sh libs/read-store
#
# Env: INTEGRATION_TIMEOUT (seconds for the jest run, default 1800), plus with-servers.sh's.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Extra arguments (paths, -t …) go before --selectProjects, which would take them as project names.
# In band: the suites share one Kafka and one FerretDB, and the relay's fault tests stop and kill the
# broker (run beside them, the erasure suite found no broker).
exec bash test/support/servers/with-servers.sh integration "${INTEGRATION_TIMEOUT:-1800}" npx jest "$@" --selectProjects integration --runInBand
