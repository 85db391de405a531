#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# README's run command: installs the build packages, builds a Release binary in build/ and serves
# www/ on port 3003 on all interfaces (settings from ./huddle.conf when present). Extra arguments go
# to huddle, e.g. scripts/run.sh --port 8080 --log-level debug.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build
# Tests need cmocka, which is a test package: the run build leaves them out.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHUDDLE_TESTS=OFF -DHUDDLE_WERROR=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec build/huddle --root www "$@"
