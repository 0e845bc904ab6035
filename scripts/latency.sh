#!/usr/bin/env bash
# The inspector under load, in a real terminal (tmux), on loopback; bounded, stops by itself.
#
# 1. Delivery-to-screen latency at a steady rate: `hookscope send --rate` fires RATE signed
#    deliveries per second for N deliveries into the inspector, which (HOOKSCOPE_LATENCY_LOG)
#    logs for each one the time from its arrival at the receiver to the end of the first frame
#    drawn after it reached the UI. Store off and store on. Fails unless every delivery shows up.
# 2. Memory: the inspector's RSS after RSS_N (100,000) deliveries of 1 KiB, store off (all held
#    in memory: --retain RSS_N) and store on (bodies stay on disk).
#
#   scripts/latency.sh                       # RATE=1000 N=10000 RSS_N=100000
#   RATE=2000 N=20000 RSS_N=0 scripts/latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-1000}
N=${N:-10000}
RSS_N=${RSS_N:-100000}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; }
cargo build --release --quiet --bin hookscope
BIN=$PWD/target/release/hookscope
WORK=$(mktemp -d)
SOCK="hookscope-latency-$$"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listening on $1" >&2; tmux -L "$SOCK" capture-pane -p -t ui >&2 || true; exit 1
}

start_ui() { # $1 port, $2 extra args; env LOG for the latency log
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    tmux -L "$SOCK" new-session -d -s ui -x 160 -y 48 \
        "HOOKSCOPE_LATENCY_LOG=${LOG:-} $BIN --port $1 --no-tunnel --secret $SECRET $2"
    wait_port "$1"
}

ui_pid() { # the pane runs hookscope itself (sh execs a lone command); check rather than assume
    local pid
    pid=$(tmux -L "$SOCK" display-message -p -t ui '#{pane_pid}')
    [ "$(cat "/proc/$pid/comm")" = hookscope ] || pid=$(pgrep -P "$pid" hookscope)
    echo "$pid"
}

stop_ui() {
    tmux -L "$SOCK" send-keys -t ui q
    for _ in $(seq 50); do
        tmux -L "$SOCK" has-session -t ui 2>/dev/null || return 0
        sleep 0.1
    done
    tmux -L "$SOCK" kill-server
}

percentiles() { # microseconds on stdin → "p50 p90 p99 max" in ms
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "no samples"; exit 1 }
        printf "%d samples: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", NR,
            v[int(NR * 0.50) + (NR * 0.50 > int(NR * 0.50))] / 1000,
            v[int(NR * 0.90) + (NR * 0.90 > int(NR * 0.90))] / 1000,
            v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))] / 1000, v[NR] / 1000 }'
}

latency() { # $1 label, $2 extra args
    local port log
    port=$(free_port)
    log="$WORK/latency-$port.txt"
    LOG=$log start_ui "$port" "$2"
    "$BIN" send --to "http://127.0.0.1:$port/" --secret "$SECRET" -n "$N" -c 32 --rate "$RATE" -q \
        | tail -n 1
    sleep 1
    stop_ui
    local got
    got=$(wc -l <"$log")
    [ "$got" -eq "$N" ] || { echo "LOST: $got of $N deliveries reached the screen"; exit 1; }
    printf '%s, %s/s: ' "$1" "$RATE"
    percentiles <"$log"
}

rss() { # $1 label, $2 extra args
    local port body
    port=$(free_port)
    body="$WORK/1k.json"
    python3 -c 'import json; print(json.dumps({"type": "customer.created", "id": "evt_rss", "data": {"pad": "x" * 958}}), end="")' >"$body"
    start_ui "$port" "$2"
    "$BIN" send --to "http://127.0.0.1:$port/" --secret "$SECRET" -n "$RSS_N" -c 64 \
        --data "@$body" -q | tail -n 1
    sleep 2
    echo "$1: inspector RSS after $RSS_N deliveries of $(wc -c <"$body") B: $(( $(awk '/^VmRSS/ {print $2}' "/proc/$(ui_pid)/status") / 1024 )) MiB"
    stop_ui
}

latency "store off" "--no-store"
latency "store on" "--store $WORK/latency.sqlite3"
if [ "$RSS_N" -gt 0 ]; then
    rss "store off" "--no-store --retain $RSS_N"
    rss "store on" "--store $WORK/rss.sqlite3 --retain $RSS_N"
fi
