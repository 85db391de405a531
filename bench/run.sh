#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds huddle (Release, build-bench/), installs the Node peer's and the load generator's pinned
# dependencies, then runs every scenario against both servers and prints a markdown table.
# Extra arguments go to run.mjs: --rounds N, --only throughput,fanout,idle, --seconds S, --rate R.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"

command -v node >/dev/null || { echo "run.sh: needs node (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null || { echo "run.sh: needs npm (apt-get install npm)" >&2; exit 1; }

echo "== building huddle (Release) in build-bench/" >&2
cmake -S "$repo" -B "$repo/build-bench" -DCMAKE_BUILD_TYPE=Release -DHUDDLE_TESTS=OFF >/dev/null
cmake --build "$repo/build-bench" -j"$(nproc)" >/dev/null

echo "== npm ci (node-peer, load generator)" >&2
(cd "$here/node-peer" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

# 1000 idle connections need more than the usual 1024 descriptors on each side.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "== running (about 2 minutes)" >&2
exec node "$here/run.mjs" "$@"
