#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# README's test command: installs the test packages, then builds and runs every test stage:
#   build/ (-Werror) unit + integration + e2e, build-asan/ (ASan+UBSan) unit + integration,
#   build-tsan/ (TSan) the hub/outq concurrency unit tests + integration, build-fuzz/ (clang
#   libFuzzer) each fuzz target for FUZZ_SECONDS (20), web-unit (node --test tests/web/*.test.mjs).
# After the package step the stages overlap (see "The schedule" below): the integration tests
# and e2e mostly wait, so each starts as soon as its build is there, each build's integration
# tests in a pool (tests/integration/run.py); builds, unit tests and fuzzing go in two lanes at
# nice 10. Timing-sensitive tests run alone: every stage holds a shared lock on
# tests/artifacts/.cpu.lock (HUDDLE_TEST_LOCK), which such a test takes exclusively.
# Every stage runs even when an earlier one failed (a stage whose build failed counts as failed);
# each stage's output goes to tests/artifacts/NAME.log and is printed whole when the stage ends.
# The end is a table of the stages (result, time, when they ran) and the wall time, then the line
# "huddle tests: N stages passed, M failed"; the exit status is non-zero when any stage failed.
# Environment: HUDDLE_SKIP_DEPS=1 skips the package step, HUDDLE_SKIP_TSAN=1 the TSan stages,
# FUZZ_SECONDS=0 the fuzz stages; HUDDLE_TEST_JOBS sets the integration workers per build (3).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
art="$repo/tests/artifacts"
mkdir -p "$art"
jobs=$(nproc 2>/dev/null || echo 2)
state="$art/.stages" # one file per finished stage: "rc seconds start end"
rm -rf "$state"
mkdir -p "$state"
export HUDDLE_TEST_LOCK="$art/.cpu.lock"
# 3 workers per build: the three pools still end long before e2e does, and the machine stays
# responsive enough for TSan servers to start within their wait
export HUDDLE_TEST_JOBS=${HUDDLE_TEST_JOBS:-3}

# say: prints its input whole, never interleaved with what another stage prints.
say() {
    local fd
    exec {fd}>>"$art/.print.lock"
    flock "$fd"
    cat
    exec {fd}>&-
}

# stage NAME TIMEOUT_S LOCK CMD...: runs CMD (a command or an exported function) with its output
# saved to tests/artifacts/NAME.log and printed when it ends; records the result. LOCK "shared"
# holds the shared lock meanwhile (a stage that uses the CPU); "batch" too, at nice 10 (builds,
# unit tests, fuzzing: work that only needs the CPU sometime, so that the servers and clients of
# the tests that wait get it when they need it); "none" leaves the lock to CMD (the integration
# tests take it themselves).
stage() {
    local name=$1 limit=$2 lock=$3 t0=$SECONDS rc
    shift 3
    echo "... $name: started at $t0 s" | say
    local cmd=(bash -c '"$@"' "$name" "$@")
    [ "$lock" = batch ] && cmd=(nice -n 10 "${cmd[@]}")
    [ "$lock" != none ] && cmd=(flock -o -s "$HUDDLE_TEST_LOCK" "${cmd[@]}")
    timeout --kill-after=10 "$limit" "${cmd[@]}" >"$art/$name.log" 2>&1 </dev/null
    rc=$?
    echo "$rc $((SECONDS - t0)) $t0 $SECONDS" >"$state/$name"
    {
        echo
        echo "=== $name"
        cat "$art/$name.log"
        if [ "$rc" = 0 ]; then
            echo "=== $name: PASS ($((SECONDS - t0)) s)"
        else
            [ "$rc" = 124 ] && echo "=== $name: timed out after $limit s"
            echo "=== $name: FAIL (exit $rc, $((SECONDS - t0)) s, log tests/artifacts/$name.log)"
        fi
    } | say
    return "$rc"
}

# not_run NAME WHY: counts a stage that could not run (its build failed) as failed.
not_run() {
    echo "notrun 0 $SECONDS $SECONDS $2" >"$state/$1"
    echo "not run: $2" >"$art/$1.log"
    printf '\n=== %s: FAIL (not run: %s)\n' "$1" "$2" | say
}

configure_and_build() {
    local dir=$1
    shift
    cmake -S "$repo" -B "$repo/$dir" "$@" && cmake --build "$repo/$dir" -j"$jobs"
}
export -f configure_and_build
export repo jobs

if [ "${HUDDLE_SKIP_DEPS:-0}" != 1 ]; then
    stage deps 1800 none scripts/install-deps.sh test
fi

# Sanitizer settings for every stage that runs an instrumented binary (inherited by the harness).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

# 1. Plain build, warnings are errors.
plain_build() {
    configure_and_build build -DCMAKE_BUILD_TYPE=Release -DHUDDLE_WERROR=ON -DHUDDLE_ASAN=OFF \
        -DHUDDLE_TSAN=OFF -DHUDDLE_TESTS=ON
}
export -f plain_build

# 5. End to end in headless Chromium, against the plain binary.
e2e() {
    if [ ! -f tests/e2e/run.mjs ]; then
        printf '\n=== e2e: no tests/e2e/run.mjs, nothing to run\n' | say
    elif [ "$1" = ok ]; then
        stage e2e 900 shared env HUDDLE_BIN="$repo/build/huddle" HUDDLE_ARTIFACTS="$art" \
            node tests/e2e/run.mjs
    else
        not_run e2e "build failed"
    fi
}

# 2. ASan + UBSan build (LeakSanitizer included on x86_64).
asan_build() {
    configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug -DHUDDLE_ASAN=ON -DHUDDLE_TSAN=OFF \
        -DHUDDLE_TESTS=ON
}
export -f asan_build

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
# 1 GiB streams shorter and drops their RSS bound (TSan's shadow memory).
tsan_integration() {
    local opts=$TSAN_OPTIONS
    [ -f "$repo/tests/tsan.supp" ] && opts="$opts:suppressions=$repo/tests/tsan.supp"
    tsan_run env TSAN_OPTIONS="$opts" HUDDLE_BIN="$repo/build-tsan/huddle" HUDDLE_SANITIZED=tsan \
        HUDDLE_TEST_TIMEOUT=20 tests/integration/run.sh "$@"
}
export -f tsan_run tsan_unit tsan_integration
tsan_build() {
    configure_and_build build-tsan -DCMAKE_BUILD_TYPE=Debug -DHUDDLE_TSAN=ON -DHUDDLE_ASAN=OFF \
        -DHUDDLE_TESTS=ON
}
export -f tsan_build

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
# fuzz_track: the fuzz build, then the targets.
fuzz_track() {
    if stage build-fuzz 900 batch fuzz_build; then
        stage fuzz 600 batch fuzz_targets
    else
        not_run fuzz "build-fuzz failed"
    fi
}

# 6. The page's own unit tests (Node's test runner, no browser); the files are listed, not the
#    folder (Node 21 and later read a folder argument as a glob).
web_unit() {
    node --test tests/web/*.test.mjs
}
export -f web_unit
web_track() {
    if [ -d tests/web ]; then
        stage web-unit 300 batch web_unit
    else
        printf '\n=== web-unit: no tests/web, nothing to run\n' | say
    fi
}

# The schedule. The integration tests and e2e mostly wait: each starts as soon as its build is
# there and runs beside everything else. What needs the CPU (builds, unit tests, fuzzing) goes in
# two lanes at nice 10, one stage after another in each (nproc is 2 on the machines this is timed
# on), so that it never crowds out the waiting stages. The lanes start with the plain build (not
# niced: e2e, the longest stage, waits for it) and the TSan build (the slowest integration run).
# The serial integration tests wait for e2e, so the command takes about the plain build, e2e and
# the three serial parts.
tsan_on() { [ "${HUDDLE_SKIP_TSAN:-0}" != 1 ]; }
fuzz_on() { [ "${FUZZ_SECONDS:-20}" != 0 ]; }
# The integration stages' time limits (1800 s) include the wait for the exclusive lock, at most
# e2e's limit when e2e is still running.
lane_a() {
    if stage build 900 shared plain_build; then # not niced: e2e, the longest stage, waits for it
        stage integration 1800 none env HUDDLE_BIN="$repo/build/huddle" tests/integration/run.sh &
        e2e ok &
        plain_ok=1
    else
        not_run integration "build failed"
        e2e failed
        plain_ok=0
    fi
    if stage build-asan 900 batch asan_build; then
        stage integration-asan 1800 none env HUDDLE_BIN="$repo/build-asan/huddle" \
            HUDDLE_SANITIZED=asan tests/integration/run.sh &
        stage unit-asan 900 batch ctest --test-dir build-asan --output-on-failure -j"$jobs"
    else
        not_run unit-asan "build-asan failed"
        not_run integration-asan "build-asan failed"
    fi
    if [ "$plain_ok" = 1 ]; then
        stage unit 600 batch ctest --test-dir build --output-on-failure -j"$jobs"
    else
        not_run unit "build failed"
    fi
    web_track
    wait
}
lane_b() {
    if tsan_on; then
        if stage build-tsan 900 batch tsan_build; then
            stage integration-tsan 1800 none tsan_integration &
            stage unit-tsan 900 batch tsan_unit
        else
            not_run unit-tsan "build-tsan failed"
            not_run integration-tsan "build-tsan failed"
        fi
    fi
    fuzz_on && fuzz_track
    wait
}
lane_a &
lane_b &
wait

# The summary: every stage in a fixed order, with its time and when it ran (seconds from the start).
passed=0
failed=0
failed_names=()
echo
echo "stage              result    time   from-to (s)   tests"
for name in deps build unit integration e2e build-asan unit-asan integration-asan build-tsan \
    unit-tsan integration-tsan build-fuzz fuzz web-unit; do
    [ -f "$state/$name" ] || continue
    read -r rc secs from to why <"$state/$name"
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        result=PASS
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        result=FAIL
        [ "$rc" = notrun ] && result="NOT RUN"
    fi
    tests=
    if [ "$rc" = notrun ]; then
        tests=$why
    elif [[ $name = integration* ]]; then
        tests=$(sed -n 's/^integration tests: //p' "$art/$name.log" | tail -n 1)
    fi
    printf '%-18s %-8s %5d s  %5d-%-5d   %s\n' "$name" "$result" "$secs" "$from" "$to" "$tests"
done
echo "wall time: $SECONDS s ($((SECONDS / 60)) min $((SECONDS % 60)) s), $jobs cores"

echo
[ "$failed" = 0 ] || echo "failed stages: ${failed_names[*]}"
echo "huddle tests: $passed stages passed, $failed failed"
[ "$failed" = 0 ]
