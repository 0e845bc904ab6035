//! JSON text laid out anew: only the whitespace between tokens changes, never a token, so
//! numbers, escapes and key order stay as written (a serde round trip would turn `10.50` into
//! `10.5`, and a 20-digit id into a float). The editor is given a body this way, and the
//! verifier tries the layouts common serialisers write when a signature does not match.

use crate::highlight::{skip_ws, string_end};

/// How whitespace is laid out between JSON tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// None at all: `{"a":1,"b":[1,2]}` (JSON.stringify, Go, serde_json).
    Compact,
    /// A space after each `,` and `:`: `{"a": 1, "b": [1, 2]}` (Python's json.dumps).
    Spaced,
    /// One member per line, indented by `spaces` per level, `": "` between key and value, an
    /// empty object or array as `{}` / `[]` (JSON.stringify(v, null, 2), json.dumps(v,
    /// indent=4), serde_json's pretty), and a final newline when `newline`.
    Indented {
        /// Spaces per level.
        spaces: usize,
        /// Whether a newline ends the text.
        newline: bool,
    },
}

/// `b` with its whitespace outside strings made anew in `style`. Meant for valid JSON; any
/// other input comes out laid out as far as its brackets go, never a panic.
pub fn relayout(b: &[u8], style: Style) -> Vec<u8> {
    let indent = match style {
        Style::Indented { spaces, .. } => Some(spaces),
        _ => None,
    };
    let mut out = Vec::with_capacity(if indent.is_some() {
        b.len() * 2
    } else {
        b.len()
    });
    let newline = |out: &mut Vec<u8>, depth: usize| {
        if let Some(spaces) = indent {
            out.push(b'\n');
            out.resize(out.len() + depth * spaces, b' ');
        }
    };
    let (mut depth, mut i) = (0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                let next = skip_ws(b, i + 1);
                out.push(c);
                if b.get(next) == Some(&close) {
                    out.push(close);
                    i = next + 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                    i += 1;
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
                i += 1;
            }
            b',' => {
                out.push(c);
                if style == Style::Spaced {
                    out.push(b' ');
                }
                newline(&mut out, depth);
                i += 1;
            }
            b':' => {
                out.push(c);
                if style != Style::Compact {
                    out.push(b' ');
                }
                i += 1;
            }
            b'"' => {
                let end = string_end(b, i);
                out.extend_from_slice(&b[i..end]);
                i = end;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if let Style::Indented { newline: true, .. } = style {
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TWO: Style = Style::Indented {
        spaces: 2,
        newline: false,
    };

    #[test]
    fn each_style_writes_what_its_serialisers_write() {
        let v = br#" { "a" : 1 , "b":[ 1,2 ,{}], "c": {"d":"x, y: z"}, "e": [ ] } "#;
        assert_eq!(
            relayout(v, Style::Compact),
            br#"{"a":1,"b":[1,2,{}],"c":{"d":"x, y: z"},"e":[]}"#
        );
        // Python: json.dumps(v)
        assert_eq!(
            relayout(v, Style::Spaced),
            br#"{"a": 1, "b": [1, 2, {}], "c": {"d": "x, y: z"}, "e": []}"#
        );
        // JavaScript: JSON.stringify(v, null, 2); Python: json.dumps(v, indent=2)
        assert_eq!(
            String::from_utf8(relayout(v, TWO)).unwrap(),
            "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2,\n    {}\n  ],\n  \"c\": {\n    \"d\": \"x, y: z\"\n  },\n  \"e\": []\n}"
        );
        let four = relayout(
            br#"{"a":[1]}"#,
            Style::Indented {
                spaces: 4,
                newline: true,
            },
        );
        assert_eq!(four, b"{\n    \"a\": [\n        1\n    ]\n}\n");
    }

    #[test]
    fn text_that_is_not_json_comes_out_without_a_panic() {
        for b in [&b"}}]],,::"[..], b"\"unterminated \\", b"[{\"a\"", b"\\"] {
            for style in [Style::Compact, Style::Spaced, TWO] {
                let _ = relayout(b, style);
            }
        }
    }

    proptest! {
        #[test]
        fn laying_json_out_moves_only_whitespace(v in crate::highlight::tests::arb_json()) {
            let compact = serde_json::to_vec(&v).unwrap();
            for style in [Style::Spaced, TWO, Style::Indented { spaces: 4, newline: true }] {
                let laid = relayout(&compact, style);
                let parsed: serde_json::Value = serde_json::from_slice(&laid).unwrap();
                prop_assert_eq!(&parsed, &v);
                prop_assert_eq!(relayout(&laid, Style::Compact), compact.clone());
            }
            // serde_json's pretty is JSON.stringify's two spaces.
            prop_assert_eq!(relayout(&compact, TWO), serde_json::to_vec_pretty(&v).unwrap());
        }
    }
}
