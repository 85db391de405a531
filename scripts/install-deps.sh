#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages huddle needs, only those missing (idempotent).
#   scripts/install-deps.sh build   compiler, CMake, CivetWeb, libuv, Jansson, OpenSSL headers
#   scripts/install-deps.sh test    build + cmocka, Python websockets, curl, Chromium, Node, sanitizers,
#                                   fonts (emoji, Korean) for the e2e screenshots
#   scripts/install-deps.sh all     same as test
# Runs as root, or through sudo when available. Also runs `npm ci` in tests/e2e for the test set.
set -euo pipefail

what=${1:-build}
case "$what" in
build | test | all) ;;
-h | --help)
    sed -n '3,8p' "$0"
    exit 0
    ;;
*)
    echo "usage: $0 [build|test|all]" >&2
    exit 2
    ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(build-essential cmake pkg-config libcivetweb-dev libjansson-dev libssl-dev libuv1-dev uthash-dev)
if [ "$what" != build ]; then
    pkgs+=(libcmocka-dev python3 python3-websockets curl openssl chromium clang libclang-rt-14-dev
        valgrind)
    # Fonts for the e2e screenshots: Korean names and emoji render instead of boxes.
    pkgs+=(fonts-noto-color-emoji fonts-nanum)
    # Debian 12 ships Node 18 as nodejs + npm; a newer Node already on PATH is used as it is.
    if ! command -v node >/dev/null 2>&1; then
        pkgs+=(nodejs npm)
    fi
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "install-deps: missing packages (${missing[*]}) and not root, no sudo" >&2
            exit 1
        fi
    fi
    echo "install-deps: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

if [ "$what" != build ] && [ -f "$repo/tests/e2e/package.json" ]; then
    e2e="$repo/tests/e2e"
    # Skip when node_modules is already newer than the manifests.
    stamp="$e2e/node_modules/.package-lock.json"
    if [ ! -f "$stamp" ] || [ "$e2e/package.json" -nt "$stamp" ] ||
        { [ -f "$e2e/package-lock.json" ] && [ "$e2e/package-lock.json" -nt "$stamp" ]; }; then
        echo "install-deps: npm packages in tests/e2e"
        if [ -f "$e2e/package-lock.json" ]; then
            (cd "$e2e" && npm ci --no-audit --no-fund)
        else
            (cd "$e2e" && npm install --no-audit --no-fund)
        fi
    fi
fi
