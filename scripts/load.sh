#!/usr/bin/env bash
# Load run on loopback: signed deliveries through `hookscope send` into a headless hookscope,
# store off and store on, then checks that nothing was lost (answers = JSON lines = store rows)
# and reports throughput, the store-on/store-off ratio and the server's memory.
# Optionally (TUI_RSS=1, needs tmux) measures the inspector's RSS holding 100,000 stored
# deliveries. Bounded: every request loop has a fixed count and the script stops by itself.
#
#   scripts/load.sh                 # N=20000 deliveries per mode, 64 in flight
#   N=100000 C=64 TUI_RSS=1 scripts/load.sh
#   BIN=/tmp/other/hookscope scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
C=${C:-64}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
# BIN=path runs another build (comparing two versions) instead of building this checkout.
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN=target/release/hookscope
fi
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

start_server() { # $1: extra args; sets PID and URL
    rm -f "$WORK/err.txt"
    # shellcheck disable=SC2086
    $BIN --headless --format json --port 0 --secret "$SECRET" $1 >"$WORK/out.jsonl" 2>"$WORK/err.txt" &
    PID=$!
    for _ in $(seq 100); do
        URL=$(sed -n 's/^listening on //p' "$WORK/err.txt" 2>/dev/null || true)
        [ -n "$URL" ] && return 0
        sleep 0.1
    done
    echo "server did not start:"; cat "$WORK/err.txt"; exit 1
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

run_mode() { # $1: label, $2: server args
    start_server "$2"
    local summary
    summary=$($BIN send --to "$URL" --secret "$SECRET" -n "$N" -c "$C" -q | tail -n 1)
    sleep 0.5
    local lines rss rate
    lines=$(wc -l <"$WORK/out.jsonl")
    rss=$(rss_kib "$PID")
    kill "$PID"; wait "$PID" 2>/dev/null || true
    rate=$(echo "$summary" | sed -n 's/.* \([0-9]*\) req\/s/\1/p')
    echo "$1: $summary | JSON lines $lines | server RSS $((rss / 1024)) MiB"
    [ "$lines" -eq "$N" ] || { echo "LOST: $lines JSON lines for $N sent"; exit 1; }
    echo "$summary" | grep -q "2xx $N " || { echo "not every request answered 2xx"; exit 1; }
    eval "RATE_$3=$rate"
}

run_mode "store off" "--no-store" OFF
run_mode "store on " "--store $WORK/load.sqlite3 --retain $N" ON
ROWS=$($BIN history --store "$WORK/load.sqlite3" --limit "$N" --format json | wc -l)
echo "store rows: $ROWS"
[ "$ROWS" -eq "$N" ] || { echo "LOST: $ROWS rows for $N sent"; exit 1; }
awk -v on="$RATE_ON" -v off="$RATE_OFF" 'BEGIN { printf "throughput with the store / without: %.2f (%d vs %d req/s)\n", on / off, on, off }'

if [ "${TUI_RSS:-0}" = 1 ]; then
    # Fill a store with 100,000 deliveries, then open the inspector on it and read its memory.
    STORE="$WORK/rss.sqlite3"
    start_server "--store $STORE --retain 100000"
    $BIN send --to "$URL" --secret "$SECRET" -n 100000 -c "$C" -q | tail -n 1
    kill "$PID"; wait "$PID" 2>/dev/null || true
    SOCK="hookscope-load-$$"
    tmux -L "$SOCK" new-session -d -s rss -x 160 -y 48 "$BIN --port 0 --no-tunnel --store $STORE --retain 100000"
    for _ in $(seq 600); do
        tmux -L "$SOCK" capture-pane -p -t rss | grep -q "100000 from earlier sessions" && break
        sleep 0.1
    done
    TPID=$(tmux -L "$SOCK" display-message -p -t rss '#{pane_pid}')
    echo "inspector holding 100,000 stored deliveries: RSS $(( $(rss_kib "$TPID") / 1024 )) MiB"
    tmux -L "$SOCK" kill-server
fi
