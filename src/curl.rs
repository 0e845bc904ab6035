//! Builds a shell command that re-sends a delivery byte-for-byte with its headers.

use crate::delivery::Delivery;
use std::fmt::Write as _;

/// Whether a recorded header is left to curl: those it sets itself (host, content-length,
/// expect) and those of the original connection.
fn curl_sets(name: &str) -> bool {
    crate::forward::is_hop_by_hop(name)
        || ["host", "content-length", "expect"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
}

/// `curl` re-sending `d` to `base` (e.g. `http://127.0.0.1:8787`) + its original path.
pub fn command(d: &Delivery, base: &str) -> String {
    // A body that is not one line of plain text goes through curl's standard input, written
    // by printf: no shell can pass a NUL byte in an argument (a C string ends there), and
    // printf's octal escapes read the same in sh, bash, zsh and fish, where `$'…'` is bash's
    // and zsh's only (a pretty-printed payload's newlines made every such command bash-only).
    let piped = !d.body.is_empty() && !argument(&d.body);
    let mut out = if piped {
        format!("printf {} | curl", printf_format(&d.body))
    } else {
        String::from("curl")
    };
    if d.method != "POST" || d.body.is_empty() {
        let _ = write!(out, " -X {}", quote(d.method.as_bytes()));
    }
    let url = format!("{}{}", base.trim_end_matches('/'), d.path);
    let _ = write!(out, " {}", quote(url.as_bytes()));
    for (name, value) in &d.headers {
        if curl_sets(name) {
            continue;
        }
        let mut h = name.as_bytes().to_vec();
        h.extend_from_slice(b": ");
        h.extend_from_slice(value);
        let _ = write!(out, " \\\n  -H {}", quote(&h));
    }
    if piped {
        out.push_str(" \\\n  --data-binary @-");
    } else if !d.body.is_empty() {
        let _ = write!(out, " \\\n  --data-binary {}", quote(&d.body));
    }
    out
}

/// A single-quoted printf format that writes exactly `bytes`: printable ASCII as itself (`%`
/// doubled), every other byte, `'` and `\\` as a POSIX octal escape, which the printf of sh,
/// bash, zsh and fish all read (a `\\\\` would be one backslash to fish before printf saw it).
fn printf_format(bytes: &[u8]) -> String {
    let mut out = String::from("'");
    for &b in bytes {
        match b {
            b'%' => out.push_str("%%"),
            b'\\' => out.push_str("\\134"),
            b'\'' => out.push_str("\\047"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('\'');
    out
}

/// Whether `bytes` are text that single quotes carry as they are: UTF-8 on one line, nothing
/// a terminal would act on.
fn plain(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .map(|s| {
            !s.chars()
                .any(|c| crate::sanitize::is_unsafe(c) || c == '\n')
        })
        .unwrap_or(false)
}

/// Whether a body can be curl's argument as it is, in single quotes that every shell reads the
/// same: plain text without a backslash, which fish would halve even there (JSON escapes such
/// as `\"` are common).
fn argument(body: &[u8]) -> bool {
    plain(body) && !body.contains(&b'\\')
}

/// POSIX single quotes when the bytes are plain printable text, else bash/zsh `$'…'` with
/// `\xNN` escapes, so any byte sequence survives the shell exactly.
pub fn quote(bytes: &[u8]) -> String {
    if plain(bytes) {
        let s = String::from_utf8_lossy(bytes);
        return format!("'{}'", s.replace('\'', "'\\''"));
    }
    let mut out = String::from("$'");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_curl_sets_or_the_connection_owned_are_left_out() {
        let mut b =
            crate::testing::Builder::new(&[], time::macros::datetime!(2026-11-27 10:00 UTC));
        let d = b.request(
            "POST",
            "/hooks",
            vec![
                ("host".into(), b"example.test".to_vec()),
                ("Keep-Alive".into(), b"timeout=5".to_vec()),
                ("expect".into(), b"100-continue".to_vec()),
                ("proxy-authorization".into(), b"Basic eA==".to_vec()),
                (":authority".into(), b"abc.ngrok-free.app".to_vec()),
                ("svix-id".into(), b"msg_1".to_vec()),
            ],
            b"{}",
        );
        let cmd = command(&d, "http://127.0.0.1:8787");
        assert!(cmd.contains("-H 'svix-id: msg_1'"), "{cmd}");
        for gone in [
            "host:",
            "Keep-Alive",
            "expect",
            "proxy-authorization",
            ":authority",
        ] {
            assert!(!cmd.contains(gone), "{gone} in {cmd}");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(b"it's"), "'it'\\''s'");
        assert_eq!(quote(b"a\nb\x1b\xff'\\"), "$'a\\nb\\x1b\\xff\\'\\\\'");
        assert_eq!(quote("Zoë".as_bytes()), "'Zoë'");
    }

    /// What the command sends as the body, run by `shell` with a stand-in `curl` that writes
    /// its `--data-binary` (an argument, or its standard input for `@-`); `None` without that
    /// shell here.
    fn body_sent(shell: &str, command: &str) -> Option<Vec<u8>> {
        let stand_in = r#"curl() {
            while [ $# -gt 0 ]; do
                if [ "$1" = --data-binary ]; then
                    shift
                    if [ "$1" = @- ]; then cat; else printf %s "$1"; fi
                fi
                shift
            done
        }"#;
        // fish has functions of its own syntax.
        let fish_stand_in = "function curl
            while test (count $argv) -gt 0
                if test $argv[1] = --data-binary
                    set -e argv[1]
                    if test $argv[1] = @-; cat; else; printf %s $argv[1]; end
                end
                set -e argv[1]
            end
        end";
        let stand_in = if shell == "fish" {
            fish_stand_in
        } else {
            stand_in
        };
        let out = std::process::Command::new(shell)
            .arg("-c")
            .arg(format!("{stand_in}\n{command}"))
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(out.stdout)
    }

    #[test]
    fn the_command_sends_the_body_byte_for_byte_in_any_shell() {
        let mut b =
            crate::testing::Builder::new(&[], time::macros::datetime!(2026-11-27 10:00 UTC));
        let every_byte: Vec<u8> = (0..=255).collect();
        for body in [
            &b"{\"a\": \"it's 100% fine\"}"[..],
            b"{\"a\": \"it's 100% \\\\ fine, \\\"quoted\\\"\"}",
            b"{\n  \"pretty\": \"it's 100% \\\\ \\n \xc3\xa9\"\n}\n",
            b"nul \x00 in the middle\x00",
            b"\x00",
            b"\xff\xfe not UTF-8 \x1b[2J",
            &every_byte,
        ] {
            let d = b.request(
                "POST",
                "/hooks",
                vec![("svix-id".into(), b"msg_1".to_vec())],
                body,
            );
            let cmd = command(&d, "http://127.0.0.1:8787");
            // Only one line of text without a backslash is an argument; the rest is piped, in
            // every shell's terms.
            assert_eq!(cmd.contains("@-"), !argument(body), "{cmd}");
            assert!(!cmd.contains("$'"), "{cmd}");
            // bash, a POSIX sh (dash on Debian) and fish (where installed) alike.
            for shell in ["bash", "sh", "fish"] {
                if let Some(sent) = body_sent(shell, &cmd) {
                    assert_eq!(sent, body, "{shell}: {cmd}");
                }
            }
        }
    }

    #[test]
    fn quoted_bytes_survive_bash_exactly() {
        let Ok(out) = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("printf %s {}", quote(b"a\nb\x1b\xff\x01'\\\"$x`z")))
            .output()
        else {
            return; // no bash here: the other tests cover the format
        };
        assert_eq!(out.stdout, b"a\nb\x1b\xff\x01'\\\"$x`z");
    }
}
