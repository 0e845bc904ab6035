//! Request heads that hyper refuses before the receiver's handler sees them (a byte HTTP
//! forbids, a line that is not a header, too many headers, a URI over 64 KiB), turned into a
//! record that says which line was wrong: a sender that got 400 from hookscope finds the reason
//! in the list instead of nothing.
//!
//! hyper answers such a head itself (400, 414 or 431) and closes the connection; all it tells
//! the server is the kind of error. The receiver keeps the bytes a connection opened with (it
//! looks at them anyway, to tell HTTP/2 from HTTP/1), and this module reads the culprit from
//! them. A refused head later on a kept-alive connection is recorded with hyper's words only.

use crate::delivery::{self, Request};
use crate::receiver::MAX_HEADERS;
use crate::sanitize;
use bytes::Bytes;
use http::StatusCode;
use std::borrow::Cow;
use std::net::SocketAddr;

/// Bytes of a connection's opening kept to explain a refused head: a webhook's head fits many
/// times over, and a head this long is shown as far as it goes.
pub const CAPTURE: usize = 4096;

/// hyper's largest request head (its default read buffer limit, which the receiver keeps).
const MAX_HEAD: u64 = 8192 + 4096 * 100;

/// What hyper answered a head it refused with `e`, or `None` when `e` is not such a refusal
/// (hyper then answers nothing: an I/O error, a timeout, a client gone mid-body).
pub fn answer(e: &hyper::Error) -> Option<StatusCode> {
    // As hyper's server role decides it (`Server::on_error`): every parse error of a request
    // head but an internal one, and the HTTP/2 preface mid-connection, which it does not answer.
    if !e.is_parse() || e.is_parse_version_h2() || e.is_parse_status() {
        return None;
    }
    let said = e.to_string();
    if e.is_parse_too_large() {
        // Too large and URI too long are one predicate; only the words tell them apart.
        return Some(if said == "URI too long" {
            StatusCode::URI_TOO_LONG
        } else {
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        });
    }
    if said.starts_with("internal error") {
        return None;
    }
    Some(StatusCode::BAD_REQUEST)
}

/// How a connection that was not refused ended early (`e` from serving it, or from reading a
/// body), in words.
pub fn ending(e: &hyper::Error) -> String {
    let cause = std::error::Error::source(e);
    // A body cut short by the client's close is an end-of-file under "error reading a body".
    let eof = cause
        .and_then(|c| c.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
    if e.is_incomplete_message() || eof {
        return "closed by the client".into();
    }
    // hyper's words for an I/O error name only its kind; the cause says which.
    match cause {
        Some(cause) => cause.to_string(),
        None => e.to_string(),
    }
}

/// Why hyper refused the head, in words, naming the culprit when `head` (the connection's
/// opening bytes, when the refused head is its first) shows it.
pub fn reason(e: &hyper::Error, status: StatusCode, head: Option<&[u8]>) -> String {
    let said = e.to_string();
    match status {
        StatusCode::URI_TOO_LONG => {
            format!("the URI is over {} bytes ({said})", u16::MAX - 1)
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            let counted = head.map_or(0, |h| head_lines(h).count().saturating_sub(1));
            if counted > MAX_HEADERS {
                // The capture may end before the head does.
                let whole = head.is_some_and(|h| {
                    h.windows(2).any(|w| w == b"\n\n") || h.windows(4).any(|w| w == b"\r\n\r\n")
                });
                let at_least = if whole { "" } else { "at least " };
                format!(
                    "more than {MAX_HEADERS} headers ({at_least}{counted} sent); hookscope reads up to {MAX_HEADERS}"
                )
            } else {
                format!(
                    "the request head is too large: over {} or more than {MAX_HEADERS} headers ({said})",
                    crate::verify::human_bytes(MAX_HEAD)
                )
            }
        }
        _ => match head.and_then(culprit) {
            Some(culprit) => culprit,
            None => match head.map(|h| named_values(h, &said)) {
                Some(values) if !values.is_empty() => format!("{said}: {values}"),
                _ => said,
            },
        },
    }
}

/// The request as far as `head` shows it: method, target and version from its first line,
/// the headers that are `name: value` lines. Without a head, all of it is empty.
pub fn request(head: Option<&[u8]>, remote: SocketAddr) -> Request {
    let mut method = Cow::Borrowed("");
    let mut path = String::new();
    let mut version = Cow::Borrowed("");
    let mut headers = Vec::new();
    // A TLS record's bytes are no method or path: shown as such they are noise.
    if let Some(head) = head.filter(|h| !is_tls(h)) {
        // The request line even when the capture cut it off (a URI over the capture's length):
        // its method and the start of its target are still worth showing.
        let start = head.iter().position(|&b| !matches!(b, b'\r' | b'\n'));
        let rest = &head[start.unwrap_or(head.len())..];
        let first = rest.split(|&b| b == b'\n').next().unwrap_or_default();
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        let mut parts = first.splitn(3, |&b| b == b' ');
        let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
        method = delivery::method_text(&text(parts.next()));
        path = text(parts.next());
        version = delivery::version_text(&text(parts.next()));
        for line in head_lines(head).skip(1) {
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
                headers.push((name, line[colon + 1..].trim_ascii().to_vec()));
            }
        }
    }
    Request {
        remote: Some(remote),
        method,
        path,
        version,
        headers,
        body: Bytes::new(),
        body_size: 0,
    }
}

/// The head's complete lines without their line ends, from the request line to the blank line
/// that ends the head (leading blank lines skipped, as hyper skips them). A line the capture
/// cut off is left out: it is not known to be wrong.
fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split_inclusive(|&b| b == b'\n')
        .filter_map(|l| l.strip_suffix(b"\n"))
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
}

/// The reason given for a TLS handshake (the inspector adds where to point the tunnel).
pub const TLS: &str = "a TLS handshake, not HTTP: an https client reached hookscope's plain-http port (a tunnel ends https itself and must reach hookscope over http://)";

/// Whether `head` opens with a TLS handshake record (content type 22, record version 3.x):
/// an https client, such as a tunnel told to reach hookscope at `https://localhost:…`.
fn is_tls(head: &[u8]) -> bool {
    matches!(head, [0x16, 0x03, 0x00..=0x04, ..])
}

/// The first thing in `head` that breaks HTTP/1.1's grammar as hyper's parser applies it.
fn culprit(head: &[u8]) -> Option<String> {
    if is_tls(head) {
        return Some(TLS.into());
    }
    let mut lines = head_lines(head);
    let first = lines.next()?;
    if let Some(fault) = request_line_fault(first) {
        return Some(format!("the request line `{}` {fault}", excerpt(first)));
    }
    for (n, line) in lines.enumerate() {
        let number = n + 2;
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Some(format!(
                "line {number} `{}` starts with whitespace (a folded header, which HTTP/1.1 forbids)",
                excerpt(line)
            ));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Some(format!(
                "line {number} `{}` is not a header: it has no `:`",
                excerpt(line)
            ));
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() {
            return Some(format!(
                "line {number} `{}` has no header name",
                excerpt(line)
            ));
        }
        if let Some(&bad) = name.iter().find(|&&b| !is_token(b)) {
            return Some(format!(
                "the header name `{}` holds {}, which HTTP forbids in a name",
                excerpt(name),
                byte(bad)
            ));
        }
        if let Some(&bad) = value
            .iter()
            .find(|&&b| !(b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80))
        {
            return Some(format!(
                "the header `{}` holds {}, which HTTP forbids in a value",
                excerpt(name),
                byte(bad)
            ));
        }
    }
    None
}

/// What is wrong with a request line, if anything.
fn request_line_fault(line: &[u8]) -> Option<String> {
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return Some("is not `METHOD /path HTTP/1.1` (three parts, one space apart)".into());
    };
    if method.is_empty() || target.is_empty() {
        return Some("is not `METHOD /path HTTP/1.1` (three parts, one space apart)".into());
    }
    if let Some(&bad) = method.iter().find(|&&b| !is_token(b)) {
        return Some(format!("has {} in its method", byte(bad)));
    }
    if let Some(&bad) = target.iter().find(|&&b| b < 0x21 || b == 0x7f) {
        return Some(format!("has {} in its target", byte(bad)));
    }
    if version != b"HTTP/1.1" && version != b"HTTP/1.0" {
        return Some(format!(
            "names `{}`: HTTP/1.0 and HTTP/1.1 are read here (HTTP/2 opens with its preface instead)",
            excerpt(version)
        ));
    }
    None
}

/// For hyper's complaints about content-length or transfer-encoding: those headers' values.
fn named_values(head: &[u8], said: &str) -> String {
    let name = ["content-length", "transfer-encoding"]
        .into_iter()
        .find(|n| said.contains(n));
    let Some(name) = name else {
        return String::new();
    };
    head_lines(head)
        .skip(1)
        .filter_map(|l| {
            let colon = l.iter().position(|&b| b == b':')?;
            l[..colon]
                .eq_ignore_ascii_case(name.as_bytes())
                .then(|| format!("{name} `{}`", excerpt(l[colon + 1..].trim_ascii())))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// HTTP's `tchar`: what methods and header names are made of.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte as a reader can see it: `0x1b`, or `a space` / `` `"` `` for printable ones.
fn byte(b: u8) -> String {
    match b {
        b' ' => "a space".into(),
        0x21..=0x7e => format!("`{}`", b as char),
        _ => format!("byte 0x{b:02x}"),
    }
}

/// Up to 60 bytes of untrusted text, escaped for a terminal.
fn excerpt(b: &[u8]) -> String {
    const MAX: usize = 60;
    let shown = sanitize::bytes_line(&b[..b.len().min(MAX)]).into_owned();
    if b.len() > MAX { shown + "…" } else { shown }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn culprit_of(head: &str) -> Option<String> {
        culprit(head.as_bytes())
    }

    #[test]
    fn each_kind_of_fault_names_its_line() {
        let ok = "POST /hook HTTP/1.1\r\nhost: x\r\nsvix-id: msg_1\r\n\r\n{}";
        assert_eq!(culprit_of(ok), None);
        let cases = [
            (
                "POST /hook HTTP/1.1\r\nhost: x\r\nsvix-id: msg\x1b[31m\r\n\r\n",
                "the header `svix-id` holds byte 0x1b, which HTTP forbids in a value",
            ),
            (
                "POST /hook HTTP/1.1\r\nhost: x\r\nnot a header\r\n\r\n",
                "line 3 `not a header` is not a header: it has no `:`",
            ),
            (
                "POST /hook HTTP/1.1\r\nsvix id: 1\r\n\r\n",
                "the header name `svix id` holds a space, which HTTP forbids in a name",
            ),
            (
                "POST /hook HTTP/1.1\r\nhost: x\r\n folded\r\n\r\n",
                "line 3 ` folded` starts with whitespace (a folded header, which HTTP/1.1 forbids)",
            ),
            (
                "POST /hook HTTP/1.1\r\n: x\r\n\r\n",
                "line 2 `: x` has no header name",
            ),
            (
                "POST  /hook HTTP/1.1\r\n\r\n",
                "the request line `POST  /hook HTTP/1.1` is not `METHOD /path HTTP/1.1` (three parts, one space apart)",
            ),
            (
                "PO\"ST /hook HTTP/1.1\r\n\r\n",
                "the request line `PO\"ST /hook HTTP/1.1` has `\"` in its method",
            ),
            (
                "POST /ho\x7fok HTTP/1.1\r\n\r\n",
                "the request line `POST /ho\\x7fok HTTP/1.1` has byte 0x7f in its target",
            ),
            (
                "POST /hook HTTP/2.0\r\n\r\n",
                "the request line `POST /hook HTTP/2.0` names `HTTP/2.0`: HTTP/1.0 and HTTP/1.1 are read here (HTTP/2 opens with its preface instead)",
            ),
        ];
        for (head, want) in cases {
            assert_eq!(culprit_of(head).as_deref(), Some(want), "{head:?}");
        }
    }

    #[test]
    fn a_tls_handshake_is_named_as_one() {
        // The start of a ClientHello as curl sends it to https://localhost:8787.
        let hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03q\xcdi\x85";
        let said = culprit(hello).unwrap();
        assert!(said.starts_with("a TLS handshake, not HTTP"), "{said}");
        let r = request(Some(hello), "127.0.0.1:5000".parse().unwrap());
        assert_eq!((r.method.as_ref(), r.path.as_str()), ("", ""));
        assert!(r.headers.is_empty());
        // A request that merely starts with byte 0x16 is judged as HTTP.
        assert!(
            culprit(b"\x16POST / HTTP/1.1\r\n\r\n")
                .unwrap()
                .contains("in its method")
        );
    }

    #[test]
    fn a_line_the_capture_cut_off_and_the_body_are_not_judged() {
        // Cut mid-line: the partial line may be fine once whole.
        assert_eq!(
            culprit_of("POST /hook HTTP/1.1\r\nhost: x\r\nx-long: abc"),
            None
        );
        // Leading blank lines are skipped, and what follows the head is the body.
        assert_eq!(
            culprit_of("\r\nPOST /hook HTTP/1.1\r\nhost: x\r\n\r\nnot a header\r\n"),
            None
        );
        // Bare line feeds end lines too.
        assert_eq!(
            culprit_of("POST /hook HTTP/1.1\nhost: x\nbad\n\n").as_deref(),
            Some("line 3 `bad` is not a header: it has no `:`")
        );
    }

    #[test]
    fn an_excerpt_is_short_and_escaped() {
        let long = format!("POST /hook HTTP/1.1\r\n{}\r\n\r\n", "\u{202e}x".repeat(100));
        let said = culprit_of(&long).unwrap();
        assert!(said.contains("\\u{202e}x"), "{said}");
        assert!(said.contains('…'), "{said}");
        assert!(!said.chars().any(sanitize::is_unsafe), "{said}");
    }

    #[test]
    fn the_request_is_read_as_far_as_the_head_shows_it() {
        let remote: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let head = b"POST /evil?x=1 HTTP/1.1\r\nHost: x\r\nsvix-id: msg\x1b\r\nnonsense\r\n\r\n{}";
        let r = request(Some(head), remote);
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/evil?x=1");
        assert_eq!(r.version, "HTTP/1.1");
        assert_eq!(
            r.headers,
            vec![
                ("host".to_string(), b"x".to_vec()),
                ("svix-id".to_string(), b"msg\x1b".to_vec())
            ]
        );
        assert!(r.body.is_empty());
        // A request line longer than the capture still gives its method and target's start.
        let cut = request(Some(b"POST /aaaa"), remote);
        assert_eq!((cut.method.as_ref(), cut.path.as_str()), ("POST", "/aaaa"));
        let unknown = request(None, remote);
        assert_eq!((unknown.method.as_ref(), unknown.path.as_str()), ("", ""));
        assert!(unknown.headers.is_empty());
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// Whatever bytes a head holds, reading it never panics and what it says is safe for a
        /// terminal; and a culprit is only ever named in a head that hyper's parser refuses.
        #[test]
        fn a_culprit_is_named_only_in_a_head_hyper_refuses(
            // Mostly well-formed parts, so that heads with one fault (and none) are common.
            method in proptest::prop_oneof![8 => "POST", 1 => "P\\(ST", 1 => "", 1 => "P OST"],
            target in proptest::prop_oneof![8 => "/hook", 1 => "/a\\?b=1", 1 => "/\\x7f", 1 => "/é", 1 => ""],
            version in proptest::prop_oneof![8 => "HTTP/1.1", 1 => "HTTP/1.0", 1 => "HTTP/2.0", 1 => "http/1.1"],
            spaces in proptest::prop_oneof![8 => " ", 1 => "  ", 1 => "\t"],
            headers in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        8 => "svix-id", 8 => "x-h", 1 => "a b", 1 => "", 1 => " folded", 1 => "x\\(y"
                    ],
                    proptest::prop_oneof![8 => ": ", 2 => ":", 1 => " :", 1 => ""],
                    proptest::prop_oneof![
                        8 => "[ -~]{0,12}".prop_map(String::into_bytes),
                        1 => proptest::collection::vec(proptest::num::u8::ANY, 0..12),
                    ],
                ),
                0..6,
            ),
            ends in proptest::prop_oneof!["\r\n", "\n"],
            cut in proptest::option::weighted(0.2, 0usize..200),
        ) {
            let mut head = format!("{method}{spaces}{target}{spaces}{version}{ends}").into_bytes();
            for (name, colon, value) in &headers {
                head.extend_from_slice(name.as_bytes());
                head.extend_from_slice(colon.as_bytes());
                head.extend(value.iter().filter(|&&b| b != b'\n' && b != b'\r'));
                head.extend_from_slice(ends.as_bytes());
            }
            head.extend_from_slice(ends.as_bytes());
            let seen = &head[..cut.map_or(head.len(), |c| c.min(head.len()))];
            let said = culprit(seen);
            let _ = request(Some(seen), "127.0.0.1:1".parse().unwrap());
            if let Some(said) = &said {
                proptest::prop_assert!(!said.chars().any(sanitize::is_unsafe), "{said}");
                let mut slots = [httparse::EMPTY_HEADER; 16];
                let parsed = httparse::Request::new(&mut slots).parse(&head);
                proptest::prop_assert!(parsed.is_err(), "{said}, but hyper takes {:?}", String::from_utf8_lossy(&head));
            }
        }
    }

    #[test]
    fn content_length_and_transfer_encoding_complaints_show_the_values() {
        let head = b"POST / HTTP/1.1\r\ncontent-length: 2\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(
            named_values(head, "invalid content-length parsed"),
            "content-length `2`, content-length `3`"
        );
        assert_eq!(named_values(head, "invalid URI"), "");
    }
}
