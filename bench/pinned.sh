#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 8 benchmark: huddle against the Node.js peer in the same run, server pinned to CPU 0 and the
# C load generator (loadgen.c) pinned to CPU 1, each scenario run huddle, node, node, huddle (A B B A)
# on a fresh server each time; a server's figure is the mean of its two runs (errors: the sum).
# Prints a table and writes OUT.txt (the table), OUT.tsv (machine-readable rows, for chart.sh) and
# OUT.raw (every loadgen line). Takes about 4 minutes.
#
#   bench/pinned.sh [OUT]          OUT defaults to bench/results/pinned-<date>
#   HUDDLE_BIN=/path/to/huddle bench/pinned.sh bench/results-after
#   BENCH_ONLY="chat1 fanout" bench/pinned.sh    only these scenarios
#   BENCH_LABEL="built at abc123" ...            describes HUDDLE_BIN in the header
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
out="${1:-$here/results/pinned-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$(dirname "$out")"
tmp="$(mktemp -d /tmp/huddle-pinned.XXXXXX)"
spid=""
cleanup() {
    [ -n "$spid" ] && kill -KILL "$spid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(nproc)" -ge 2 ] || { echo "pinned.sh: needs 2 CPUs (server on 0, load on 1)" >&2; exit 1; }
command -v node >/dev/null || { echo "pinned.sh: needs node (apt-get install nodejs npm)" >&2; exit 1; }

if [ -z "${HUDDLE_BIN:-}" ]; then
    echo "== building huddle (Release) in build-bench/" >&2
    cmake -S "$repo" -B "$repo/build-bench" -DCMAKE_BUILD_TYPE=Release -DHUDDLE_TESTS=OFF >/dev/null
    cmake --build "$repo/build-bench" -j"$(nproc)" >/dev/null
    HUDDLE_BIN="$repo/build-bench/huddle"
fi
loadgen="$tmp/loadgen"
cc -O2 -std=c11 -Wall -Wextra -o "$loadgen" "$here/loadgen.c"
[ -d "$here/node-peer/node_modules/ws" ] ||
    (cd "$here/node-peer" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

# 5,000 sessions: a descriptor each on both sides, plus slack.
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"

# A port no one listens on, below the ephemeral range the 5,000 client sockets draw from.
free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + RANDOM % 12000))
        [ -z "$(ss -Hltn "sport = :$p")" ] && { echo "$p"; return; }
    done
    echo "pinned.sh: no free port" >&2
    exit 1
}

threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# huddle's capacity keys: max_connections = 10000 when the binary accepts it (an event-loop server),
# else the thread-per-connection limits sized for the scenario (max_connections <= num_threads - 4).
huddle_capacity=""
huddle_conf() { # need mode
    {
        echo "log_level = warn"
        echo "rate_limit_per_sec = 0"
        echo "max_room_members = 50"
        if [ "$2" = lifted ]; then
            echo "max_connections = 10000"
            # every load-generator client is on 127.0.0.1: no per-address caps, no flood close
            echo "max_connections_per_ip = 0"
            echo "max_http_connections_per_ip = 0"
            echo "flood_close_after = 0"
        else
            local n=$(($1 + 20))
            [ "$n" -lt 64 ] && n=64
            echo "num_threads = $n"
            echo "max_connections = $((n - 4))"
        fi
    } >"$tmp/huddle.conf"
}

# Starts one server pinned to CPU 0; sets spid and port. Returns 1 when it exits before listening.
start_server() { # kind need
    port="$(free_port)"
    local log="$tmp/server.log"
    if [ "$1" = huddle ]; then
        huddle_conf "$2" "${huddle_capacity:-lifted}"
        taskset -c 0 "$HUDDLE_BIN" --bind 127.0.0.1 --port "$port" --root "$repo/www" \
            --config "$tmp/huddle.conf" >"$log" 2>&1 &
    else
        HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn RATE_LIMIT_PER_SEC=0 MAX_ROOM_MEMBERS=50 \
            MAX_CONNECTIONS=10000 taskset -c 0 node "$here/node-peer/server.js" >"$log" 2>&1 &
    fi
    spid=$!
    for _ in $(seq 1 200); do
        kill -0 "$spid" 2>/dev/null || { wait "$spid" 2>/dev/null || true; spid=""; return 1; }
        [ -n "$(ss -Hltn "sport = :$port")" ] && break
        sleep 0.1
    done
    # CivetWeb starts its worker threads after listening: wait until the count stays put.
    local last=-1 same=0 n
    for _ in $(seq 1 300); do
        n="$(threads "$spid")"
        if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; fi
        last="$n"
        [ "$same" -ge 5 ] && break
        sleep 0.1
    done
}

stop_server() {
    [ -n "$spid" ] || return 0
    kill -TERM "$spid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    spid=""
}

# Starts huddle, falling back to the sized thread limits once if max_connections = 10000 is refused.
start_huddle() { # need
    if start_server huddle "$1"; then
        huddle_capacity="${huddle_capacity:-lifted}"
        return
    fi
    if [ -z "$huddle_capacity" ]; then
        huddle_capacity=sized
        start_server huddle "$1" && return
    fi
    echo "pinned.sh: huddle did not start:" >&2
    cat "$tmp/server.log" >&2
    exit 1
}

# Runs one scenario A B B A; appends "scenario kind key=value..." lines to OUT.raw.
run_scenario() { # name need loadgen-args...
    local name="$1" need="$2" kind line
    shift 2
    for kind in huddle node node huddle; do
        if [ "$kind" = huddle ]; then
            start_huddle "$need"
        else
            start_server node "$need" || { cat "$tmp/server.log" >&2; exit 1; }
        fi
        line="$(timeout 180 taskset -c 1 "$loadgen" --port "$port" --pid "$spid" "$@" 2>>"$tmp/loadgen.err")" ||
            line="errors=1 loadgen_failed=1"
        stop_server
        echo "$name $kind $line" >>"$out.raw"
        echo "  $name $kind: $line" >&2
    done
}

# Table rows: scenario key metric better (higher, lower, info; errors are summed, not averaged).
rows() {
    local c
    for c in chat1 chat50 chat500; do
        cat <<EOF
$c msgs_per_s chat_msgs/s higher
$c p50_us round_trip_p50_µs lower
$c p99_us round_trip_p99_µs lower
$c cpu_us_per_msg server_CPU_µs/msg lower
$c server_cpu_pct server_CPU_% info
$c gen_cpu_pct loadgen_CPU_% info
$c errors errors lower
EOF
    done
    cat <<EOF
fanout msgs_per_s deliveries/s higher
fanout p50_us delivery_p50_µs lower
fanout p95_us delivery_p95_µs lower
fanout p99_us delivery_p99_µs lower
fanout cpu_us_per_msg server_CPU_µs/delivery lower
fanout errors errors lower
connect hs_p50_us handshake_p50_µs lower
connect hs_p99_us handshake_p99_µs lower
connect rate_reached connects/s_reached higher
connect cpu_us_per_conn server_CPU_µs/connection lower
connect errors errors lower
idle held sessions_held higher
idle rss_kib_per_session RSS_KiB/session lower
idle rss_after_kib RSS_after_KiB info
idle hs_p99_us handshake_p99_µs lower
idle rate_reached connects/s_reached higher
idle errors errors lower
EOF
}

titles() {
    cat <<EOF
chat1 1. chat round trip, 1 connection, 1 in flight
chat50 1. chat round trip, 50 connections, rooms of 1
chat500 1. chat round trip, 500 connections, rooms of 1
fanout 2. fan-out, 50 members, 1 sender at 200 msgs/s
connect 3. 1,000 connections opened at 2,000/s
idle 4. 5,000 idle sessions in rooms of 8
EOF
}

# OUT.raw -> OUT.tsv: scenario, metric, huddle, node, ratio huddle/node, better.
summarize() {
    rows | awk -v raw="$out.raw" '
        BEGIN {
            OFS = "\t"
            while ((getline l < raw) > 0) {
                n = split(l, f, " ")
                for (i = 3; i <= n; i++) {
                    split(f[i], kv, "=")
                    k = f[1] SUBSEP f[2] SUBSEP kv[1]
                    sum[k] += kv[2]; cnt[k]++
                }
            }
            print "scenario", "metric", "huddle", "node", "ratio", "better"
        }
        {
            kh = $1 SUBSEP "huddle" SUBSEP $2; kn = $1 SUBSEP "node" SUBSEP $2
            if (!(kh in cnt) || !(kn in cnt)) next
            hv = sum[kh]; nv = sum[kn]
            if ($2 != "errors") { hv /= cnt[kh]; nv /= cnt[kn] }
            ratio = (nv != 0 && $4 != "info" && $2 != "errors") ? sprintf("%.2f", hv / nv) : "-"
            print $1, $3, sprintf("%.2f", hv), sprintf("%.2f", nv), ratio, $4
        }'
}

# OUT.tsv -> the printed table.
table() {
    awk -F'\t' -v titles="$(titles)" '
        function num(x) { return (x >= 100 || x == int(x)) ? sprintf("%\047.0f", x) : sprintf("%.1f", x) }
        BEGIN {
            n = split(titles, t, "\n")
            for (i = 1; i <= n; i++) { k = substr(t[i], 1, index(t[i], " ") - 1); title[k] = substr(t[i], index(t[i], " ") + 1) }
            printf "%-50s %-26s %12s %12s %12s  %s\n", "scenario", "metric", "huddle", "Node", "huddle/Node", "better"
        }
        NR > 1 {
            m = $2; gsub("_", " ", m)
            printf "%-50s %-26s %12s %12s %12s  %s\n", (title[$1] != last ? title[$1] : ""), m, num($3), num($4), $5, ($6 == "info" ? "" : $6)
            last = title[$1]
        }' "$out.tsv"
}

: >"$out.raw"
only="${BENCH_ONLY:-chat1 chat50 chat500 fanout connect idle}"
load0="$(cut -d' ' -f1 /proc/loadavg)"
t0=$(date +%s)
echo "== running: $only (about 4 minutes)" >&2
for s in $only; do
    case "$s" in
    chat1) run_scenario chat1 1 --mode chat --conns 1 --warmup 1 --seconds 5 ;;
    chat50) run_scenario chat50 50 --mode chat --conns 50 --warmup 1 --seconds 5 ;;
    chat500) run_scenario chat500 500 --mode chat --conns 500 --warmup 1 --seconds 5 ;;
    fanout) run_scenario fanout 50 --mode fanout --members 50 --rate 200 --warmup 1 --seconds 8 ;;
    connect) run_scenario connect 1000 --mode connect --conns 1000 --rate 2000 ;;
    idle) run_scenario idle 5000 --mode idle --conns 5000 --rate 5000 --seconds 2 --timeout 90 ;;
    *) echo "pinned.sh: unknown scenario $s" >&2; exit 2 ;;
    esac
done
summarize >"$out.tsv"
{
    echo "# huddle vs Node.js peer, bench/pinned.sh, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "# huddle: $("$HUDDLE_BIN" --version 2>/dev/null), ${BENCH_LABEL:-repository at $(git -C "$repo" rev-parse --short HEAD)}," \
        "capacity: $([ "$huddle_capacity" = lifted ] && echo 'max_connections = 10000' ||
            echo 'num_threads = need + 20, max_connections = num_threads - 4')"
    echo "# node: $(node --version), ws $(node -p "require('$here/node-peer/node_modules/ws/package.json').version")"
    echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
        "Linux $(uname -r); load average $load0 at start, $(cut -d' ' -f1 /proc/loadavg) at end;" \
        "$(($(date +%s) - t0)) s"
    echo "# server on CPU 0, loadgen on CPU 1; A B B A, mean of 2 runs per server (errors: sum)"
    echo
    table
} >"$out.txt"
cat "$out.txt"
if [ -s "$tmp/loadgen.err" ]; then
    echo "== loadgen messages (first 20):" >&2
    head -20 "$tmp/loadgen.err" >&2
fi
