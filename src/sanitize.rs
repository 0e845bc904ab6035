//! Makes untrusted text (paths, headers, bodies, ids) safe to print on a terminal.
//!
//! Anything that could drive the terminal — C0/C1 controls, ESC, DEL, bidi overrides and other
//! invisible formatting characters — is rendered as a visible escape (`\x1b`, `\u{202e}`), so a
//! payload can never clear the screen, move the cursor, set the clipboard (OSC 52) or the title.
//! So are the few characters whose width terminals disagree on, which would leave a full-screen
//! view's cells out of step with what the terminal drew.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for characters that must never reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // bidi embeddings, overrides and isolates (Trojan Source)
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
            // zero-width and other invisible format characters
            | '\u{200b}'..='\u{200d}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
            // tags: invisible text riding along (and the letters of subdivision flags)
            | '\u{e0001}' | '\u{e0020}'..='\u{e007f}'
            // Emoji presentation selectors and skin tones: ratatui (unicode-width) counts
            // `❤\u{fe0f}` as 2 cells and `👍\u{1f3fd}` as 2, terminals that count code points
            // (tmux, xterm) 1 and 4, so the cells after them were drawn where ratatui did not
            // believe, and old text stayed on screen. Only these change a cluster's width
            // (a test holds it for every character after a set of bases).
            | '\u{fe0e}' | '\u{fe0f}' | '\u{1f3fb}'..='\u{1f3ff}')
}

/// Whether `s` holds a character [`is_unsafe`] flags, read from its UTF-8 bytes: the lead bytes
/// of every such character (C0 and C1 controls, DEL, U+061C, U+200B–U+200F, U+2028–U+202E,
/// U+2066–U+2069, U+FE0E–U+FE0F, U+FEFF, U+FFF9–U+FFFB, U+1F3FB–U+1F3FF, tags) are few, so
/// text without them, ASCII or not, is passed over without decoding a character (a test holds
/// it to `is_unsafe` for every char).
pub fn has_unsafe(s: &str) -> bool {
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        let unsafe_here = match c {
            0x20..=0x7e => continue,
            0x00..=0x1f | 0x7f => true,
            0xc2 => (0x80..=0x9f).contains(&at(i)),
            0xd8 => at(i) == 0x9c,
            0xe2 => match at(i) {
                0x80 => matches!(at(i + 1), 0x8b..=0x8f | 0xa8..=0xae),
                0x81 => (0xa6..=0xa9).contains(&at(i + 1)),
                _ => false,
            },
            0xef => matches!(
                (at(i), at(i + 1)),
                (0xbb, 0xbf) | (0xbf, 0xb9..=0xbb) | (0xb8, 0x8e | 0x8f)
            ),
            0xf0 => matches!((at(i), at(i + 1), at(i + 2)), (0x9f, 0x8f, 0xbb..=0xbf)),
            0xf3 => matches!(
                (at(i), at(i + 1), at(i + 2)),
                (0xa0, 0x80, 0x81 | 0xa0..=0xbf) | (0xa0, 0x81, 0x80..=0xbf)
            ),
            _ => false,
        };
        if unsafe_here {
            return true;
        }
    }
    false
}

/// Escapes a string for display on one line: every unsafe character, and `\n`/`\r`/`\t`, becomes
/// a visible escape. Borrowed when nothing needed escaping.
pub fn line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`line()`] but keeps `\n` (and `\t`, expanded to spaces by the caller if needed), for
/// multi-line text such as pretty-printed bodies.
pub fn multiline(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\n' {
            out.push('\n');
        } else {
            push_escaped(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// JSON text with every character a terminal could act on that JSON leaves raw (DEL, C1
/// controls, bidi and invisible format characters) written as a `\uXXXX` escape: the text
/// parses to the same value and is safe to print. `json` must be what serde_json writes, whose
/// only raw characters outside strings are ASCII, and whose C0 controls inside them are
/// escaped already; its newlines and indentation stay as they are.
pub fn json_text(json: &str) -> Cow<'_, str> {
    let escaped = |c: char| is_unsafe(c) && !matches!(c, '\n' | '\r' | '\t');
    if !json.chars().any(escaped) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 12);
    for c in json.chars() {
        if escaped(c) {
            let (escape, len) = json_escape(c);
            out.push_str(std::str::from_utf8(&escape[..len]).unwrap_or_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `c` as JSON's `\uXXXX` escape, two of them (a UTF-16 surrogate pair) beyond the Basic
/// Multilingual Plane; the bytes and how many of them are used.
pub fn json_escape(c: char) -> ([u8; 12], usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 12];
    let mut len = 0;
    for unit in c.encode_utf16(&mut [0; 2]) {
        out[len..len + 2].copy_from_slice(b"\\u");
        for (i, shift) in [12, 8, 4, 0].into_iter().enumerate() {
            out[len + 2 + i] = HEX[usize::from((*unit >> shift) & 0xf)];
        }
        len += 6;
    }
    (out, len)
}

/// Decodes bytes as UTF-8 where they are, shows invalid bytes as `\xNN`, and escapes the rest as
/// [`line()`] does.
pub fn bytes_line(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => line(s),
        Err(_) => Cow::Owned(lossy_escaped(b, false)),
    }
}

/// Multi-line variant of [`bytes_line`].
pub fn bytes_multiline(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => multiline(s),
        Err(_) => Cow::Owned(lossy_escaped(b, true)),
    }
}

fn lossy_escaped(mut b: &[u8], keep_newlines: bool) -> String {
    let mut out = String::with_capacity(b.len() + 16);
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => {
                push_str(&mut out, s, keep_newlines);
                return out;
            }
            Err(e) => {
                let (good, rest) = b.split_at(e.valid_up_to());
                // valid_up_to guarantees this prefix is UTF-8.
                push_str(
                    &mut out,
                    std::str::from_utf8(good).unwrap_or_default(),
                    keep_newlines,
                );
                let bad = e.error_len().unwrap_or(rest.len()).max(1).min(rest.len());
                for byte in &rest[..bad] {
                    let _ = write!(out, "\\x{byte:02x}");
                }
                b = &rest[bad..];
            }
        }
    }
}

fn push_str(out: &mut String, s: &str, keep_newlines: bool) {
    for c in s.chars() {
        if keep_newlines && c == '\n' {
            out.push('\n');
        } else {
            push_escaped(out, c);
        }
    }
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 && is_unsafe(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_unsafe(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_escapes_what_json_leaves_raw_and_parses_the_same() {
        let value = "csi \u{9b}31m del \u{7f} rlo \u{202e} ok é 🎉 \x1b";
        let json = serde_json::to_string(&serde_json::json!({ "x": value })).unwrap();
        assert!(json.contains('\u{9b}'), "serde_json leaves C1 raw: {json}");
        let safe = json_text(&json);
        assert_eq!(
            safe,
            r#"{"x":"csi \u009b31m del \u007f rlo \u202e ok é 🎉 \u001b"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["x"], value);
        let pretty = serde_json::to_string_pretty(&serde_json::json!({ "a": [1] })).unwrap();
        assert!(
            matches!(json_text(&pretty), Cow::Borrowed(_)),
            "layout kept"
        );
    }

    #[test]
    fn escaped_text_is_as_wide_for_ratatui_as_for_a_terminal_counting_code_points() {
        use ratatui::buffer::CellWidth as _;
        use unicode_segmentation::UnicodeSegmentation as _;
        use unicode_width::UnicodeWidthChar as _;
        // Bases that clusters form on: a letter, an emoji, one that is text by default, a
        // keycap's, a Hangul leading jamo, a regional indicator, Arabic lam, a halfwidth kana, a
        // flag's black flag, and a letter already carrying a combining mark.
        let bases = [
            "a", "👍", "⌚", "❤", "#", "ᄒ", "🇯", "ل", "ｶ", "🏴", "x\u{301}",
        ];
        let mut wrong = Vec::new();
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            for base in bases {
                let text = format!("{base}{c}b");
                for cluster in line(&text).graphemes(true) {
                    // As ratatui's Buffer counts a symbol.
                    let ratatui = usize::from(cluster.cell_width());
                    // Terminals give halfwidth (han)dakuten a cell of their own
                    // (microsoft/terminal#18087; tmux and glibc's wcwidth too).
                    let terminal: usize = cluster
                        .chars()
                        .map(|c| match c {
                            '\u{ff9e}' | '\u{ff9f}' => 1,
                            c => c.width().unwrap_or(0),
                        })
                        .sum();
                    if ratatui != terminal {
                        wrong.push(format!("{base}+U+{:04X}", c as u32));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} clusters, e.g. {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(20)]
        );
    }

    #[test]
    fn json_escapes_beyond_the_basic_plane_are_surrogate_pairs() {
        let escape = |c| {
            let (bytes, len) = json_escape(c);
            String::from_utf8(bytes[..len].to_vec()).unwrap()
        };
        assert_eq!(escape('\u{9b}'), "\\u009b");
        assert_eq!(escape('\u{1f3fd}'), "\\ud83c\\udffd");
        assert_eq!(escape('\u{e007f}'), "\\udb40\\udc7f");
        let json = serde_json::to_string("👍\u{1f3fd} ❤\u{fe0f} \u{e0041}").unwrap();
        let safe = json_text(&json);
        assert_eq!(safe, r#""👍\ud83c\udffd ❤\ufe0f \udb40\udc41""#);
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            serde_json::from_str::<String>(&json).unwrap()
        );
    }

    #[test]
    fn has_unsafe_agrees_with_is_unsafe_for_every_char() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let alone = c.encode_utf8(&mut buf);
            assert_eq!(has_unsafe(alone), is_unsafe(c), "{:x}", c as u32);
        }
        // Between others, and cut at the end of the text.
        assert!(has_unsafe("ab\u{202e}cd"));
        assert!(!has_unsafe("whsec_MfKQ…aSw é 🎉"));
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(line("customer.created"), Cow::Borrowed(_)));
        assert_eq!(line("Zoë 🎉"), "Zoë 🎉");
    }

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(
            line("\x1b[2J\x1b]52;c;aGk=\x07"),
            "\\x1b[2J\\x1b]52;c;aGk=\\x07"
        );
        assert_eq!(line("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(line("a\u{9b}b"), "a\\u{9b}b");
        assert_eq!(line("nul\0"), "nul\\x00");
        assert_eq!(line("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(line("del\x7f"), "del\\x7f");
    }

    #[test]
    fn multiline_keeps_newlines_only() {
        assert_eq!(multiline("a\nb\x1bc"), "a\nb\\x1bc");
        assert_eq!(multiline("a\r\nb"), "a\\r\nb");
    }

    #[test]
    fn invalid_utf8_is_hex_escaped() {
        assert_eq!(
            bytes_line(b"{\"bin\":\"\xff\xfe\"}"),
            "{\"bin\":\"\\xff\\xfe\"}"
        );
        assert_eq!(bytes_line(b"\xe2\x82"), "\\xe2\\x82");
        assert_eq!(bytes_multiline(b"a\n\xff\x1b"), "a\n\\xff\\x1b");
    }

    proptest::proptest! {
        #[test]
        fn output_never_contains_unsafe_chars(input in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let out = bytes_line(&input);
            proptest::prop_assert!(!out.chars().any(is_unsafe));
            let out = bytes_multiline(&input);
            proptest::prop_assert!(!out.chars().any(|c| c != '\n' && is_unsafe(c)));
        }

        #[test]
        fn json_text_is_safe_and_reads_back_the_same(text in proptest::prelude::any::<String>(), pretty in proptest::prelude::any::<bool>()) {
            let v = serde_json::json!({ "text": text, "list": [text.clone()] });
            let json = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            let safe = json_text(&json);
            proptest::prop_assert!(!safe.chars().any(|c| c != '\n' && is_unsafe(c)), "{}", safe);
            let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
            proptest::prop_assert_eq!(back, v);
        }
    }
}
