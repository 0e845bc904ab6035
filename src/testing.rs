//! Builders for tests and benches: deliveries exactly as the receiver would record them (real
//! verification, real answers), without a socket or a clock.

use crate::delivery::{Delivery, Request, ResponseRecord};
use crate::receiver::answer;
use crate::verify::{Key, Secret, Unchecked, Verdict, Verifier, sign};
use bytes::Bytes;
use time::OffsetDateTime;

/// Makes deliveries at a fixed, advanceable time.
pub struct Builder {
    verifier: Verifier,
    /// The receive time of the next delivery.
    pub at: OffsetDateTime,
    seq: u64,
}

impl Builder {
    /// A builder verifying with `secrets`, starting at `at`.
    pub fn new(secrets: &[&str], at: OffsetDateTime) -> Builder {
        let secrets = secrets
            .iter()
            .filter_map(|s| Secret::parse(s).ok())
            .collect();
        Builder {
            verifier: Verifier::new(secrets, crate::verify::DEFAULT_TOLERANCE),
            at,
            seq: 0,
        }
    }

    /// Moves the clock.
    pub fn advance(&mut self, millis: i64) {
        self.at += time::Duration::milliseconds(millis);
    }

    /// Any request; POSTs are verified, others answered 405.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: Vec<(String, Vec<u8>)>,
        body: &[u8],
    ) -> Delivery {
        let verdict = if method == "POST" {
            self.verifier
                .verify(path, &headers, body, self.at.unix_timestamp())
        } else {
            Verdict::Unchecked(Unchecked::NotPost {
                method: method.to_string(),
            })
        };
        self.record(method, path, headers, body, verdict)
    }

    /// A request with a given verdict (for 413s and cut-off bodies).
    pub fn record(
        &mut self,
        method: &str,
        path: &str,
        headers: Vec<(String, Vec<u8>)>,
        body: &[u8],
        verdict: Verdict,
    ) -> Delivery {
        self.seq += 1;
        let (status, text) = answer(&verdict);
        Delivery::new(
            self.seq,
            self.at,
            Request {
                remote: Some(([127, 0, 0, 1], 50_000 + (self.seq % 10_000) as u16).into()),
                method: crate::delivery::method_text(method),
                path: path.to_string(),
                version: "HTTP/1.1".into(),
                headers,
                body: Bytes::copy_from_slice(body),
                body_size: body.len() as u64,
            },
            verdict,
            ResponseRecord {
                status: status.as_u16(),
                body: text.to_string().into(),
            },
        )
    }

    /// A POST signed with `secret` at the builder's time, with svix headers.
    pub fn signed(&mut self, secret: &str, msg_id: &str, body: &[u8]) -> Delivery {
        let ts = self.at.unix_timestamp();
        let headers = signed_headers(secret, msg_id, ts, body);
        self.request("POST", "/webhooks", headers, body)
    }
}

/// Svix headers (plus a content type) signing `body` with an HMAC `secret` at `ts`.
pub fn signed_headers(secret: &str, msg_id: &str, ts: i64, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let sig = match Secret::parse(secret).map(|s| s.key) {
        Ok(Key::Hmac(k)) => sign::sign_v1(&k, msg_id, ts, body),
        _ => "v1,".to_string(),
    };
    vec![
        ("content-type".into(), b"application/json".to_vec()),
        ("svix-id".into(), msg_id.as_bytes().to_vec()),
        ("svix-timestamp".into(), ts.to_string().into_bytes()),
        ("svix-signature".into(), sig.into_bytes()),
    ]
}

/// A small event payload.
pub fn event(kind: &str, id: &str) -> Vec<u8> {
    format!(r#"{{"id":"{id}","type":"{kind}","data":{{"object":"customer","email":"ada@example.com"}}}}"#).into_bytes()
}
