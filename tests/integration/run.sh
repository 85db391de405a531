#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests against the real binary: HUDDLE_BIN=build/huddle tests/integration/run.sh [names]
# Debian's python3 (with python3-websockets) is /usr/bin/python3, not whatever python3 is on PATH.
set -euo pipefail
exec /usr/bin/python3 -B "$(dirname "$0")/run.py" "$@"
