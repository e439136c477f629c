#!/usr/bin/env bash
# Runs a command under other Node.js majors than the machine's: .ci/node-versions.sh 22 24 -- npm test
# (`.ci/node-versions.sh --prepare 22 24` only fetches and builds, into the cache: .ci/run starts it
# in the background while the single-threaded checks run, so the builds cost almost no wall time.)
#
# Each major's official binary comes from the npm registry (package node-<platform>-<arch>, which
# carries Node's headers too) into a cache outside the repository. better-sqlite3 is the one addon
# built against one Node ABI: it is built from source for each major (in a scratch copy, against
# that major's headers; the result is cached by ABI), swapped in for the command, and the
# machine's own build is put back on exit, pass or fail, so what runs afterwards is unaffected.
# The first failing major fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

prepare_only=false
if [ "${1:-}" = "--prepare" ]; then
  prepare_only=true
  shift
fi
majors=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  majors+=("$1")
  shift
done
$prepare_only || [ $# -gt 1 ] || majors=()
[ ${#majors[@]} -gt 0 ] || {
  echo "usage: $0 MAJOR... -- COMMAND...  |  $0 --prepare MAJOR..." >&2
  exit 2
}
$prepare_only || shift

cache="${CHRONICLE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chronicle/node}"
platform="$(node -p 'process.platform + "-" + process.arch')"
addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
sqlite_version="$(node -p 'require("better-sqlite3/package.json").version')"
mkdir -p "$cache"

if ! $prepare_only; then
  saved="$(mktemp -d)"
  cp "$addon" "$saved/"
  restore() {
    cp "$saved/better_sqlite3.node" "$addon"
    rm -rf "$saved"
  }
  trap restore EXIT
fi

for major in "${majors[@]}"; do
  prefix="$cache/$major"
  npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix "$prefix" "node-$platform@$major" >/dev/null
  nodedir="$prefix/node_modules/node-$platform"
  bin="$nodedir/bin"
  version="$("$bin/node" -v)"
  built="$cache/better-sqlite3-$sqlite_version-abi$("$bin/node" -p process.versions.modules)-$platform.node"
  if [ ! -f "$built" ]; then
    echo "== better-sqlite3 $sqlite_version for node $version (from source)"
    scratch="$(mktemp -d)"
    cp -R node_modules/better-sqlite3 "$scratch/"
    rm -rf "$scratch/better-sqlite3/build"
    # node-gyp takes the headers from nodedir (not ~/.npmrc's, nor a download).
    (cd "$scratch/better-sqlite3" && PATH="$bin:$PATH" npm_config_nodedir="$nodedir" npm run build-release --silent >/dev/null)
    cp "$scratch/better-sqlite3/build/Release/better_sqlite3.node" "$built.tmp"
    mv "$built.tmp" "$built"
    rm -rf "$scratch"
  fi
  $prepare_only && continue
  cp "$built" "$addon"
  echo "== node $version: $*"
  PATH="$bin:$PATH" "$@"
done
