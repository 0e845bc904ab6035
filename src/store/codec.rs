//! Rows to deliveries and back. Headers are stored as length-prefixed bytes (exact, in order);
//! the verdict as JSON, so every reason and hint survives a restart.

use crate::delivery::{Delivery, Request, ResponseRecord};
use crate::verify::{Unchecked, Verdict};
use bytes::Bytes;
use rusqlite::types::Value;
use time::OffsetDateTime;

pub const INSERT: &str = "INSERT INTO deliveries (received_at_ns, session, remote, method, path, version, headers, body, body_size, msg_id, event_id, event_type, verified, failure, status, response_body, verdict, forward, replay_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

/// The first schema's insert (tests build old stores with it).
#[cfg(test)]
pub const INSERT_V1: &str = "INSERT INTO deliveries (received_at_ns, session, remote, method, path, version, headers, body, body_size, msg_id, event_id, event_type, verified, failure, status, response_body, verdict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

/// The id of a stored delivery that is the same one as [`Row::identity`] describes: received at
/// the same nanosecond, from the same address, with the same request and body. (The time index
/// finds the few candidates; bodies are compared only for them.)
pub const SAME_DELIVERY: &str = "SELECT id FROM deliveries WHERE received_at_ns = ?1 AND remote IS ?2 AND method = ?3 AND path = ?4 AND msg_id IS ?5 AND body_size = ?6 AND body = ?7 ORDER BY id LIMIT 1";

/// The columns read back, with or without the body.
pub fn columns(full: bool) -> String {
    let (headers, body) = if full {
        ("headers", "body")
    } else {
        ("x'' AS headers", "x'' AS body")
    };
    format!(
        "id, received_at_ns, session, remote, method, path, version, {headers}, {body}, body_size, msg_id, event_id, event_type, status, response_body, verdict, forward, replay_of, {EDITED}"
    )
}

/// Whether a re-send was an edit, from the mark its headers keep ([`encode_headers`]' length
/// and name of [`crate::forward::EDIT_HEADER`]), so light rows know it without the headers and
/// the schema needs no column for it. (A column added now would sit after the bodies, where
/// every light read would walk their overflow pages.) Only a re-send's headers are read.
const EDITED: &str = "CASE WHEN replay_of IS NULL THEN 0 ELSE instr(headers, x'13000000782d686f6f6b73636f70652d656469742d6f66') > 0 END AS edited";

pub fn nanos(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

pub fn encode_headers(headers: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.iter().map(|(n, v)| n.len() + v.len() + 8).sum());
    for (n, v) in headers {
        out.extend_from_slice(&(n.len() as u32).to_le_bytes());
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v);
    }
    out
}

/// Decodes what [`encode_headers`] wrote; stops at the first inconsistency rather than panic.
pub fn decode_headers(mut b: &[u8]) -> Vec<(String, Vec<u8>)> {
    fn take<'a>(b: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
        let item = b.get(4..4 + len)?;
        *b = &b[4 + len..];
        Some(item)
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let (Some(n), Some(v)) = (take(&mut b), take(&mut b)) else {
            break;
        };
        out.push((String::from_utf8_lossy(n).into_owned(), v.to_vec()));
    }
    out
}

/// One row's values.
pub struct Row {
    id: i64,
    received_at_ns: i64,
    session: String,
    remote: Option<String>,
    method: String,
    path: String,
    version: String,
    headers: Vec<u8>,
    body: Vec<u8>,
    body_size: i64,
    msg_id: Option<String>,
    event_id: Option<String>,
    event_type: Option<String>,
    verified: Option<bool>,
    failure: Option<String>,
    status: i64,
    response_body: String,
    verdict: String,
    forward: Option<String>,
    replay_of: Option<i64>,
    /// Read back only: [`EDITED`] derives it from the headers.
    edited: bool,
}

impl Row {
    pub fn from_delivery(d: &Delivery, session: &str) -> Row {
        Row {
            id: 0,
            received_at_ns: nanos(d.received_at),
            session: session.to_string(),
            remote: d.remote.map(|r| r.to_string()),
            method: d.method.to_string(),
            path: d.path.clone(),
            version: d.version.to_string(),
            headers: encode_headers(&d.headers),
            body: d.body.to_vec(),
            body_size: d.body_size as i64,
            msg_id: d.msg_id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            verified: d.verdict.verified(),
            failure: d.verdict.failure_code().map(str::to_string),
            status: d.response.status as i64,
            response_body: d.response.body.to_string(),
            verdict: serde_json::to_string(&d.verdict).unwrap_or_default(),
            forward: d
                .forward
                .as_ref()
                .and_then(|f| serde_json::to_string(f).ok()),
            replay_of: d.replay_of.map(|r| r as i64),
            edited: d.edited,
        }
    }

    /// What tells this delivery apart from any other, for [`SAME_DELIVERY`].
    pub fn identity(&self) -> [&dyn rusqlite::ToSql; 7] {
        [
            &self.received_at_ns,
            &self.remote,
            &self.method,
            &self.path,
            &self.msg_id,
            &self.body_size,
            &self.body,
        ]
    }

    pub fn params(self) -> [Value; 19] {
        [
            self.received_at_ns.into(),
            self.session.into(),
            self.remote.into(),
            self.method.into(),
            self.path.into(),
            self.version.into(),
            self.headers.into(),
            self.body.into(),
            self.body_size.into(),
            self.msg_id.into(),
            self.event_id.into(),
            self.event_type.into(),
            self.verified.map(i64::from).into(),
            self.failure.into(),
            self.status.into(),
            self.response_body.into(),
            self.verdict.into(),
            self.forward.into(),
            self.replay_of.into(),
        ]
    }

    pub fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            id: r.get("id")?,
            received_at_ns: r.get("received_at_ns")?,
            session: r.get("session")?,
            remote: r.get("remote")?,
            method: r.get("method")?,
            path: r.get("path")?,
            version: r.get("version")?,
            headers: r.get("headers")?,
            body: r.get("body")?,
            body_size: r.get("body_size")?,
            msg_id: r.get("msg_id")?,
            event_id: r.get("event_id")?,
            event_type: r.get("event_type")?,
            verified: None,
            failure: None,
            status: r.get("status")?,
            response_body: r.get("response_body")?,
            verdict: r.get("verdict")?,
            forward: r.get("forward")?,
            replay_of: r.get("replay_of")?,
            edited: r.get("edited")?,
        })
    }

    pub fn into_delivery(self) -> Delivery {
        let verdict = serde_json::from_str::<Verdict>(&self.verdict).unwrap_or_else(|e| {
            Verdict::Unchecked(Unchecked::Unreadable {
                detail: e.to_string(),
            })
        });
        let received_at = OffsetDateTime::from_unix_timestamp_nanos(self.received_at_ns as i128)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut d = Delivery::new(
            self.id.max(0) as u64,
            received_at,
            Request {
                remote: self.remote.and_then(|r| r.parse().ok()),
                method: crate::delivery::method_text(&self.method),
                path: self.path,
                version: crate::delivery::version_text(&self.version),
                headers: decode_headers(&self.headers),
                body: Bytes::from(self.body),
                body_size: self.body_size.max(0) as u64,
            },
            verdict,
            ResponseRecord {
                status: self.status.clamp(0, u16::MAX as i64) as u16,
                body: self.response_body.into(),
            },
        );
        // Light rows carry no body to derive these from; the columns have them.
        d.msg_id = self.msg_id;
        d.event_id = self.event_id;
        d.event_type = self.event_type;
        d.stored = true;
        d.forward = self.forward.and_then(|f| serde_json::from_str(&f).ok());
        d.replay_of = self.replay_of.map(|r| r.max(0) as u64);
        d.edited = self.edited;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_garbage_does_not_panic() {
        let h = vec![
            ("a".to_string(), b"\xff\x00x".to_vec()),
            ("b".to_string(), Vec::new()),
        ];
        assert_eq!(decode_headers(&encode_headers(&h)), h);
        assert_eq!(decode_headers(&[1, 2, 3]), vec![]);
        assert_eq!(decode_headers(&[255, 255, 255, 255, 1]), vec![]);
    }
}
