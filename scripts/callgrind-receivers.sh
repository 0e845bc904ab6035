#!/usr/bin/env bash
# Instructions per request, hookscope headless (store off) against the bare hyper server, at
# 1 KiB: each runs under callgrind while wrk sends signed deliveries for DURATION, and the
# totals are divided by the requests wrk counted. Instruction counts do not depend on what else
# the machine is doing, so small differences show that wrk's req/s cannot resolve. Valgrind
# hides SHA-NI, so SHA-256 runs in software and dominates both totals: compare differences.
#
#   scripts/callgrind-receivers.sh          # DURATION=8s
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8s}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
for tool in wrk valgrind; do
    command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
cargo build --release --quiet --bin hookscope --example bare_receiver
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 scripts/signed-wrk-script.py 1024 "$SECRET" "$WORK/post.lua"

measure() { # $1 label, $2 port, then the server command
    local label=$1 port=$2; shift 2
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$label.out" "$@" >/dev/null 2>"$WORK/$label.err" &
    local pid=$!
    for _ in $(seq 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.2
    done
    local out requests
    out=$(wrk -t1 -c8 -d"$DURATION" -s "$WORK/post.lua" "http://127.0.0.1:$port/")
    echo "$out" | grep -q "Non-2xx" && { echo "$label: non-2xx answers" >&2; exit 1; }
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    local total
    total=$(awk '/^(summary|totals):/ {print $2; exit}' "$WORK/$label.out")
    echo "$label: $requests requests, $((total / requests)) instructions per request"
    # The largest inclusive costs of the server's own functions, per request.
    callgrind_annotate --inclusive=yes "$WORK/$label.out" 2>/dev/null |
        awk -v n="$requests" -v pat="$label" '$0 ~ "[?]:"pat"::" && $1 ~ /^[0-9,]+$/ {
            gsub(",", "", $1); match($0, /[?]:[^ ]+/)
            printf "  %8d  %s\n", $1 / n, substr($0, RSTART + 2, RLENGTH - 2) }' |
        head -12
}

measure bare_receiver 9201 target/release/examples/bare_receiver 127.0.0.1:9201 "$SECRET"
measure hookscope 9202 target/release/hookscope --headless --format json --no-store --port 9202 --secret "$SECRET"
