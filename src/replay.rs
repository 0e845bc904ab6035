//! Replays: re-sending a recorded delivery, exactly as received or re-signed with a fresh
//! timestamp (same message id, so the app's idempotency handling is exercised). Replays go
//! through a receiver (ours by default) marked with `x-hookscope-replay-of` (an edit with
//! `x-hookscope-edit-of`), so each becomes a new delivery linked to its original, with its own
//! verdict and answer.

use crate::delivery::Delivery;
use crate::forward::{EDIT_HEADER, REPLAY_HEADER};
use crate::verify::{Key, Secret, sign};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Why a replay could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// `R` without an HMAC secret for the path.
    #[error("no whsec_ secret applies to {0}: pass --secret to re-sign")]
    NoSecret(String),
    /// The delivery has no message id to sign.
    #[error("the delivery has no svix-id or webhook-id header to re-sign")]
    NoMessageId,
    /// The request was refused as malformed, or never came whole: no well-formed request
    /// repeats it.
    // Said by the inspector and by `hookscope replay` alike: no key named here.
    #[error("a request refused as malformed or never complete cannot be re-sent as it came")]
    Malformed,
    /// The request's body was not kept whole (refused unread, or cut short by its client): a
    /// replay would send an empty or partial body under the original signature.
    #[error("{0}: a replay would not send the body that came")]
    BodyNotKept(&'static str),
    /// A recorded header (from an imported file) that no HTTP request can carry.
    #[error("the recorded header `{name}` cannot be sent: {why}")]
    Header {
        /// The header's name, made printable.
        name: String,
        /// What HTTP forbids in it.
        why: &'static str,
    },
    /// Nothing listens at the URL (connection refused).
    #[error("{url}: {said}")]
    NothingListens {
        /// Where it was sent.
        url: String,
        /// The refusal, host and port named.
        said: String,
    },
    /// The request could not be made or answered.
    #[error("{0}")]
    Send(String),
}

/// The headers with a fresh timestamp and signature (same message id), signed with the most
/// specific HMAC secret for the delivery's path. The header family (svix-/webhook-) is kept.
pub fn resign(
    d: &Delivery,
    secrets: &[Secret],
    now: i64,
) -> Result<Vec<(String, Vec<u8>)>, ReplayError> {
    let id = d.msg_id.clone().ok_or(ReplayError::NoMessageId)?;
    signed_headers(d, &id, &d.body, secrets, now)
}

/// A copy of the delivery carrying `body` as a new message (`msg_id`), signed at `now`: what
/// the inspector sends after its body was edited. (A new id, because an app that drops
/// repeated message ids would drop the edit unseen.)
pub fn edited(
    d: &Delivery,
    body: Bytes,
    msg_id: &str,
    secrets: &[Secret],
    now: i64,
) -> Result<Delivery, ReplayError> {
    let headers = signed_headers(d, msg_id, &body, secrets, now)?;
    Ok(Delivery {
        headers,
        body_size: body.len() as u64,
        body,
        msg_id: Some(msg_id.to_string()),
        ..d.clone()
    })
}

/// The most specific HMAC secret for `path`: the one a re-signed replay is signed with.
pub fn signing_key<'a>(path: &str, secrets: &'a [Secret]) -> Result<&'a [u8], ReplayError> {
    secrets
        .iter()
        .filter(|s| s.applies_to(path))
        .filter_map(|s| match &s.key {
            Key::Hmac(k) => Some((s.scope().map_or(0, str::len), k)),
            Key::Ed25519 { .. } => None,
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, k)| &**k)
        .ok_or_else(|| ReplayError::NoSecret(crate::sanitize::line(path).into_owned()))
}

/// `d`'s headers with the id, timestamp and signature of its header family (svix- unless it
/// came with webhook- only) made anew for `id` and `body` at `now`.
fn signed_headers(
    d: &Delivery,
    id: &str,
    body: &[u8],
    secrets: &[Secret],
    now: i64,
) -> Result<Vec<(String, Vec<u8>)>, ReplayError> {
    let key = signing_key(&d.path, secrets)?;
    let signature = sign::sign_v1(key, id, now, body);
    let family = if d.header("svix-id").is_none() && d.header("webhook-id").is_some() {
        "webhook"
    } else {
        "svix"
    };
    let (id_name, ts_name, sig_name) = (
        format!("{family}-id"),
        format!("{family}-timestamp"),
        format!("{family}-signature"),
    );
    let mut headers: Vec<(String, Vec<u8>)> = d
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(&ts_name) && !n.eq_ignore_ascii_case(&sig_name))
        .map(|(n, v)| match n.eq_ignore_ascii_case(&id_name) {
            true => (n.clone(), id.as_bytes().to_vec()),
            false => (n.clone(), v.clone()),
        })
        .collect();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(&id_name))
    {
        headers.push((id_name, id.as_bytes().to_vec()));
    }
    headers.push((ts_name, now.to_string().into_bytes()));
    headers.push((sig_name, signature.into_bytes()));
    Ok(headers)
}

/// A copy of the delivery with re-signed headers.
pub fn resigned(d: &Delivery, secrets: &[Secret], now: i64) -> Result<Delivery, ReplayError> {
    Ok(Delivery {
        headers: resign(d, secrets, now)?,
        ..d.clone()
    })
}

/// Why `d` cannot be re-sent as it came, if it cannot: its head was refused or never ended, or
/// its body was not kept whole. The inspector's curl commands and replays ask too.
pub fn unrepeatable(d: &Delivery) -> Option<ReplayError> {
    use crate::verify::{Unchecked, Verdict};
    let Verdict::Unchecked(u) = &d.verdict else {
        return None;
    };
    match u {
        Unchecked::Malformed { .. }
        | Unchecked::HeadIncomplete { .. }
        | Unchecked::HeadCutShort { .. } => Some(ReplayError::Malformed),
        Unchecked::BodyTooLarge { .. } => Some(ReplayError::BodyNotKept(
            "its body was over --max-body and refused unread",
        )),
        Unchecked::NoRoom { .. } => Some(ReplayError::BodyNotKept(
            "its body was refused unread while other bodies held all of --max-body-memory (the sender was told to retry)",
        )),
        Unchecked::BodyIncomplete { .. } => Some(ReplayError::BodyNotKept(
            "its body never came whole (only the part that came was kept)",
        )),
        Unchecked::NoSecret
        | Unchecked::NoSecretForPath { .. }
        | Unchecked::NotPost { .. }
        | Unchecked::Unreadable { .. } => None,
    }
}

/// What a re-send is of the delivery it goes out for, as its mark says to the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// The same message again (as received, or re-signed).
    Replay,
    /// A new message carrying an edited body.
    Edit,
}

/// Sends `headers` and the delivery's body to `base` + its path (joined as forwarding joins
/// them), marked as a replay or an edit of it (`what`), to a server whose certificate `trust`
/// accepts. Returns the status and (start of the) body answered.
pub async fn send(
    base: &str,
    d: &Delivery,
    headers: &[(String, Vec<u8>)],
    what: Resend,
    trust: crate::client::Trust,
) -> Result<(u16, String), ReplayError> {
    if let Some(refused) = unrepeatable(d) {
        return Err(refused);
    }
    let base = crate::client::http_url(base)
        .map_err(|why| ReplayError::Send(format!("`{base}`: {why}")))?;
    // Its password is sent as Basic authorization, and kept out of what is said.
    let (base, auth) = crate::client::credentials(base);
    let url = crate::forward::join(&base, &d.path);
    let uri: Uri = url
        .parse()
        .map_err(|_| ReplayError::Send(format!("`{url}` is not a URL")))?;
    let method = Method::from_bytes(d.method.as_bytes()).map_err(|_| {
        ReplayError::Send(format!(
            "the recorded method `{}` is not an HTTP method",
            crate::sanitize::line(&d.method)
        ))
    })?;
    let mut req = Request::builder().method(method).uri(uri.clone());
    for (n, v) in headers {
        if crate::forward::relayed_to(n, auth.is_some()) {
            let (name, value) = sendable(n, v)?;
            req = req.header(name, value);
        }
    }
    if let Some(auth) = auth {
        req = req.header(http::header::AUTHORIZATION, auth);
    }
    // seq 0: the original has no id to link to (the store could not keep it).
    if d.seq != 0 {
        let mark = match what {
            Resend::Replay => REPLAY_HEADER,
            Resend::Edit => EDIT_HEADER,
        };
        req = req.header(mark, d.seq.to_string());
    }
    let req = req
        .body(Full::new(d.body.clone()))
        .map_err(|e| ReplayError::Send(e.to_string()))?;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .build(crate::client::connector(Duration::from_secs(10), trust));
    let exchange = async {
        let resp = client.request(req).await.map_err(|e| {
            match crate::client::nothing_listens(&e, &uri) {
                Some(said) => ReplayError::NothingListens {
                    url: url.clone(),
                    said,
                },
                None => ReplayError::Send(format!("{url}: {}", crate::client::error_chain(&e))),
            }
        })?;
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        let body = crate::client::preview(body, crate::client::ANSWER_READ)
            .await
            .map_err(|e| ReplayError::Send(e.to_string()))?;
        Ok((status, crate::client::answer_text(&parts.headers, &body)))
    };
    tokio::time::timeout(Duration::from_secs(60), exchange)
        .await
        .map_err(|_| ReplayError::Send(format!("{url}: no answer within 60 s")))?
}

/// A recorded header as one a request can carry, or which part of it HTTP forbids. Headers the
/// receiver recorded always pass; an imported file's may not.
fn sendable(name: &str, value: &[u8]) -> Result<(HeaderName, HeaderValue), ReplayError> {
    let refused = |why| ReplayError::Header {
        name: crate::sanitize::line(name).into_owned(),
        why,
    };
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| refused("HTTP allows only letters, digits and !#$%&'*+-.^_`|~ in a name"))?;
    let value = HeaderValue::from_bytes(value)
        .map_err(|_| refused("its value holds a line break or another control character"))?;
    Ok((name, value))
}

/// Why a replay as received was likely refused, when its signed timestamp is older than the
/// tolerance receivers keep (5 minutes, hookscope's and the Standard Webhooks libraries'):
/// `signed 27m 16s ago, past the 5m receivers allow`. Each caller says how to re-sign.
pub fn stale(d: &Delivery, now: i64) -> Option<String> {
    let signed = ["svix-timestamp", "webhook-timestamp"]
        .iter()
        .find_map(|name| d.header(name))
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<i64>().ok())?;
    let age = u64::try_from(now.checked_sub(signed)?).ok()?;
    let tolerance = crate::verify::DEFAULT_TOLERANCE;
    (age > tolerance).then(|| {
        format!(
            "signed {} ago, past the {} receivers allow",
            crate::verify::human_duration(age),
            crate::verify::human_duration(tolerance)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Trust;
    use crate::testing::{Builder, event};
    use crate::verify::{Verdict, Verifier};
    use time::macros::datetime;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn a_stale_signature_is_named_as_the_likely_reason_for_a_refusal() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
        let d = b.signed(SECRET, "msg_r", &event("a.b", "evt_r"));
        let signed = d.received_at.unix_timestamp();
        assert_eq!(stale(&d, signed + 300), None, "within the tolerance");
        assert_eq!(
            stale(&d, signed + 27 * 60 + 16).as_deref(),
            Some("signed 27m 16s ago, past the 5m receivers allow")
        );
        // Signed in the future is another problem; no timestamp, nothing to go on.
        assert_eq!(stale(&d, signed - 3600), None);
        let unsigned = b.request("POST", "/x", vec![], b"{}");
        assert_eq!(stale(&unsigned, signed + 3600), None);
    }

    #[test]
    fn resigning_refreshes_the_timestamp_and_keeps_the_message_id() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
        let d = b.signed(SECRET, "msg_r", &event("a.b", "evt_r"));
        let later = d.received_at.unix_timestamp() + 3600;
        let secrets = vec![Secret::parse(SECRET).unwrap()];
        let verifier = Verifier::new(secrets.clone(), 300);
        // As received, an hour later it is too old; re-signed it verifies.
        assert_eq!(
            verifier
                .verify("/webhooks", &d.headers, &d.body, later)
                .failure_code(),
            Some("timestamp_too_old")
        );
        let r = resigned(&d, &secrets, later).unwrap();
        assert!(matches!(
            verifier.verify("/webhooks", &r.headers, &r.body, later),
            Verdict::Verified(_)
        ));
        assert_eq!(r.header("svix-id"), Some(&b"msg_r"[..]));
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| n == "svix-signature")
                .count(),
            1
        );
        assert_eq!(
            resign(&d, &[], later),
            Err(ReplayError::NoSecret("/webhooks".into()))
        );
        let no_id = b.request("POST", "/", vec![], b"{}");
        assert_eq!(
            resign(&no_id, &secrets, later),
            Err(ReplayError::NoMessageId)
        );
    }

    #[test]
    fn an_edit_is_a_new_message_signed_in_the_headers_it_came_with() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
        let secrets = vec![Secret::parse(SECRET).unwrap()];
        let verifier = Verifier::new(secrets.clone(), 300);
        let now = b.at.unix_timestamp() + 60;
        let body = Bytes::from_static(br#"{"id":"evt_r","amount":2}"#);
        // webhook-* headers stay webhook-*: the id replaced where it stood, nothing svix added.
        let mut d = b.signed(SECRET, "msg_r", &event("a.b", "evt_r"));
        for (n, _) in &mut d.headers {
            if let Some(rest) = n.strip_prefix("svix-") {
                *n = format!("webhook-{rest}");
            }
        }
        let e = edited(&d, body.clone(), "msg_new", &secrets, now).unwrap();
        assert_eq!((&e.body, e.body_size), (&body, body.len() as u64));
        assert_eq!(e.msg_id.as_deref(), Some("msg_new"));
        assert_eq!(e.header("webhook-id"), Some(&b"msg_new"[..]));
        assert!(e.headers.iter().all(|(n, _)| !n.starts_with("svix-")));
        assert_eq!(
            e.headers.iter().filter(|(n, _)| n.ends_with("-id")).count(),
            1
        );
        assert!(matches!(
            verifier.verify("/webhooks", &e.headers, &e.body, now),
            Verdict::Verified(_)
        ));
        // A delivery that came unsigned is signed the svix way.
        let plain = b.request("POST", "/webhooks", vec![], b"{}");
        let e = edited(&plain, body.clone(), "msg_p", &secrets, now).unwrap();
        assert_eq!(e.header("svix-id"), Some(&b"msg_p"[..]));
        assert!(matches!(
            verifier.verify("/webhooks", &e.headers, &e.body, now),
            Verdict::Verified(_)
        ));
        assert_eq!(
            edited(&d, body, "msg_x", &[], now).unwrap_err(),
            ReplayError::NoSecret("/webhooks".into())
        );
    }

    #[tokio::test]
    async fn a_request_refused_as_malformed_is_not_replayed() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
        let mut d = b.request("POST", "/", vec![("x".into(), b"\x1b".to_vec())], b"");
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::Malformed {
            reason: "the header `x` holds byte 0x1b".into(),
        });
        // Nothing listens at this address: the refusal comes before any connection.
        let sent = to_nowhere(&d).await;
        assert_eq!(sent, Err(ReplayError::Malformed));
        // Nor is a head that never ended.
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::HeadIncomplete {
            received: 20,
            ms: 30_000,
        });
        let sent = to_nowhere(&d).await;
        assert_eq!(sent, Err(ReplayError::Malformed));
        // A target without its scheme is not guessed at.
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::NoSecret);
        let sent = send("localhost:9", &d, &d.headers, Resend::Replay, Trust::System).await;
        assert_eq!(
            sent,
            Err(ReplayError::Send(
                "`localhost:9`: no scheme: write http://localhost:9 (or https://localhost:9)"
                    .into()
            ))
        );
        // Nor one its client cut short.
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::HeadCutShort {
            received: 20,
            error: "closed by the client".into(),
        });
        let sent = to_nowhere(&d).await;
        assert_eq!(sent, Err(ReplayError::Malformed));
        // Nor one whose body was not kept: the signature would go out over an empty body.
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::BodyTooLarge {
            limit: 16,
            size: 1 << 30,
            declared: true,
        });
        let sent = to_nowhere(&d).await;
        assert!(
            matches!(&sent, Err(ReplayError::BodyNotKept(why)) if why.contains("refused unread")),
            "{sent:?}"
        );
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::BodyIncomplete {
            error: "closed by the client".into(),
            received: 0,
        });
        let sent = to_nowhere(&d).await;
        assert!(
            matches!(&sent, Err(ReplayError::BodyNotKept(why)) if why.contains("never came whole")),
            "{sent:?}"
        );
        // A GET, answered 405, came whole: it can be sent again as it came.
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::NotPost {
            method: "GET".into(),
        });
        assert_eq!(unrepeatable(&d), None);
    }

    #[tokio::test]
    async fn a_header_no_request_can_carry_is_named() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
        for (header, why) in [
            (("x y", &b"1"[..]), "only letters"),
            (("x-note", &b"a\nb"[..]), "line break"),
        ] {
            let d = b.request(
                "POST",
                "/",
                vec![(header.0.into(), header.1.to_vec())],
                b"{}",
            );
            // Nothing listens at this address: the refusal comes before any connection.
            let err = to_nowhere(&d).await.unwrap_err().to_string();
            assert!(
                err.contains(&format!("`{}`", header.0)) && err.contains(why),
                "{err}"
            );
        }
        let mut d = b.request("POST", "/", vec![], b"{}");
        d.method = "PO ST".into();
        let err = to_nowhere(&d).await.unwrap_err();
        assert!(err.to_string().contains("`PO ST`"), "{err}");
    }

    /// `d` replayed to an address where nothing listens: what refuses it comes first.
    async fn to_nowhere(d: &Delivery) -> Result<(u16, String), ReplayError> {
        send(
            "http://127.0.0.1:9/",
            d,
            &d.headers,
            Resend::Replay,
            Trust::System,
        )
        .await
    }

    /// The head of one request sent to a one-shot server that answers 200.
    async fn head_of_one(d: &Delivery, what: Resend) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            use std::io::{Read as _, Write as _};
            let (mut conn, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0);
                got.extend_from_slice(&buf[..n]);
            }
            conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
            String::from_utf8_lossy(&got).to_lowercase()
        });
        send(&base, d, &d.headers, what, Trust::System)
            .await
            .unwrap();
        server.join().unwrap()
    }

    #[tokio::test]
    async fn a_replay_is_linked_to_its_original_only_when_that_has_an_id() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
        let mut d = b.signed(SECRET, "msg_l", &event("a.b", "evt_l"));
        d.seq = 42;
        let replay = head_of_one(&d, Resend::Replay).await;
        assert!(replay.contains("x-hookscope-replay-of: 42\r\n"), "{replay}");
        assert!(!replay.contains("x-hookscope-edit-of"), "{replay}");
        // An edit is marked as one, in place of the replay mark; an earlier edit's mark it
        // carries is not passed on (this is an edit of #42, not of what #42 edited).
        d.headers.push((EDIT_HEADER.into(), b"7".to_vec()));
        let edit = head_of_one(&d, Resend::Edit).await;
        assert!(edit.contains("x-hookscope-edit-of: 42\r\n"), "{edit}");
        assert!(!edit.contains("x-hookscope-replay-of"), "{edit}");
        assert!(!edit.contains(": 7\r\n"), "{edit}");
        // 0: one the store could not keep, whose number in its run is no id at all.
        d.seq = 0;
        let unlinked = head_of_one(&d, Resend::Edit).await;
        assert!(!unlinked.contains("x-hookscope-"), "{unlinked}");
    }
}
