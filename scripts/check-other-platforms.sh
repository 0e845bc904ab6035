#!/usr/bin/env bash
# Type-checks hookscope (library, binary, tests, benches) with clippy for macOS and Windows,
# where it cannot be built here: the code has Linux-only paths (/proc, poll(2) on the terminal,
# a non-blocking stdout) and a slip there would only show on someone's Mac.
#
# ring and mimalloc compile C in their build scripts, for which this machine has no compiler
# for those targets; `cargo check` never links, so a stand-in compiler that makes empty objects
# (and an `ar` that makes an empty archive) is enough for the Rust to be checked.
#
# macOS is checked on Apple silicon (aarch64): that covers code for an architecture other than
# this machine's too (src/probe.rs's vector paths are x86_64's only), which Intel macOS would
# not.
#
# Needs the targets' standard libraries (`rustup target add aarch64-apple-darwin
# x86_64-pc-windows-gnu`); a target that cannot be had is skipped with a message, so a machine
# without network still runs the rest of CI.
set -euo pipefail
cd "$(dirname "$0")/.."

stand_ins=$(mktemp -d)
trap 'rm -rf "$stand_ins"' EXIT
cat > "$stand_ins/cc" <<'CC'
#!/bin/sh
# Writes the requested output (-o FILE or -oFILE), empty.
out=
prev=
for a in "$@"; do
    [ "$prev" = "-o" ] && out=$a
    case $a in -o?*) out=${a#-o} ;; esac
    prev=$a
done
[ -n "$out" ] && : > "$out"
exit 0
CC
cat > "$stand_ins/ar" <<'AR'
#!/bin/sh
# Writes every archive named, empty.
for a in "$@"; do
    case $a in *.a) printf '!<arch>\n' > "$a" ;; esac
done
exit 0
AR
chmod +x "$stand_ins/cc" "$stand_ins/ar"

for target in aarch64-apple-darwin x86_64-pc-windows-gnu; do
    if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        if ! timeout 300 rustup target add "$target"; then
            echo "SKIPPED the $target check: its standard library could not be installed" >&2
            continue
        fi
    fi
    var=${target//-/_}
    echo "checking for $target" >&2
    env "CC_$var=$stand_ins/cc" "AR_$var=$stand_ins/ar" \
        CARGO_TARGET_DIR="target/check-$target" \
        cargo clippy --target "$target" --all-targets --locked -- -D warnings
done
