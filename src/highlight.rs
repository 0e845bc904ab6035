//! Turns a body into display lines once per delivery: pretty-printed, token-marked JSON, plain
//! text, or a hex dump for bytes that are not UTF-8. Everything is escaped for the terminal, and
//! sizes are capped so a hostile body cannot make the UI slow.
//!
//! The pretty-printer walks the original bytes (it never re-serialises), so numbers, escapes and
//! key order appear exactly as sent.

use crate::sanitize;
use std::fmt::Write as _;

/// What a span of a line is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// Object keys.
    Key,
    /// String values.
    Str,
    /// Numbers.
    Num,
    /// `true`, `false`, `null`.
    Lit,
    /// Brackets, commas, colons; hex offsets.
    Punct,
    /// Anything else.
    Plain,
}

/// One display line: text and where each token starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StyledLine {
    /// The escaped text.
    pub text: String,
    /// `(byte offset into text, token kind)`, in order; a token runs to the next mark.
    pub marks: Vec<(usize, Tok)>,
}

impl StyledLine {
    fn plain(text: String) -> Self {
        StyledLine {
            text,
            marks: vec![(0, Tok::Plain)],
        }
    }

    fn push(&mut self, tok: Tok, s: &str) {
        if s.is_empty() {
            return;
        }
        if self.marks.last().map(|(_, t)| *t) != Some(tok) {
            self.marks.push((self.text.len(), tok));
        }
        self.text.push_str(s);
    }

    /// The spans as `(text, kind)` pairs.
    pub fn spans(&self) -> impl Iterator<Item = (&str, Tok)> {
        self.marks.iter().enumerate().map(move |(i, (start, tok))| {
            let end = self.marks.get(i + 1).map_or(self.text.len(), |(e, _)| *e);
            (&self.text[*start..end], *tok)
        })
    }
}

/// How a body is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No bytes.
    Empty,
    /// Valid JSON, pretty-printed.
    Json,
    /// UTF-8 text, as sent.
    Text,
    /// Not UTF-8: hex dump.
    Binary,
}

/// A body prepared for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyView {
    /// What it is.
    pub kind: BodyKind,
    /// The lines to show.
    pub lines: Vec<StyledLine>,
    /// Why it is shown the way it is (raw because…, cut because…), if anything needs saying.
    pub note: Option<String>,
}

/// Caps that keep preparation and drawing cheap whatever arrives.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bodies larger than this are not pretty-printed.
    pub max_pretty_bytes: usize,
    /// Lines kept.
    pub max_lines: usize,
    /// Characters kept per line.
    pub max_line_chars: usize,
    /// Bytes shown in a hex dump.
    pub max_hex_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pretty_bytes: 8 << 20,
            max_lines: 100_000,
            max_line_chars: 2_000,
            max_hex_bytes: 64 << 10,
        }
    }
}

/// The default view: pretty JSON when the body is valid JSON, else text or hex.
pub fn pretty(body: &[u8], limits: Limits) -> BodyView {
    if body.is_empty() {
        return empty();
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return hex(body, limits);
    };
    let first = text.trim_start().chars().next();
    if !matches!(first, Some('{' | '[' | '"')) {
        return raw_text(text, limits, None);
    }
    if body.len() > limits.max_pretty_bytes {
        let note = format!(
            "shown raw because it is {} (pretty-printing stops at {})",
            crate::verify::human_bytes(body.len() as u64),
            crate::verify::human_bytes(limits.max_pretty_bytes as u64)
        );
        return raw_text(text, limits, Some(note));
    }
    let depth = max_depth(body);
    if depth > MAX_DEPTH {
        let note = format!(
            "shown raw because it nests {depth} levels deep (pretty-printing stops at {MAX_DEPTH})"
        );
        return raw_text(text, limits, Some(note));
    }
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        let note = format!("shown raw because it is not valid JSON ({e})");
        return raw_text(text, limits, Some(note));
    }
    json(text, limits)
}

/// The exact bytes: text lines as sent, or hex when not UTF-8.
pub fn raw(body: &[u8], limits: Limits) -> BodyView {
    if body.is_empty() {
        return empty();
    }
    match std::str::from_utf8(body) {
        Ok(text) => raw_text(text, limits, None),
        Err(_) => hex(body, limits),
    }
}

fn empty() -> BodyView {
    BodyView {
        kind: BodyKind::Empty,
        lines: Vec::new(),
        note: Some("no body".into()),
    }
}

fn cut_line(line: &str, limits: Limits) -> String {
    let escaped = sanitize::line(line);
    match escaped.char_indices().nth(limits.max_line_chars) {
        None => escaped.into_owned(),
        Some((at, _)) => {
            let rest = escaped.len() - at;
            format!("{}… ({} more bytes on this line)", &escaped[..at], rest)
        }
    }
}

fn raw_text(text: &str, limits: Limits, note: Option<String>) -> BodyView {
    let mut lines = Vec::new();
    let mut cut = false;
    for (i, line) in text.split('\n').enumerate() {
        if i >= limits.max_lines {
            cut = true;
            break;
        }
        lines.push(StyledLine::plain(cut_line(line, limits)));
    }
    let note = match (note, cut) {
        (n, false) => n,
        (Some(n), true) => Some(format!("{n}; first {} lines", limits.max_lines)),
        (None, true) => Some(format!("first {} lines shown", limits.max_lines)),
    };
    BodyView {
        kind: BodyKind::Text,
        lines,
        note,
    }
}

fn hex(body: &[u8], limits: Limits) -> BodyView {
    let shown = &body[..body.len().min(limits.max_hex_bytes)];
    let mut lines = Vec::with_capacity(shown.len() / 16 + 1);
    for (i, chunk) in shown.chunks(16).enumerate() {
        let mut line = StyledLine::default();
        line.push(Tok::Punct, &format!("{:08x}  ", i * 16));
        let mut hexes = String::with_capacity(50);
        for (j, b) in chunk.iter().enumerate() {
            let _ = write!(hexes, "{b:02x} ");
            if j == 7 {
                hexes.push(' ');
            }
        }
        line.push(Tok::Num, &format!("{hexes:<50}"));
        let ascii: String = chunk
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    *b as char
                } else {
                    '.'
                }
            })
            .collect();
        line.push(Tok::Str, &format!("|{ascii}|"));
        lines.push(line);
    }
    let mut note = "not UTF-8: shown as hex".to_string();
    if shown.len() < body.len() {
        let _ = write!(
            note,
            "; first {} of {}",
            crate::verify::human_bytes(shown.len() as u64),
            crate::verify::human_bytes(body.len() as u64)
        );
    }
    BodyView {
        kind: BodyKind::Binary,
        lines,
        note: Some(note),
    }
}

/// Pretty-prints valid JSON text iteratively (no recursion, so depth cannot overflow the stack).
fn json(text: &str, limits: Limits) -> BodyView {
    let b = text.as_bytes();
    let mut lines: Vec<StyledLine> = Vec::new();
    let mut line = StyledLine::default();
    let mut depth: usize = 0;
    let mut i = 0;
    let mut truncated = false;
    let indent = |line: &mut StyledLine, depth: usize| {
        let spaces = (depth * 2).min(limits.max_line_chars / 2);
        line.push(Tok::Plain, &" ".repeat(spaces));
    };
    let newline = |line: &mut StyledLine, lines: &mut Vec<StyledLine>, depth: usize| -> bool {
        let done = std::mem::take(line);
        lines.push(cap(done, limits));
        indent(line, depth);
        lines.len() < limits.max_lines
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\n' | b'\r' | b'\t' => {
                i += 1;
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let next = skip_ws(b, i + 1);
                if next < b.len() && b[next] == close {
                    line.push(Tok::Punct, if c == b'{' { "{}" } else { "[]" });
                    i = next + 1;
                } else {
                    line.push(Tok::Punct, if c == b'{' { "{" } else { "[" });
                    depth += 1;
                    i += 1;
                    if !newline(&mut line, &mut lines, depth) {
                        truncated = true;
                        break;
                    }
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                let done = std::mem::take(&mut line);
                if !done.text.trim().is_empty() {
                    lines.push(cap(done, limits));
                    if lines.len() >= limits.max_lines {
                        truncated = true;
                        break;
                    }
                }
                indent(&mut line, depth);
                line.push(Tok::Punct, if c == b'}' { "}" } else { "]" });
                i += 1;
            }
            b',' => {
                line.push(Tok::Punct, ",");
                i += 1;
                if !newline(&mut line, &mut lines, depth) {
                    truncated = true;
                    break;
                }
            }
            b':' => {
                line.push(Tok::Punct, ": ");
                i += 1;
            }
            b'"' => {
                let end = string_end(b, i);
                let next = skip_ws(b, end);
                let tok = if next < b.len() && b[next] == b':' {
                    Tok::Key
                } else {
                    Tok::Str
                };
                line.push(tok, &sanitize::line(&text[i..end]));
                i = end;
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b':'
                    )
                {
                    i += 1;
                }
                let word = &text[start..i.max(start + 1).min(text.len())];
                let tok = if matches!(word, "true" | "false" | "null") {
                    Tok::Lit
                } else {
                    Tok::Num
                };
                line.push(tok, &sanitize::line(word));
                i = i.max(start + 1);
            }
        }
    }
    if !line.text.trim().is_empty() {
        lines.push(cap(line, limits));
    }
    BodyView {
        kind: BodyKind::Json,
        lines,
        note: truncated.then(|| format!("first {} lines shown", limits.max_lines)),
    }
}

fn cap(mut line: StyledLine, limits: Limits) -> StyledLine {
    if let Some((at, _)) = line.text.char_indices().nth(limits.max_line_chars) {
        let rest = line.text.len() - at;
        line.text.truncate(at);
        line.marks.retain(|(start, _)| *start < at);
        line.push(Tok::Punct, &format!("… ({rest} more bytes on this line)"));
    }
    line
}

/// Deepest nesting pretty-printed; deeper documents are shown raw.
const MAX_DEPTH: usize = 128;

/// The deepest bracket nesting outside strings (a byte scan; no parsing, no recursion).
fn max_depth(b: &[u8]) -> usize {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = string_end(b, i);
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    max
}

pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The index just past the closing quote of the string starting at `start`.
pub(crate) fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn texts(v: &BodyView) -> Vec<&str> {
        v.lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn pretty_prints_json_preserving_numbers_and_order() {
        let v = pretty(
            br#"{"z":1.50,"a":[true,null,{}],"s":"x\"y","e":[]}"#,
            Limits::default(),
        );
        assert_eq!(v.kind, BodyKind::Json);
        assert_eq!(
            texts(&v),
            vec![
                "{",
                "  \"z\": 1.50,",
                "  \"a\": [",
                "    true,",
                "    null,",
                "    {}",
                "  ],",
                "  \"s\": \"x\\\"y\",",
                "  \"e\": []",
                "}",
            ]
        );
        let spans: Vec<(&str, Tok)> = v.lines[1].spans().collect();
        assert_eq!(
            spans,
            vec![
                ("  ", Tok::Plain),
                ("\"z\"", Tok::Key),
                (": ", Tok::Punct),
                ("1.50", Tok::Num),
                (",", Tok::Punct)
            ]
        );
        assert_eq!(v.note, None);
    }

    #[test]
    fn invalid_json_is_shown_raw_with_the_reason() {
        let v = pretty(b"{\"a\":", Limits::default());
        assert_eq!(v.kind, BodyKind::Text);
        assert!(
            v.note
                .unwrap()
                .starts_with("shown raw because it is not valid JSON")
        );
    }

    #[test]
    fn deep_json_is_shown_raw_without_recursing() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let v = pretty(deep.as_bytes(), Limits::default());
        assert_eq!(
            v.note.as_deref(),
            Some("shown raw because it nests 10000 levels deep (pretty-printing stops at 128)")
        );
    }

    #[test]
    fn huge_single_line_is_cut() {
        let body = format!("{{\"a\":\"{}\"}}", "x".repeat(100_000));
        let limits = Limits {
            max_pretty_bytes: 1000,
            ..Limits::default()
        };
        let v = pretty(body.as_bytes(), limits);
        assert!(
            v.note
                .as_ref()
                .unwrap()
                .contains("shown raw because it is 97.7 KiB"),
            "{:?}",
            v.note
        );
        assert!(v.lines[0].text.ends_with("more bytes on this line)"));
        assert!(v.lines[0].text.chars().count() < 2_100);
        // pretty path caps long lines too
        let v = pretty(body.as_bytes(), Limits::default());
        assert!(v.lines[1].text.contains("more bytes on this line"));
    }

    #[test]
    fn line_count_is_capped() {
        let body = format!("[{}1]", "1,".repeat(500));
        let v = pretty(
            body.as_bytes(),
            Limits {
                max_lines: 100,
                ..Limits::default()
            },
        );
        assert_eq!(v.lines.len(), 100);
        assert_eq!(v.note.as_deref(), Some("first 100 lines shown"));
    }

    #[test]
    fn binary_is_hex_dumped() {
        let v = pretty(b"{\"bin\":\"\xff\xfe\"}", Limits::default());
        assert_eq!(v.kind, BodyKind::Binary);
        assert_eq!(
            v.lines[0].text,
            "00000000  7b 22 62 69 6e 22 3a 22  ff fe 22 7d              |{\"bin\":\"..\"}|"
        );
    }

    #[test]
    fn escapes_are_never_emitted_raw() {
        // Bidi override raw inside a valid JSON string, and an escaped ESC that stays text.
        let v = pretty(
            "{\"a\":\"x\u{202e}y\",\"b\":\"\\u001b[2J\"}".as_bytes(),
            Limits::default(),
        );
        let all: String = v.lines.iter().map(|l| l.text.clone()).collect();
        assert!(!all.chars().any(sanitize::is_unsafe), "{all:?}");
        assert!(all.contains("x\\u{202e}y"));
        let v = raw(b"line1\r\n\x1b[31mred\x07", Limits::default());
        assert_eq!(texts(&v), vec!["line1\\r", "\\x1b[31mred\\x07"]);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_never_emits_unsafe_chars(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            for v in [pretty(&body, Limits::default()), raw(&body, Limits::default())] {
                for line in &v.lines {
                    proptest::prop_assert!(!line.text.chars().any(sanitize::is_unsafe));
                    let _ = line.spans().count();
                }
            }
        }

        #[test]
        fn any_valid_json_pretty_prints(value in arb_json()) {
            let text = serde_json::to_string(&value).unwrap();
            let v = pretty(text.as_bytes(), Limits::default());
            proptest::prop_assert_eq!(v.kind, if text.starts_with(['{', '[', '"']) { BodyKind::Json } else { BodyKind::Text });
            if v.kind == BodyKind::Json {
                // Re-joining the pretty lines gives back the same JSON value.
                let joined: String = v.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
                let back: serde_json::Value = serde_json::from_str(&joined).unwrap();
                proptest::prop_assert_eq!(back, value);
            }
        }
    }

    /// Any JSON value, a few levels deep.
    pub(crate) fn arb_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z \\\\\"]{0,8}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
