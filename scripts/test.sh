#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# README's test command: installs the test packages, then builds and runs every test stage:
#   build/ (-Werror) unit + integration + e2e, build-asan/ (ASan+UBSan) unit + integration,
#   build-tsan/ (TSan) the hub/outq concurrency unit tests + integration, build-fuzz/ (clang
#   libFuzzer) each fuzz target for FUZZ_SECONDS (20).
# Every stage runs even when an earlier one failed; logs go to tests/artifacts/. The last line is
# "huddle tests: N stages passed, M failed"; the exit status is non-zero when any stage failed.
# Environment: HUDDLE_SKIP_DEPS=1 skips the package step, HUDDLE_SKIP_TSAN=1 the TSan stages,
# FUZZ_SECONDS=0 the fuzz stages.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
art="$repo/tests/artifacts"
mkdir -p "$art"
jobs=$(nproc 2>/dev/null || echo 2)

passed=0
failed=0
failed_names=()

# stage NAME TIMEOUT_S CMD...: runs CMD (a command or an exported function), its output shown
# and saved to tests/artifacts/NAME.log; counts the result.
stage() {
    local name=$1 limit=$2
    shift 2
    echo
    echo "=== $name"
    local t0=$SECONDS rc
    timeout --kill-after=10 "$limit" bash -c '"$@"' "$name" "$@" 2>&1 | tee "$art/$name.log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        echo "=== $name: PASS ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        [ "$rc" = 124 ] && echo "=== $name: timed out after $limit s"
        echo "=== $name: FAIL (exit $rc, $((SECONDS - t0)) s, log tests/artifacts/$name.log)"
    fi
    return "$rc"
}

# not_run NAME WHY: counts a stage that could not run (its build failed) as failed.
not_run() {
    failed=$((failed + 1))
    failed_names+=("$1")
    echo
    echo "=== $1: FAIL (not run: $2)"
}

configure_and_build() {
    local dir=$1
    shift
    cmake -S "$repo" -B "$repo/$dir" "$@" && cmake --build "$repo/$dir" -j"$jobs"
}
export -f configure_and_build
export repo jobs

if [ "${HUDDLE_SKIP_DEPS:-0}" != 1 ]; then
    stage deps 1800 scripts/install-deps.sh test
fi

# Sanitizer settings for every stage that runs an instrumented binary (inherited by the harness).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

# 1. Plain build, warnings are errors.
if stage build 900 configure_and_build build -DCMAKE_BUILD_TYPE=Release -DHUDDLE_WERROR=ON \
    -DHUDDLE_ASAN=OFF -DHUDDLE_TSAN=OFF -DHUDDLE_TESTS=ON; then
    stage unit 600 ctest --test-dir build --output-on-failure -j"$jobs"
    stage integration 900 env HUDDLE_BIN="$repo/build/huddle" tests/integration/run.sh
    plain_ok=1
else
    not_run unit "build failed"
    not_run integration "build failed"
    plain_ok=0
fi

# 2. ASan + UBSan build (LeakSanitizer included on x86_64).
if stage build-asan 900 configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug -DHUDDLE_ASAN=ON \
    -DHUDDLE_TSAN=OFF -DHUDDLE_TESTS=ON; then
    stage unit-asan 900 ctest --test-dir build-asan --output-on-failure -j"$jobs"
    stage integration-asan 1200 env HUDDLE_BIN="$repo/build-asan/huddle" HUDDLE_SANITIZED=asan \
        tests/integration/run.sh
else
    not_run unit-asan "build-asan failed"
    not_run integration-asan "build-asan failed"
fi

# 3. TSan build: the hub/outq concurrency unit tests, then the integration tests against the whole
#    TSan server (CivetWeb's workers, the event loop and the hub's threads meet only there).
# tsan_run CMD...: runs CMD without address-space randomisation when setarch allows it: TSan of
# this toolchain cannot map its shadow memory under high-entropy ASLR (the personality flag is
# inherited, so the harness's server runs without it too).
tsan_run() {
    if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
        setarch "$(uname -m)" -R "$@"
    else
        "$@"
    fi
}
tsan_unit() {
    local n
    n=$(ctest --test-dir build-tsan -N -R 'hub|outq' | awk '/^Total Tests:/ {print $3}')
    if [ "${n:-0}" = 0 ]; then
        echo "WARNING: no unit test matches 'hub|outq': nothing ran under TSan"
        return 0
    fi
    tsan_run ctest --test-dir build-tsan --output-on-failure -j"$jobs" -R 'hub|outq'
}
# Any "WARNING: ThreadSanitizer" in the server's output fails the test that stops it (harness.py);
# halt_on_error=1 also ends the server at the first report. Debian's libcivetweb and libuv are not
# instrumented: a false positive inside libcivetweb alone may go to tests/tsan.supp (used when it
# exists), one commented line each; never huddle's own code. Waits are doubled
# (HUDDLE_TEST_TIMEOUT) for the slower server; HUDDLE_SANITIZED=tsan makes test_transport's
# 1 GiB streams shorter and drops their RSS bound (TSan's shadow memory). The whole run takes
# about 5 minutes on 2 cores, the 200-client soak included.
tsan_integration() {
    local opts=$TSAN_OPTIONS
    [ -f "$repo/tests/tsan.supp" ] && opts="$opts:suppressions=$repo/tests/tsan.supp"
    tsan_run env TSAN_OPTIONS="$opts" HUDDLE_BIN="$repo/build-tsan/huddle" HUDDLE_SANITIZED=tsan \
        HUDDLE_TEST_TIMEOUT=20 tests/integration/run.sh "$@"
}
export -f tsan_run tsan_unit tsan_integration
if [ "${HUDDLE_SKIP_TSAN:-0}" != 1 ]; then
    if stage build-tsan 900 configure_and_build build-tsan -DCMAKE_BUILD_TYPE=Debug -DHUDDLE_TSAN=ON \
        -DHUDDLE_ASAN=OFF -DHUDDLE_TESTS=ON; then
        stage unit-tsan 900 tsan_unit
        stage integration-tsan 1800 tsan_integration
    else
        not_run unit-tsan "build-tsan failed"
        not_run integration-tsan "build-tsan failed"
    fi
fi

# 4. libFuzzer targets (tests/fuzz/fuzz_*.c, clang, ASan+UBSan): each runs FUZZ_SECONDS (20; 0 skips
#    the stage) on a copy of its seed corpus tests/fuzz/corpus/<target>/ in a temporary directory,
#    so the repository's corpus never grows. A crash, leak, timeout or failed check fails the stage;
#    the input that did it is kept as tests/artifacts/fuzz/<target>-crash-<sha1> (replay: run the
#    target with that file as its argument).
fuzz_build() {
    cmake -S "$repo" -B "$repo/build-fuzz" -DCMAKE_C_COMPILER=clang \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUDDLE_FUZZ=ON -DHUDDLE_TESTS=OFF &&
        cmake --build "$repo/build-fuzz" -j"$jobs" --target huddle_fuzz
}
fuzz_targets() {
    local secs=${FUZZ_SECONDS:-20} src t seeds tmp st execs rc=0
    mkdir -p "$art/fuzz"
    for src in "$repo"/tests/fuzz/fuzz_*.c; do
        t=$(basename "$src" .c)
        tmp=$(mktemp -d)
        mkdir "$tmp/corpus"
        seeds="$repo/tests/fuzz/corpus/${t#fuzz_}"
        [ -d "$seeds" ] && cp -R "$seeds/." "$tmp/corpus/"
        (cd "$tmp" && "$repo/build-fuzz/$t" -max_total_time="$secs" -timeout=10 \
            -print_final_stats=1 -artifact_prefix="$art/fuzz/$t-" corpus >log 2>&1)
        st=$?
        execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$tmp/log")
        echo "$t: ${execs:-?} executions in $secs s, exit $st"
        if [ "$st" != 0 ]; then
            tail -n 40 "$tmp/log"
            rc=1
        fi
        rm -rf "$tmp"
    done
    return "$rc"
}
export -f fuzz_build fuzz_targets
if [ "${FUZZ_SECONDS:-20}" != 0 ]; then
    if stage build-fuzz 900 fuzz_build; then
        stage fuzz 600 fuzz_targets
    else
        not_run fuzz "build-fuzz failed"
    fi
fi

# 5. End to end in headless Chromium, against the plain binary.
if [ -f tests/e2e/run.mjs ]; then
    if [ "$plain_ok" = 1 ]; then
        stage e2e 900 env HUDDLE_BIN="$repo/build/huddle" HUDDLE_ARTIFACTS="$art" node tests/e2e/run.mjs
    else
        not_run e2e "build failed"
    fi
else
    echo
    echo "=== e2e: no tests/e2e/run.mjs, nothing to run"
fi

echo
[ "$failed" = 0 ] || echo "failed stages: ${failed_names[*]}"
echo "huddle tests: $passed stages passed, $failed failed"
[ "$failed" = 0 ]
