#!/usr/bin/env bash
# Receiver throughput and latency, side by side in one run on this machine (loopback only, each
# run bounded by DURATION): hookscope headless with the store off and on, a bare hyper server
# doing the same HMAC check (examples/bare_receiver.rs), and the provider quickstart's Node
# receiver (Node http + svix 1.x). The server is pinned to core 0, wrk to core 1, 64 keep-alive
# connections, signed 1 KiB and 64 KiB bodies (signed once: runs stay inside the 5-minute
# tolerance). The machine is shared and noisy, so the four receivers take turns, ROUNDS times
# over; the table gives each one's median round and the ratios of medians.
#
#   scripts/bench-receivers.sh            # DURATION=10s ROUNDS=3
#   DURATION=30s ROUNDS=5 SIZES="1024 65536" scripts/bench-receivers.sh
#   SHAPE=nested SIZES=65536 scripts/bench-receivers.sh   # provider-shaped payloads
# (SHAPE: see scripts/signed-wrk-script.py; the default, one long string, is what
# BENCHMARKS.md's main table uses.)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
[[ $DURATION =~ ^[0-9]+s$ ]] || { echo "DURATION is in seconds, like 10s" >&2; exit 2; }
# The `time` keyword's report of wrk: user and system seconds.
TIMEFORMAT='%U %S'
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-"1024 65536"}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin hookscope --example bare_receiver
(cd scripts/node-receiver && npm install --silent --no-audit --no-fund >/dev/null)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

lua_for() { # $1 size → $WORK/post-$1.lua with a signed body of that size
    python3 scripts/signed-wrk-script.py "$1" "$SECRET" "$WORK/post-$1.lua"
}

wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listening on $1" >&2; exit 1
}

run() { # $1 label, $2 port, $3 size, then the server command
    local label=$1 port=$2 size=$3; shift 3
    taskset -c 0 "$@" >/dev/null 2>&1 &
    local pid=$!
    wait_port "$port"
    # Check the server accepts the signed request before measuring it.
    local status
    status=$(taskset -c 1 wrk -t1 -c1 -d1s -s "$WORK/post-$size.lua" "http://127.0.0.1:$port/" 2>&1 | grep -c "Non-2xx" || true)
    [ "$status" = 0 ] || { echo "$label answered non-2xx to a signed request" >&2; exit 1; }
    local out rps p50 p99 requests cpu_before cpu_after client
    # The server's CPU time (every thread, user and system) over the measured run, and wrk's:
    # with one core each, wrk is itself near its limit, so req/s also depends on how cheap an
    # answer is for it to read; CPU per request is the server's own cost.
    cpu_before=$(server_cpu "$pid")
    out=$( { time taskset -c 1 wrk -t1 -c64 -d"$DURATION" --latency -s "$WORK/post-$size.lua" "http://127.0.0.1:$port/"; } 2>"$WORK/wrk-time")
    cpu_after=$(server_cpu "$pid")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    client=$(awk -v d="${DURATION%s}" 'NF == 2 {printf "%.0f", ($1 + $2) * 100 / d}' "$WORK/wrk-time")
    echo "$out" | grep -q "Non-2xx" && { echo "$label: non-2xx answers under load" >&2; exit 1; }
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local us_per_req
    us_per_req=$(awk -v a="$cpu_before" -v b="$cpu_after" -v t="$(getconf CLK_TCK)" -v n="$requests" \
        'BEGIN {printf "%.2f", (b - a) / t * 1e6 / n}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$label" "$rps" "$p50" "$p99" "$us_per_req" "$client" >>"$WORK/results.tsv"
    echo "  round: $label, $size B: $rps req/s, $us_per_req µs CPU per request, wrk ${client}% busy" >&2
}

server_cpu() { # $1 pid → its user + system time so far, in clock ticks
    # Field 2 (the command) may hold spaces; count from the closing parenthesis.
    sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

for size in $SIZES; do
    for round in $(seq "$ROUNDS"); do
        # Re-signed each round: a long run must stay inside the 5-minute tolerance.
        lua_for "$size"
        run "hookscope (store off)" 9101 "$size" target/release/hookscope --headless --format json --no-store --port 9101 --secret "$SECRET"
        rm -f "$WORK/bench-$size.sqlite3"*
        run "hookscope (store on)" 9102 "$size" target/release/hookscope --headless --format json --store "$WORK/bench-$size.sqlite3" --port 9102 --secret "$SECRET"
        run "bare hyper + HMAC" 9103 "$size" target/release/examples/bare_receiver 127.0.0.1:9103 "$SECRET"
        run "Node http + svix 1.x" 9104 "$size" env PIVOTAL_WEBHOOK_SECRET="$SECRET" node scripts/node-receiver/server.js 9104
    done
done

# Median round per receiver and size (by req/s, with that round's latencies), then ratios.
python3 - "$WORK/results.tsv" "$ROUNDS" <<'PY'
import collections, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    size, label, rps, p50, p99, us, client = line.rstrip("\n").split("\t")
    rows[(int(size), label)].append((int(rps), p50, p99, float(us), client))
print(f"| receiver | body | req/s (median of {sys.argv[2]}) | p50 | p99 | server CPU per request (median) | wrk's core busy | all rounds |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
median, cpu = {}, {}
for (size, label), runs in rows.items():
    rps, p50, p99, _, client = sorted(runs)[len(runs) // 2]
    median[(size, label)] = rps
    cpu[(size, label)] = sorted(r[3] for r in runs)[len(runs) // 2]
    rounds = ", ".join(f"{r[0]:,}" for r in runs)
    print(f"| {label} | {size // 1024} KiB | {rps:,} | {p50} | {p99} | "
          f"{cpu[(size, label)]:.2f} µs | {client}% | {rounds} |")
print()
for size in sorted({s for s, _ in median}):
    hs, key = median[(size, "hookscope (store off)")], (size, "hookscope (store off)")
    print(f"- {size // 1024} KiB: hookscope (store off) / bare hyper = "
          f"{hs / median[(size, 'bare hyper + HMAC')]:.2f} in req/s, "
          f"{cpu[(size, 'bare hyper + HMAC')] / cpu[key]:.2f} in CPU per request; / Node = "
          f"{hs / median[(size, 'Node http + svix 1.x')]:.1f}; store on / store off = "
          f"{median[(size, 'hookscope (store on)')] / hs:.2f}")
PY
