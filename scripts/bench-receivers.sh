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
    local out rps p50 p99
    out=$(taskset -c 1 wrk -t1 -c64 -d"$DURATION" --latency -s "$WORK/post-$size.lua" "http://127.0.0.1:$port/")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    echo "$out" | grep -q "Non-2xx" && { echo "$label: non-2xx answers under load" >&2; exit 1; }
    kill "$pid"; wait "$pid" 2>/dev/null || true
    printf '%s\t%s\t%s\t%s\t%s\n' "$size" "$label" "$rps" "$p50" "$p99" >>"$WORK/results.tsv"
    echo "  round: $label, $size B: $rps req/s" >&2
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
    size, label, rps, p50, p99 = line.rstrip("\n").split("\t")
    rows[(int(size), label)].append((int(rps), p50, p99))
print(f"| receiver | body | req/s (median of {sys.argv[2]}) | p50 | p99 | all rounds |")
print("| --- | --- | ---: | ---: | ---: | --- |")
median = {}
for (size, label), runs in rows.items():
    ordered = sorted(runs)
    rps, p50, p99 = ordered[len(ordered) // 2]
    median[(size, label)] = rps
    rounds = ", ".join(f"{r:,}" for r, _, _ in runs)
    print(f"| {label} | {size // 1024} KiB | {rps:,} | {p50} | {p99} | {rounds} |")
print()
for size in sorted({s for s, _ in median}):
    hs = median[(size, "hookscope (store off)")]
    print(f"- {size // 1024} KiB: hookscope (store off) / bare hyper = "
          f"{hs / median[(size, 'bare hyper + HMAC')]:.2f}, / Node = "
          f"{hs / median[(size, 'Node http + svix 1.x')]:.1f}; store on / store off = "
          f"{median[(size, 'hookscope (store on)')] / hs:.2f}")
PY
