#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Soak test (not part of the test suite): HUDDLE_BIN=build/huddle bench/soak.sh [--minutes M] ...
# 300 clients doing everything at random for 10 minutes by default; see bench/soak.py.
# Debian's python3 (with python3-websockets) is /usr/bin/python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export HUDDLE_BIN="${HUDDLE_BIN:-$(dirname "$here")/build/huddle}"
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec /usr/bin/python3 -B "$here/soak.py" "$@"
