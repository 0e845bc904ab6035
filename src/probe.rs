//! Reads a payload's top-level `id` and `type` without parsing the rest of it.
//!
//! This runs on every delivery before it is answered, so it skips what it does not need at
//! memchr speed instead of building (or even validating) the whole document: a full serde
//! pass was a tenth of the receiver's time with 64 KiB bodies. It does not judge whether the
//! body is valid JSON; the body view does that, and says why when it is not.

/// The payload's top-level `id` and `type` (strings, or numbers as written), when the body is a
/// JSON object that has them. A key given twice takes its last value, as `JSON.parse` does.
pub fn event_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    let mut s = Scanner { b: body, i: 0 };
    let mut id = None;
    let mut kind = None;
    s.ws();
    if !s.eat(b'{') {
        return (None, None);
    }
    s.ws();
    if s.eat(b'}') {
        return (None, None);
    }
    loop {
        s.ws();
        let Some(key) = s.string() else {
            return (id, kind);
        };
        s.ws();
        if !s.eat(b':') {
            return (id, kind);
        }
        s.ws();
        let start = s.i;
        if !s.value() {
            return (id, kind);
        }
        let raw = &body[start..s.i];
        match key_name(&body[key.0..key.1], key.2) {
            Some(Field::Id) => id = scalar_text(raw),
            Some(Field::Type) => kind = scalar_text(raw),
            None => {}
        }
        s.ws();
        if !s.eat(b',') {
            return (id, kind);
        }
    }
}

enum Field {
    Id,
    Type,
}

/// `quoted` is a key with its quotes; escapes are rare in keys, so only then is it decoded.
fn key_name(quoted: &[u8], escaped: bool) -> Option<Field> {
    let field = |k: &[u8]| match k {
        b"id" => Some(Field::Id),
        b"type" => Some(Field::Type),
        _ => None,
    };
    if !escaped {
        return field(&quoted[1..quoted.len() - 1]);
    }
    let decoded: String = serde_json::from_slice(quoted).ok()?;
    field(decoded.as_bytes())
}

/// A string value decoded, a number as written; anything else has no text.
fn scalar_text(raw: &[u8]) -> Option<String> {
    match raw.first()? {
        b'"' => {
            // Most ids and types are plain: no escapes, no control characters (which JSON
            // forbids raw). Those are their own text; the rest go through serde's decoder.
            let inner = raw.get(1..raw.len().checked_sub(1)?)?;
            // No early exit, so the check runs vectorised.
            if inner
                .iter()
                .fold(true, |plain, &c| plain & (c >= 0x20) & (c != b'\\'))
            {
                std::str::from_utf8(inner).ok().map(str::to_owned)
            } else {
                serde_json::from_slice(raw).ok()
            }
        }
        b'-' | b'0'..=b'9' => serde_json::from_slice::<serde_json::Number>(raw)
            .ok()
            .map(|n| n.to_string()),
        _ => None,
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// A string starting here: its span with quotes (the position after it) and whether it
    /// holds an escape.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.i;
        if !self.eat(b'"') {
            return None;
        }
        let mut escaped = false;
        loop {
            let at = self.i + memchr::memchr2(b'"', b'\\', self.b.get(self.i..)?)?;
            if self.b[at] == b'\\' {
                escaped = true;
                self.i = at + 2;
            } else {
                self.i = at + 1;
                return Some((start, self.i, escaped));
            }
        }
    }

    /// Skips one value of any kind; false when the body ends inside it.
    fn value(&mut self) -> bool {
        match self.b.get(self.i) {
            None => false,
            Some(b'"') => self.string().is_some(),
            Some(b'{' | b'[') => self.container(),
            Some(_) => {
                // A number or literal runs to the next delimiter.
                let rest = &self.b[self.i..];
                let len = rest
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(rest.len());
                self.i += len;
                len > 0
            }
        }
    }

    /// Skips a nested object or array by counting brackets outside strings (a loop, not
    /// recursion: hostile nesting depth costs nothing).
    fn container(&mut self) -> bool {
        let b = self.b;
        let mut i = self.i;
        let mut depth = 0usize;
        loop {
            // Runs of ordinary bytes between structure, one table look each.
            while let Some(&c) = b.get(i) {
                if STRUCTURAL[usize::from(c)] {
                    break;
                }
                i += 1;
            }
            let Some(&c) = b.get(i) else { break };
            match c {
                b'"' => match skip_string(b, i + 1) {
                    Some(end) => {
                        i = end;
                        continue;
                    }
                    None => {
                        i = b.len();
                        break;
                    }
                },
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        self.i = i + 1;
                        return true;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.i = i;
        false
    }
}

/// `"`, brackets and braces: what a skip through nested values stops at.
static STRUCTURAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t
};

/// The position after the string whose contents start at `i`, `None` when it never ends.
/// Nested documents are mostly short keys and values: a plain loop over the first bytes finds
/// their end before memchr has set up (with memchr alone, an 80 KB nested payload took longer
/// to skip than to hash), and memchr takes over for long ones.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    const SHORT: usize = 32;
    loop {
        let rest = b.get(i..)?;
        let at = match rest[..rest.len().min(SHORT)]
            .iter()
            .position(|&c| c == b'"' || c == b'\\')
        {
            Some(n) => i + n,
            None if rest.len() > SHORT => i + SHORT + memchr::memchr2(b'"', b'\\', &rest[SHORT..])?,
            None => return None,
        };
        if b[at] == b'"' {
            return Some(at + 1);
        }
        i = at + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_top_level_id_and_type() {
        let (id, ty) = event_fields(br#"{"type":"customer.created","id":"evt_1","data":{}}"#);
        assert_eq!(id.as_deref(), Some("evt_1"));
        assert_eq!(ty.as_deref(), Some("customer.created"));
        assert_eq!(event_fields(b"not json"), (None, None));
        assert_eq!(event_fields(b"[1,2]"), (None, None));
        assert_eq!(event_fields(b"{}"), (None, None));
        assert_eq!(event_fields(br#"{"id":42}"#), (Some("42".into()), None));
        assert_eq!(
            event_fields(br#"{"id":-1.5e3}"#),
            (Some("-1500.0".into()), None)
        );
        assert_eq!(event_fields(br#"{"id":{"x":1}}"#), (None, None));
        assert_eq!(event_fields(br#"{"id":null,"type":true}"#), (None, None));
    }

    #[test]
    fn nested_ids_and_ids_inside_strings_are_not_top_level() {
        let body = br#" { "data" : { "id" : "inner", "s": "\"id\":\"no\" }]" } , "list":[{"type":"x"}], "type" : "outer" } "#;
        assert_eq!(event_fields(body), (None, Some("outer".into())));
    }

    #[test]
    fn escapes_are_decoded_in_keys_and_values() {
        let body = br#"{"\u0069d":"evt_\u00e9","ty\"pe":"no","type":"a\nb"}"#;
        assert_eq!(
            event_fields(body),
            (Some("evt_é".into()), Some("a\nb".into()))
        );
    }

    #[test]
    fn long_and_escaped_keys_and_values_end_where_they_end() {
        for n in [0, 1, 30, 31, 32, 33, 64, 100] {
            let pad = "p".repeat(n);
            let body = format!(r#"{{"{pad}":"{pad}\"{pad}","id":"{pad}\"{pad}","type":"{pad}"}}"#);
            assert_eq!(
                event_fields(body.as_bytes()),
                (Some(format!("{pad}\"{pad}")), Some(pad.clone())),
                "{body}"
            );
            let nested = format!(
                r#"{{"data":{{"{pad}":"{pad}\"}}]{pad}","a":["{pad}\\",{{"x":"]{pad}"}}]}},"type":"t{n}"}}"#
            );
            assert_eq!(
                event_fields(nested.as_bytes()),
                (None, Some(format!("t{n}"))),
                "{nested}"
            );
            let unterminated = format!(r#"{{"type":"{pad}"#);
            assert_eq!(event_fields(unterminated.as_bytes()), (None, None));
        }
    }

    #[test]
    fn the_last_of_a_repeated_key_wins() {
        let body = br#"{"type":"first","type":"last"}"#;
        assert_eq!(event_fields(body).1.as_deref(), Some("last"));
    }

    #[test]
    fn truncated_bodies_keep_what_was_read_and_never_panic() {
        let body = br#"{"type":"customer.created","id":"evt_1","data":{"a":[1,2"#;
        for end in 0..body.len() {
            let _ = event_fields(&body[..end]);
        }
        assert_eq!(event_fields(body).1.as_deref(), Some("customer.created"));
        assert_eq!(event_fields(br#"{"type":"unterminated"#), (None, None));
        assert_eq!(event_fields(br#"{"type":"a\"#), (None, None));
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let mut body = String::from("{\"a\":");
        body.push_str(&"[".repeat(100_000));
        assert_eq!(event_fields(body.as_bytes()), (None, None));
        body.push_str(&"]".repeat(100_000));
        body.push_str(",\"type\":\"deep\"}");
        assert_eq!(event_fields(body.as_bytes()).1.as_deref(), Some("deep"));
    }

    /// What serde makes of the same document, for objects without repeated keys.
    fn reference(body: &[u8]) -> (Option<String>, Option<String>) {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
            return (None, None);
        };
        let text = |v: Option<&serde_json::Value>| match v? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        (text(map.get("id")), text(map.get("type")))
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            "\\PC*".prop_map(serde_json::Value::from),
            prop_oneof![Just("id"), Just("type"), Just("\"id\":"), Just("}")]
                .prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("id".to_string()),
                            Just("type".to_string()),
                            "\\PC{0,6}"
                        ],
                        inner
                    ),
                    0..6
                )
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_on_valid_documents(v in json(), pretty in any::<bool>()) {
            let body = if pretty {
                serde_json::to_vec_pretty(&v).unwrap()
            } else {
                serde_json::to_vec(&v).unwrap()
            };
            prop_assert_eq!(event_fields(&body), reference(&body));
        }

        #[test]
        fn string_values_decode_exactly_as_serde_does(
            inner in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'\\'), Just(b'u')], 0..24)
                .prop_filter("one string", |b| !b.contains(&b'"'))
        ) {
            let mut raw = vec![b'"'];
            raw.extend_from_slice(&inner);
            raw.push(b'"');
            prop_assert_eq!(scalar_text(&raw), serde_json::from_slice::<String>(&raw).ok());
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = event_fields(&body);
        }

        #[test]
        fn never_panics_on_mangled_json(v in json(), cut in any::<prop::sample::Index>(), junk in any::<u8>()) {
            let mut body = serde_json::to_vec(&v).unwrap();
            if !body.is_empty() {
                let at = cut.index(body.len());
                body[at] = junk;
                let _ = event_fields(&body);
                let _ = event_fields(&body[..at]);
            }
        }
    }
}
