//! The record of one HTTP request received, shared by the receiver, headless output and the UI.

use crate::verify::{Unchecked, Verdict};
use bytes::Bytes;
use std::borrow::Cow;
use std::net::SocketAddr;
use time::OffsetDateTime;

/// One request as received, with its verdict and the answer it got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// hookscope's own sequence number within this run, starting at 1.
    pub seq: u64,
    /// When the request head arrived (UTC).
    pub received_at: OffsetDateTime,
    /// The peer's address (the tunnel agent's, when behind one).
    pub remote: Option<SocketAddr>,
    /// The method, as sent (borrowed for the standard ones: no allocation per delivery).
    pub method: Cow<'static, str>,
    /// Path with query, as sent.
    pub path: String,
    /// `HTTP/1.1`, `HTTP/2.0`, …
    pub version: Cow<'static, str>,
    /// Every header; names lower-cased (as HTTP/2 requires and hyper normalises), values as bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The raw body bytes, never re-serialised. Empty when the body was not read (413).
    pub body: Bytes,
    /// The body's size: bytes read, or the announced size when it was refused unread.
    pub body_size: u64,
    /// `svix-id` / `webhook-id`.
    pub msg_id: Option<String>,
    /// The payload's top-level `id`.
    pub event_id: Option<String>,
    /// The payload's top-level `type`.
    pub event_type: Option<String>,
    /// The verification outcome.
    pub verdict: Verdict,
    /// What hookscope answered.
    pub response: ResponseRecord,
    /// Committed to the store; `seq` is then its id there.
    pub stored: bool,
    /// What the app answered when the delivery was forwarded.
    pub forward: Option<crate::forward::ForwardResult>,
    /// The delivery this one replays (its `seq`).
    pub replay_of: Option<u64>,
    /// Re-sent from `replay_of` with its body edited, as a new message, rather than replayed.
    pub edited: bool,
}

/// Why a record with status 0 has no answer (a head that never ended; an imported request
/// that got none).
pub const NO_ANSWER: &str = "the connection was closed without one";

/// What the inspector and `show` say over a body refused unread (over `--max-body`).
pub const BODY_REFUSED: &str = "no body kept: it was over --max-body and refused unread";

/// What they say over a body refused for want of room (`--max-body-memory`).
pub const BODY_NO_ROOM: &str =
    "no body kept: other bodies held all of --max-body-memory, so it was refused unread";

/// What the inspector and `show` say in place of a body the receiver refused and kept none of.
pub fn body_refused(verdict: &Verdict) -> Option<&'static str> {
    match verdict {
        Verdict::Unchecked(Unchecked::BodyTooLarge { .. }) => Some(BODY_REFUSED),
        Verdict::Unchecked(Unchecked::NoRoom { .. }) => Some(BODY_NO_ROOM),
        _ => None,
    }
}

/// What they say over the part of a body that came before it ended early (its client hung up
/// or stalled, or hookscope stopped).
pub const BODY_PARTIAL: &str = "only the part that came: the body never came whole";

/// The answer sent to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseRecord {
    /// HTTP status code.
    pub status: u16,
    /// The body sent (short text; hookscope's own answers are static).
    pub body: Cow<'static, str>,
}

/// The request half of a delivery, as the receiver read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The peer's address.
    pub remote: Option<SocketAddr>,
    /// The method.
    pub method: Cow<'static, str>,
    /// Path with query.
    pub path: String,
    /// `HTTP/1.1`, …
    pub version: Cow<'static, str>,
    /// Headers in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Raw body bytes (empty when not read).
    pub body: Bytes,
    /// Bytes read, or announced when refused unread.
    pub body_size: u64,
}

impl ResponseRecord {
    /// The status's standard reason (`Bad Request`), or nothing for a status HTTP does not name.
    pub fn reason_phrase(&self) -> &'static str {
        http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    }

    /// Why nothing was answered, for a record with status 0: what the receiver noted (the
    /// sender hung up while the answer waited), else that the connection closed.
    pub fn unanswered(&self) -> &str {
        if self.body.is_empty() {
            NO_ANSWER
        } else {
            &self.body
        }
    }

    /// What was answered, in words: the body, or for an answer without one (what hyper sends a
    /// head it refuses, or an imported file's empty answer) the status's standard reason.
    pub fn said(&self) -> &str {
        if self.body.is_empty() {
            self.reason_phrase()
        } else {
            &self.body
        }
    }
}

impl Delivery {
    /// Whether its sender saw it fail: rejected, answered 4xx or 5xx (by hookscope, an answer
    /// mode or the app it was relayed to), or not answered. What `history --failed`, `replay
    /// --failed` and the inspector's `f` mean (the store says it in SQL: `store::FAILED`).
    pub fn failed(&self) -> bool {
        let status = self.response.status;
        self.verdict.verified() == Some(false) || status == 0 || status >= 400
    }

    /// Its verdict worked out again by `verifier` as of when it came (to try another secret on
    /// a real delivery), or why there is nothing to verify: not a POST, or not a whole request.
    pub fn verified_again(&self, verifier: &crate::verify::Verifier) -> Result<Verdict, String> {
        if let Some(why) = crate::replay::unrepeatable(self) {
            return Err(why.to_string());
        }
        if self.method != "POST" {
            return Err(format!(
                "it is a {}, and only POSTs are verified",
                crate::sanitize::line(&self.method)
            ));
        }
        Ok(verifier.verify(
            &self.path,
            &self.headers,
            &self.body,
            self.received_at.unix_timestamp(),
        ))
    }

    /// Assembles a delivery, deriving the message id and the payload's id and type.
    pub fn new(
        seq: u64,
        received_at: OffsetDateTime,
        req: Request,
        verdict: Verdict,
        response: ResponseRecord,
    ) -> Delivery {
        let fields = event_fields(&req.body);
        Delivery::with_fields(seq, received_at, req, verdict, response, fields)
    }

    /// [`Delivery::new`] with the payload's id and type already read (the receiver reads them
    /// while the body is hashed).
    pub fn with_fields(
        seq: u64,
        received_at: OffsetDateTime,
        req: Request,
        verdict: Verdict,
        response: ResponseRecord,
        (event_id, event_type): (Option<String>, Option<String>),
    ) -> Delivery {
        Delivery {
            seq,
            received_at,
            remote: req.remote,
            method: req.method,
            path: req.path,
            version: req.version,
            msg_id: message_id(&req.headers),
            headers: req.headers,
            body: req.body,
            body_size: req.body_size,
            event_id,
            event_type,
            verdict,
            response,
            stored: false,
            forward: None,
            replay_of: None,
            edited: false,
        }
    }

    /// `POST /path?query`, escaped for display; for a refused head whose request line was not
    /// seen (one after others on a kept-alive connection), says so, and for a TLS handshake
    /// (which has none) says that.
    pub fn target(&self) -> Cow<'_, str> {
        if self.method.is_empty() && self.path.is_empty() {
            let tls = matches!(&self.verdict,
                Verdict::Unchecked(crate::verify::Unchecked::Malformed { reason })
                    if reason == crate::malformed::TLS);
            return Cow::Borrowed(if tls {
                "(TLS handshake)"
            } else {
                "(request line not seen)"
            });
        }
        // A request line of one word (`GARBAGE`) has no target to put a space before.
        if self.path.is_empty() {
            return crate::sanitize::line(&self.method);
        }
        format!(
            "{} {}",
            crate::sanitize::line(&self.method),
            crate::sanitize::line(&self.path)
        )
        .into()
    }

    /// `POST /path?query  HTTP/1.1  from 127.0.0.1:50123`, escaped for display (the version
    /// left out when unknown).
    pub fn request_line(&self) -> String {
        let mut line = self.target().into_owned();
        if !self.version.is_empty() {
            line.push_str("  ");
            line.push_str(&crate::sanitize::line(&self.version));
        }
        line.push_str("  from ");
        match self.remote {
            Some(r) => line.push_str(&r.to_string()),
            None => line.push('—'),
        }
        line
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// `1 message`, `3 messages`: how many message ids, as `replay --failed` and `F` say it.
pub fn messages(n: u64) -> String {
    if n == 1 {
        "1 message".into()
    } else {
        format!("{n} messages")
    }
}

/// `1 delivery`, `3 deliveries`: how many, as the status lines and summaries say it.
pub fn deliveries(n: u64) -> String {
    if n == 1 {
        "1 delivery".into()
    } else {
        format!("{n} deliveries")
    }
}

/// The message id from `svix-id`, else `webhook-id` (the first of each, when not empty).
pub fn message_id<N: AsRef<str>, V: AsRef<[u8]>>(headers: &[(N, V)]) -> Option<String> {
    // One pass: this runs for every delivery.
    let (mut svix, mut webhook) = (None, None);
    for (n, v) in headers {
        let n = n.as_ref();
        if svix.is_none() && n.eq_ignore_ascii_case("svix-id") {
            svix = Some(v.as_ref());
        } else if webhook.is_none() && n.eq_ignore_ascii_case("webhook-id") {
            webhook = Some(v.as_ref());
        }
    }
    svix.filter(|v| !v.is_empty())
        .or(webhook.filter(|v| !v.is_empty()))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// A method as text, borrowed when it is one of HTTP's standard methods (nearly every one a
/// receiver sees): the receiver, the store and imports make one per delivery.
pub fn method_text(method: &str) -> Cow<'static, str> {
    const STANDARD: [&str; 9] = [
        "POST", "GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    match STANDARD.iter().find(|m| **m == method) {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(method.to_owned()),
    }
}

/// A protocol version as text (`HTTP/1.1`), borrowed when it is one HTTP has.
pub fn version_text(version: &str) -> Cow<'static, str> {
    const KNOWN: [&str; 5] = ["HTTP/1.1", "HTTP/2.0", "HTTP/1.0", "HTTP/0.9", "HTTP/3.0"];
    match KNOWN.iter().find(|v| **v == version) {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(version.to_owned()),
    }
}

pub use crate::probe::event_fields;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_leaves_out_what_is_unknown() {
        let mut b =
            crate::testing::Builder::new(&[], time::macros::datetime!(2026-11-27 10:00 UTC));
        let mut d = b.request("POST", "/a?b=\u{1b}", vec![], b"");
        d.remote = Some("127.0.0.1:5000".parse().unwrap());
        assert_eq!(
            d.request_line(),
            "POST /a?b=\\x1b  HTTP/1.1  from 127.0.0.1:5000"
        );
        (d.method, d.path, d.version, d.remote) = ("".into(), String::new(), "".into(), None);
        assert_eq!(d.request_line(), "(request line not seen)  from —");
        // One word where the request line should be: no space after it.
        d.method = "GARBAGE".into();
        assert_eq!(d.target(), "GARBAGE");
    }

    #[test]
    fn message_id_prefers_svix() {
        let h = vec![
            ("webhook-id".to_string(), b"msg_b".to_vec()),
            ("Svix-Id".to_string(), b"msg_a".to_vec()),
            ("svix-id".to_string(), b"msg_later".to_vec()),
        ];
        assert_eq!(message_id(&h).as_deref(), Some("msg_a"));
        // An empty svix-id gives way to webhook-id; the first of each counts.
        let h = [
            ("svix-id", &b""[..]),
            ("webhook-id", b"msg_w"),
            ("webhook-id", b"msg_w2"),
        ];
        assert_eq!(message_id(&h).as_deref(), Some("msg_w"));
        let h = [("svix-id", &b""[..]), ("x", b"y")];
        assert_eq!(message_id(&h), None);
    }

    #[test]
    fn standard_methods_and_versions_are_borrowed_the_rest_kept_as_sent() {
        assert!(matches!(method_text("POST"), Cow::Borrowed("POST")));
        assert!(matches!(method_text("TRACE"), Cow::Borrowed("TRACE")));
        // Methods are case-sensitive: `post` is another method, kept as sent.
        assert!(matches!(method_text("post"), Cow::Owned(m) if m == "post"));
        assert!(matches!(method_text("PROPFIND"), Cow::Owned(m) if m == "PROPFIND"));
        assert!(matches!(
            version_text("HTTP/2.0"),
            Cow::Borrowed("HTTP/2.0")
        ));
        assert!(matches!(version_text("HTTP/9"), Cow::Owned(v) if v == "HTTP/9"));
    }
}
