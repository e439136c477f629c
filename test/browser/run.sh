#!/usr/bin/env bash
# npm run test:browser: the dashboard in a real Chromium (Debian's package; puppeteer-core drives it).
set -euo pipefail
cd "$(dirname "$0")/../.."

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ -z "${CHROMIUM_PATH:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== apt-get install chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test:browser needs Chromium at $chromium: install Debian's package (apt-get install chromium, as root) or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi

exec npx jest --selectProjects browser "$@"
