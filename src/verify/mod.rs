//! Standard Webhooks / Svix signature verification: a pure function of headers, body, secrets
//! and an injected clock, returning a typed [`Verdict`] that explains every failure.
//!
//! Signed content is `{id}.{timestamp}.{body}` over the raw body bytes. `v1` entries are
//! base64 HMAC-SHA256 with a `whsec_` secret, `v1a` entries are Ed25519 signatures checked with
//! a `whpk_` public key. Like the reference libraries, `v1` signatures are compared as base64
//! strings (constant time), so unpadded or non-canonical encodings do not match.

pub mod secret;
pub mod sign;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq as _;

pub use secret::{HmacKey, Key, Secret, SecretError, mask};

/// Default tolerance between the signed timestamp and our clock, both ways (seconds).
pub const DEFAULT_TOLERANCE: u64 = 300;

/// One of the three signature headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// `svix-id` / `webhook-id`.
    Id,
    /// `svix-timestamp` / `webhook-timestamp`.
    Timestamp,
    /// `svix-signature` / `webhook-signature`.
    Signature,
}

impl Part {
    /// The header names for this part, `svix-*` first (it wins when both are present).
    pub fn names(self) -> [&'static str; 2] {
        match self {
            Part::Id => ["svix-id", "webhook-id"],
            Part::Timestamp => ["svix-timestamp", "webhook-timestamp"],
            Part::Signature => ["svix-signature", "webhook-signature"],
        }
    }

    fn describe(self) -> String {
        let [a, b] = self.names();
        format!("{a} (or {b})")
    }
}

/// The outcome of checking one delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Verdict {
    /// A signature matched a configured secret.
    Verified(Verified),
    /// The delivery failed verification; answered 401.
    Failed(Failure),
    /// The delivery was not checked, and why.
    Unchecked(Unchecked),
}

impl Verdict {
    /// `Some(true)` verified, `Some(false)` rejected, `None` not checked.
    pub fn verified(&self) -> Option<bool> {
        match self {
            Verdict::Verified(_) => Some(true),
            Verdict::Failed(_) => Some(false),
            Verdict::Unchecked(_) => None,
        }
    }

    /// The failure kind code (`bad_signature`, …), if it failed.
    pub fn failure_code(&self) -> Option<&'static str> {
        match self {
            Verdict::Failed(f) => Some(f.kind.code()),
            _ => None,
        }
    }

    /// A one-line human explanation, `None` when verified.
    pub fn reason(&self) -> Option<String> {
        match self {
            Verdict::Verified(_) => None,
            Verdict::Failed(f) => Some(f.kind.to_string()),
            Verdict::Unchecked(u) => Some(u.to_string()),
        }
    }
}

/// What matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// The matching secret, masked, with its scope (`/billing=whsec_MfKQ…aSw`); shared with
    /// the secret, which made it once.
    pub secret: Arc<str>,
    /// `v1` (HMAC) or `v1a` (Ed25519).
    pub scheme: std::borrow::Cow<'static, str>,
    /// The signed timestamp.
    pub timestamp: i64,
}

/// Why a delivery was not checked (the receiver records these too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Unchecked {
    /// No secret is configured at all.
    NoSecret,
    /// Secrets exist, but all are scoped to other paths.
    NoSecretForPath {
        /// The scopes that are configured.
        scopes: Vec<String>,
    },
    /// Only POST deliveries are verified.
    NotPost {
        /// The method that came.
        method: String,
    },
    /// The body was larger than the limit and was not read.
    BodyTooLarge {
        /// `--max-body`.
        limit: u64,
        /// Bytes announced (Content-Length) or read before giving up.
        size: u64,
        /// Whether `size` came from Content-Length rather than counting.
        declared: bool,
    },
    /// Taking the body would have put the request bodies held at once, across every
    /// connection, over `--max-body-memory`: refused (503) for the sender to retry later.
    NoRoom {
        /// `--max-body-memory` (at least `--max-body`).
        limit: u64,
        /// Bytes announced (Content-Length) or read before giving up.
        size: u64,
        /// Whether `size` came from Content-Length rather than counting.
        declared: bool,
    },
    /// A stored or imported verdict this version cannot read.
    Unreadable {
        /// What went wrong reading it.
        detail: String,
    },
    /// The client stopped sending before the body was complete.
    BodyIncomplete {
        /// What went wrong, in words.
        error: String,
        /// Bytes received before that.
        received: u64,
    },
    /// The request head broke HTTP's grammar or limits: hyper refused it (400, 414 or 431)
    /// before it was handled.
    Malformed {
        /// What was wrong, naming the line when it could be seen.
        reason: String,
    },
    /// The client began a request head and stopped partway (a stalled proxy, slowloris): the
    /// connection was closed after the head timeout, without an answer.
    HeadIncomplete {
        /// Bytes of the head seen (at least: more may have come after the first read).
        received: u64,
        /// The head timeout, in milliseconds.
        ms: u64,
    },
    /// The client began a request head and closed the connection (or reset it) before the
    /// head ended: nothing was answered.
    HeadCutShort {
        /// Bytes of the head seen (at least: more may have come after the first read).
        received: u64,
        /// How the connection ended, in words.
        error: String,
    },
}

impl Unchecked {
    /// Whether the request itself was turned away (405, 413, a body cut short), as opposed to
    /// accepted without a check (no secret for it, a verdict this version cannot read).
    pub fn refused(&self) -> bool {
        match self {
            Unchecked::NotPost { .. }
            | Unchecked::BodyTooLarge { .. }
            | Unchecked::NoRoom { .. }
            | Unchecked::BodyIncomplete { .. }
            | Unchecked::Malformed { .. }
            | Unchecked::HeadIncomplete { .. }
            | Unchecked::HeadCutShort { .. } => true,
            Unchecked::NoSecret
            | Unchecked::NoSecretForPath { .. }
            | Unchecked::Unreadable { .. } => false,
        }
    }
}

impl fmt::Display for Unchecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unchecked::NoSecret => write!(
                f,
                "not verified: no secret configured (pass --secret whsec_… or export HOOKSCOPE_SECRET)"
            ),
            Unchecked::NoSecretForPath { scopes } => write!(
                f,
                "not verified: no secret applies to this path (secrets are scoped to {})",
                scopes.join(", ")
            ),
            // `post` is another method to HTTP; a hand-written client that sends it deserves
            // to be told why it got 405.
            Unchecked::NotPost { method } if method.eq_ignore_ascii_case("POST") => write!(
                f,
                "{} request: methods are case-sensitive and webhooks are POSTs, answered 405",
                crate::sanitize::line(method)
            ),
            Unchecked::NotPost { method } => write!(
                f,
                "{} request: webhooks are POSTs, answered 405",
                crate::sanitize::line(method)
            ),
            Unchecked::BodyTooLarge {
                limit,
                size,
                declared,
            } => write!(
                f,
                "body too large: {}, over the --max-body limit of {}",
                size_said(*size, *declared),
                human_bytes(*limit)
            ),
            Unchecked::NoRoom {
                limit,
                size,
                declared,
            } => write!(
                f,
                "no room for the body: with its {}, the request bodies held at once would be over the --max-body-memory limit of {}; answered 503 for the sender to retry later",
                size_said(*size, *declared),
                human_bytes(*limit)
            ),
            Unchecked::Unreadable { detail } => write!(
                f,
                "verdict not readable by this version of hookscope ({})",
                crate::sanitize::line(detail)
            ),
            Unchecked::BodyIncomplete { error, received } => write!(
                f,
                "body incomplete after {}: {}",
                human_bytes(*received),
                crate::sanitize::line(error)
            ),
            Unchecked::Malformed { reason } => {
                write!(f, "malformed request: {}", crate::sanitize::line(reason))
            }
            Unchecked::HeadIncomplete { received, ms } => write!(
                f,
                "request head incomplete: the client sent at least {} of it, then not the rest within {}; the connection was closed without an answer",
                human_bytes(*received),
                crate::forward::limit_text(std::time::Duration::from_millis(*ms))
            ),
            Unchecked::HeadCutShort { received, error } => write!(
                f,
                "request head incomplete: the client sent at least {} of it, then the connection ended ({}); nothing was answered",
                human_bytes(*received),
                crate::sanitize::line(error)
            ),
        }
    }
}

/// A refused body's size: announced by its content-length, or counted until it was refused.
fn size_said(size: u64, declared: bool) -> String {
    let how = if declared {
        "announced"
    } else {
        "received, at least"
    };
    format!("{} {how}", human_bytes(size))
}

/// A verification failure with everything the verifier could tell about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// What failed.
    pub kind: FailureKind,
    /// Extra observations that help fix it, most useful first.
    pub hints: Vec<String>,
}

/// The failure kinds of the Standard Webhooks spec, with their details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum FailureKind {
    /// One or more of the three headers is absent or empty.
    MissingHeader {
        /// Headers that are absent.
        missing: Vec<Part>,
        /// Headers that are present but empty.
        empty: Vec<Part>,
    },
    /// The timestamp header is not whole Unix seconds.
    InvalidTimestamp {
        /// The value, escaped for display and cut to 64 characters.
        value: String,
        /// What is wrong with it.
        problem: TimestampProblem,
    },
    /// Signed longer ago than the tolerance allows.
    TimestampTooOld {
        /// The signed timestamp.
        timestamp: i64,
        /// Seconds between it and now.
        age: u64,
        /// The tolerance in force.
        tolerance: u64,
        /// Whether the signature itself would have matched.
        signature_valid: bool,
    },
    /// Signed further in the future than the tolerance allows.
    TimestampTooNew {
        /// The signed timestamp.
        timestamp: i64,
        /// Seconds it is ahead of now.
        ahead: u64,
        /// The tolerance in force.
        tolerance: u64,
        /// Whether the signature itself would have matched.
        signature_valid: bool,
    },
    /// No signature matched.
    BadSignature(SignatureReport),
}

/// What is wrong with a timestamp header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampProblem {
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// Spaces around the number.
    Whitespace,
    /// `1614265330.5`.
    Fractional,
    /// `1.6e9`.
    Exponent,
    /// Digits beyond what 64 bits hold, or so far from now that the difference overflows.
    OutOfRange,
    /// Anything else.
    NotANumber,
}

impl fmt::Display for TimestampProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimestampProblem::NotUtf8 => "it is not text",
            TimestampProblem::Whitespace => "it has spaces around the number",
            TimestampProblem::Fractional => "it has a fraction; it must be whole seconds",
            TimestampProblem::Exponent => "it is in exponent notation; it must be plain digits",
            TimestampProblem::OutOfRange => "it is out of range",
            TimestampProblem::NotANumber => "it is not a number of Unix seconds",
        })
    }
}

/// The evidence behind a `bad_signature`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignatureReport {
    /// `v1` entries in the header.
    pub v1_entries: usize,
    /// `v1a` entries in the header.
    pub v1a_entries: usize,
    /// HMAC secrets that apply to this path.
    pub hmac_secrets: usize,
    /// Ed25519 public keys that apply to this path.
    pub ed25519_keys: usize,
    /// The first characters of the signature we expected, per applicable HMAC secret.
    pub expected: Vec<(String, String)>,
    /// The first characters of each signature entry received.
    pub received: Vec<String>,
    /// What the verifier could tell about the mismatch.
    pub findings: Vec<Finding>,
}

/// One observation about a signature mismatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The signature matches a secret configured for another path.
    MatchesOtherSecret {
        /// That secret's label.
        secret: String,
    },
    /// It matches the body without its trailing newline: one was added in transit.
    NewlineAdded,
    /// It matches the body with a trailing newline: one was removed in transit.
    NewlineRemoved,
    /// It matches the JSON body without its whitespace: compact JSON was signed, and what came
    /// was formatted (by the sender after signing, or on the way).
    Reformatted,
    /// It matches the JSON body laid out otherwise (a space after `,` and `:`, or indented):
    /// the JSON was serialised once to sign and again, another way, to send.
    SignedLaidOut {
        /// The layout signed.
        style: crate::relayout::Style,
    },
    /// The signature covers other content than `{id}.{timestamp}.{body}`.
    SignedOther {
        /// What it covers.
        over: SignedOver,
    },
    /// Only `v1a` signatures came, and no `whpk_` key is configured for this path.
    OnlyV1aNoPublicKey,
    /// Only `v1` signatures came, and no `whsec_` secret is configured for this path.
    OnlyV1NoHmacSecret,
    /// No `v1` or `v1a` entry at all.
    NoKnownVersion {
        /// The version tags that did come.
        versions: Vec<String>,
    },
    /// A signature entry is malformed.
    MalformedEntry {
        /// 1-based position in the header.
        position: usize,
        /// What is wrong with it.
        problem: EntryProblem,
    },
    /// The signature was made with the secret's text as the HMAC key instead of the bytes its
    /// base64 decodes to: a hand-written signer's usual slip.
    SecretTextAsKey {
        /// The secret's label.
        secret: String,
        /// `whsec_` and all; else the base64 part, undecoded.
        whole: bool,
    },
    /// An entry holds the right HMAC, written in a form the spec does not use (hex, `v1=`,
    /// without its `v1,`, a space after the comma, Stripe's `t=…,v1=…`).
    WrittenAs {
        /// 1-based position in the header.
        position: usize,
        /// How it was written.
        form: String,
    },
    /// The signature header came more than once; only the first was used.
    DuplicateHeader {
        /// Its name.
        name: String,
        /// How many times.
        count: usize,
    },
}

/// Content a signature was found to cover instead of `{id}.{timestamp}.{body}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedOver {
    /// `{timestamp}.{body}`, as Stripe signs.
    NoMessageId,
    /// The body alone, as GitHub and many others sign.
    BodyAlone,
    /// The payload's own `id` in place of the message id header's.
    EventId,
    /// `[object Object]` in place of the body: a JavaScript object, not its JSON text, was put
    /// into the string signed (`${id}.${ts}.${payload}`).
    ObjectObject,
}

/// What is wrong with one `version,signature` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum EntryProblem {
    /// No comma: `v1` alone or a bare signature.
    NoComma,
    /// More than one comma.
    ExtraComma,
    /// `V1` instead of `v1`.
    VersionCase(String),
    /// Nothing after the comma.
    Empty,
    /// Characters outside base64.
    NotBase64,
    /// Base64 without its `=` padding.
    MissingPadding,
    /// Decodes to the wrong number of bytes.
    WrongLength {
        /// Expected bytes (32 for v1, 64 for v1a).
        expected: usize,
        /// Actual bytes.
        actual: usize,
    },
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryProblem::NoComma => write!(f, "has no comma (expected `v1,<base64>`)"),
            EntryProblem::ExtraComma => write!(f, "has more than one comma"),
            EntryProblem::VersionCase(v) => write!(
                f,
                "has version `{}`; version tags are lower-case (`v1`, `v1a`)",
                crate::sanitize::line(v)
            ),
            EntryProblem::Empty => write!(f, "has nothing after the comma"),
            EntryProblem::NotBase64 => write!(f, "is not valid base64"),
            EntryProblem::MissingPadding => write!(f, "is base64 without its `=` padding"),
            EntryProblem::WrongLength { expected, actual } => {
                write!(
                    f,
                    "decodes to {actual} bytes, a signature of this version has {expected}"
                )?;
                // A v1 entry the size of another hash's digest: signed with that hash.
                let hash = match (expected, actual) {
                    (32, 20) => "SHA-1",
                    (32, 28) => "SHA-224",
                    (32, 48) => "SHA-384",
                    (32, 64) => "SHA-512",
                    _ => return Ok(()),
                };
                write!(
                    f,
                    " ({actual} bytes is a {hash} digest: v1 is HMAC-SHA256, 32 bytes)"
                )
            }
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::MatchesOtherSecret { secret } => write!(
                f,
                "the signature matches {secret}, a secret configured for another path: is the endpoint URL registered with the right path?"
            ),
            Finding::NewlineAdded => write!(
                f,
                "the signature matches the body without its trailing newline: something between the sender and here added one"
            ),
            Finding::NewlineRemoved => write!(
                f,
                "the signature matches the body with a trailing newline: something between the sender and here removed it"
            ),
            Finding::SignedOther { over } => {
                let what = match over {
                    SignedOver::NoMessageId => {
                        "`{timestamp}.{body}`, without the message id (as Stripe signs)"
                    }
                    SignedOver::BodyAlone => "the body alone (as GitHub and others sign)",
                    SignedOver::EventId => "the payload's `id` in place of the message id header's",
                    SignedOver::ObjectObject => {
                        return write!(
                            f,
                            "the signature covers `[object Object]` in place of the body: the signer put a JavaScript object into the string it signed, not the JSON text it sent (sign the body's exact text)"
                        );
                    }
                };
                write!(
                    f,
                    "the signature covers {what}: Standard Webhooks signs `{{id}}.{{timestamp}}.{{body}}`, the id from the svix-id (or webhook-id) header"
                )
            }
            Finding::Reformatted => write!(
                f,
                "the signature matches this JSON without its whitespace: compact JSON was signed and formatted JSON was sent; the signature covers the exact bytes, so sign what you send"
            ),
            Finding::SignedLaidOut { style } => {
                use crate::relayout::Style;
                let how = match style {
                    Style::Compact => "without its whitespace".to_string(),
                    Style::Spaced => {
                        "with a space after each `,` and `:` (as Python's json.dumps writes it)"
                            .to_string()
                    }
                    Style::Indented { spaces, newline } => format!(
                        "indented by {spaces} spaces{} (as JSON.stringify(v, null, {spaces}) or json.dumps(v, indent={spaces}) write it)",
                        if *newline {
                            ", with a final newline"
                        } else {
                            ""
                        }
                    ),
                };
                write!(
                    f,
                    "the signature matches this JSON laid out {how}: it was serialised once to sign and again, another way, to send; the signature covers the exact bytes, so sign the bytes you send"
                )
            }
            Finding::OnlyV1aNoPublicKey => write!(
                f,
                "only v1a (Ed25519) signatures came, and no whpk_ public key is configured for this path: add one with --secret whpk_…"
            ),
            Finding::OnlyV1NoHmacSecret => write!(
                f,
                "only v1 (HMAC) signatures came, and no whsec_ secret is configured for this path: add the endpoint's signing secret with --secret whsec_…"
            ),
            Finding::NoKnownVersion { versions } => write!(
                f,
                "no v1 or v1a signature in the header, only {}",
                versions
                    .iter()
                    .map(|v| format!("`{}`", crate::sanitize::line(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Finding::MalformedEntry { position, problem } => {
                write!(f, "signature entry {position} {problem}")
            }
            Finding::SecretTextAsKey {
                secret,
                whole: true,
            } => write!(
                f,
                "the signature was made with the text of {secret}, `whsec_` and all, as the HMAC key: the key is the bytes its base64 part decodes to"
            ),
            Finding::SecretTextAsKey {
                secret,
                whole: false,
            } => write!(
                f,
                "the signature was made with the base64 text of {secret} as the HMAC key, undecoded: the key is the bytes it decodes to"
            ),
            Finding::WrittenAs { position, form } => write!(
                f,
                "signature entry {position} is the right HMAC, written {form}: Standard Webhooks writes `v1,<base64>`, entries separated by spaces"
            ),
            Finding::DuplicateHeader { name, count } => write!(
                f,
                "the {name} header came {count} times; only the first was used"
            ),
        }
    }
}

impl FailureKind {
    /// The spec's name for this kind of failure.
    pub fn code(&self) -> &'static str {
        match self {
            FailureKind::MissingHeader { .. } => "missing_header",
            FailureKind::InvalidTimestamp { .. } => "invalid_timestamp",
            FailureKind::TimestampTooOld { .. } => "timestamp_too_old",
            FailureKind::TimestampTooNew { .. } => "timestamp_too_new",
            FailureKind::BadSignature(_) => "bad_signature",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::MissingHeader { missing, empty } => {
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    let names: Vec<String> = missing.iter().map(|p| p.describe()).collect();
                    parts.push(format!("missing header {}", names.join(", ")));
                }
                for p in empty {
                    parts.push(format!("header {} is empty", p.describe()));
                }
                f.write_str(&parts.join("; "))
            }
            FailureKind::InvalidTimestamp { value, problem } => {
                write!(f, "invalid timestamp `{value}`: {problem}")
            }
            FailureKind::TimestampTooOld {
                age,
                tolerance,
                signature_valid,
                ..
            } => {
                write!(
                    f,
                    "timestamp too old: signed {} ago, {} beyond the {} tolerance",
                    human_duration(*age),
                    human_duration(age.saturating_sub(*tolerance)),
                    human_duration(*tolerance)
                )?;
                if *signature_valid {
                    write!(f, " (the signature itself is valid)")?;
                }
                Ok(())
            }
            FailureKind::TimestampTooNew {
                ahead,
                tolerance,
                signature_valid,
                ..
            } => {
                write!(
                    f,
                    "timestamp too new: {} in the future, {} beyond the {} tolerance",
                    human_duration(*ahead),
                    human_duration(ahead.saturating_sub(*tolerance)),
                    human_duration(*tolerance)
                )?;
                if *signature_valid {
                    write!(f, " (the signature itself is valid)")?;
                }
                Ok(())
            }
            FailureKind::BadSignature(r) => {
                let sigs = r.v1_entries + r.v1a_entries;
                let keys = r.hmac_secrets + r.ed25519_keys;
                write!(
                    f,
                    "no signature matched: {} tried against {}",
                    plural(sigs, "signature"),
                    plural(keys, "secret"),
                )?;
                if let Some(first) = r.findings.first() {
                    write!(f, "; {first}")?;
                }
                Ok(())
            }
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// `45s`, `5m`, `10m 1s`, `3h 2m`, `2d 4h`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let two = |a: u64, ua: &str, b: u64, ub: &str| {
        if b == 0 {
            format!("{a}{ua}")
        } else {
            format!("{a}{ua} {b}{ub}")
        }
    };
    if d > 0 {
        two(d, "d", h, "h")
    } else if h > 0 {
        two(h, "h", m, "m")
    } else if m > 0 {
        two(m, "m", s, "s")
    } else {
        format!("{s}s")
    }
}

/// `512 B`, `1.5 KiB`, `16 MiB`: at most 8 columns below 1,000 TiB.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    // Decided on the rounded value: 99.96 is `100 KiB`, not `100.0 KiB`, so a size is never
    // wider than 8 columns (the inspector's size column).
    let tenths = (v * 10.0).round() / 10.0;
    if tenths >= 100.0 || tenths.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{tenths:.1} {}", UNITS[unit])
    }
}

/// Verifies deliveries against a set of secrets with a tolerance.
#[derive(Debug, Clone)]
pub struct Verifier {
    secrets: Vec<Secret>,
    tolerance: u64,
}

/// Signature headers of other providers, to say what a request without ours probably is.
const FOREIGN_SIGNATURES: [(&str, &str); 5] = [
    ("stripe-signature", "Stripe"),
    ("x-hub-signature-256", "GitHub"),
    ("x-shopify-hmac-sha256", "Shopify"),
    ("x-slack-signature", "Slack"),
    ("x-twilio-signature", "Twilio"),
];

impl Verifier {
    /// A verifier for these secrets; with none, every delivery is [`Unchecked::NoSecret`].
    pub fn new(secrets: Vec<Secret>, tolerance: u64) -> Self {
        Verifier { secrets, tolerance }
    }

    /// The configured secrets.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// The tolerance in seconds.
    pub fn tolerance(&self) -> u64 {
        self.tolerance
    }

    /// Splits secrets into those that apply to `path` and the others. The most specific scope
    /// wins: `/billing` secrets apply there and unscoped ones only where no scope matches.
    fn partition(&self, path: &str) -> (Vec<&Secret>, Vec<&Secret>) {
        let best = self
            .secrets
            .iter()
            .filter(|s| s.applies_to(path))
            .filter_map(|s| s.scope().map(str::len))
            .max();
        self.secrets.iter().partition(|s| match best {
            Some(len) => s.applies_to(path) && s.scope().map(str::len) == Some(len),
            None => s.scope().is_none(),
        })
    }

    /// Checks one delivery. `headers` in any order and case; `now` in Unix seconds.
    pub fn verify<N: AsRef<str>, V: AsRef<[u8]>>(
        &self,
        path: &str,
        headers: &[(N, V)],
        body: &[u8],
        now: i64,
    ) -> Verdict {
        self.verify_alongside(path, headers, body, now, &mut |_| {})
    }

    /// [`Verifier::verify`], with `walk` reading the body while it is hashed (see
    /// [`sign::v1_digest_b64_alongside`]). `walk` runs at most once: not at all when the
    /// delivery's body needs no HMAC (no secret, a header missing, no `v1` entry).
    pub fn verify_alongside<N: AsRef<str>, V: AsRef<[u8]>>(
        &self,
        path: &str,
        headers: &[(N, V)],
        body: &[u8],
        now: i64,
        walk: sign::Walk<'_>,
    ) -> Verdict {
        let walk = Some(walk);
        if self.secrets.is_empty() {
            return Verdict::Unchecked(Unchecked::NoSecret);
        }
        if self.secrets.iter().all(|s| s.scope().is_none()) {
            // The common case: every secret applies everywhere (no partition to allocate).
            return self.check(&self.secrets, &[], headers, body, now, walk);
        }
        let (keys, others) = self.partition(path);
        if keys.is_empty() {
            return Verdict::Unchecked(Unchecked::NoSecretForPath {
                scopes: self
                    .secrets
                    .iter()
                    .filter_map(|s| s.scope().map(str::to_owned))
                    .collect(),
            });
        }
        self.check(&keys, &others, headers, body, now, walk)
    }

    fn check<S: Borrow<Secret>, N: AsRef<str>, V: AsRef<[u8]>>(
        &self,
        keys: &[S],
        others: &[&Secret],
        headers: &[(N, V)],
        body: &[u8],
        now: i64,
        walk: Option<sign::Walk<'_>>,
    ) -> Verdict {
        let [id, ts, sig] = find_parts(headers);

        let mut missing = Vec::new();
        let mut empty = Vec::new();
        for (part, found) in [
            (Part::Id, &id),
            (Part::Timestamp, &ts),
            (Part::Signature, &sig),
        ] {
            match found {
                None => missing.push(part),
                Some(h) if h.value.is_empty() => empty.push(part),
                Some(_) => {}
            }
        }
        let (Some(id), Some(ts), Some(sig)) = (id, ts, sig) else {
            return Verdict::Failed(missing_failure(headers, missing, empty));
        };
        if !empty.is_empty() {
            return Verdict::Failed(missing_failure(headers, missing, empty));
        }

        let invalid = |problem| {
            Verdict::Failed(Failure {
                kind: FailureKind::InvalidTimestamp {
                    value: shown_value(ts.value),
                    problem,
                },
                hints: Vec::new(),
            })
        };
        let timestamp = match parse_timestamp(ts.value) {
            Ok(t) => t,
            Err(problem) => return invalid(problem),
        };
        let Some(age) = now.checked_sub(timestamp) else {
            return invalid(TimestampProblem::OutOfRange);
        };

        let entries = Entries::parse(sig.value);
        let matched = first_match(keys, entries, id.value, timestamp, body, walk);
        let tol = self.tolerance;
        if age > 0 && age.unsigned_abs() > tol {
            let mut hints = vec![if matched.is_some() {
                "the signature is valid, so this is an old delivery replayed (or a retry of one), or this machine's clock is behind: check it with `date -u`".to_string()
            } else {
                "the signature does not match either, so check the secret too".to_string()
            }];
            hints.push(format!("signed at {}", rfc3339(timestamp)));
            return Verdict::Failed(Failure {
                kind: FailureKind::TimestampTooOld {
                    timestamp,
                    age: age.unsigned_abs(),
                    tolerance: tol,
                    signature_valid: matched.is_some(),
                },
                hints,
            });
        }
        if age < 0 && age.unsigned_abs() > tol {
            let ahead = age.unsigned_abs();
            let mut hints = Vec::new();
            if timestamp > 100_000_000_000 {
                hints.push("the timestamp looks like milliseconds; Standard Webhooks timestamps are whole seconds".to_string());
            } else {
                hints.push("the sender's clock is ahead of this machine's, or this machine's clock is behind: check it with `date -u`".to_string());
            }
            hints.push(format!("signed at {}", rfc3339(timestamp)));
            return Verdict::Failed(Failure {
                kind: FailureKind::TimestampTooNew {
                    timestamp,
                    ahead,
                    tolerance: tol,
                    signature_valid: matched.is_some(),
                },
                hints,
            });
        }
        if let Some(secret) = matched {
            return Verdict::Verified(Verified {
                secret: secret.label(),
                scheme: secret.key.scheme().into(),
                timestamp,
            });
        }

        let report = diagnose(keys, others, entries, &sig, id.value, timestamp, body);
        let mut hints: Vec<String> = report
            .findings
            .iter()
            .skip(1)
            .map(|f| f.to_string())
            .collect();
        if report.findings.is_empty() {
            hints.push("the signature does not match the secret configured for this path: check that it is this endpoint's signing secret (each endpoint has its own), and that nothing re-serialises or re-encodes the body on the way".to_string());
        }
        // Said at start-up too, but under the inspector nobody saw it: a secret cut short in
        // the copy fails every delivery, and this is where the user looks.
        hints.extend(keys.iter().filter_map(|k| k.borrow().doubt()));
        Verdict::Failed(Failure {
            kind: FailureKind::BadSignature(report),
            hints,
        })
    }
}

struct Found<'a> {
    name: &'static str,
    value: &'a [u8],
    count: usize,
}

const PARTS: [Part; 3] = [Part::Id, Part::Timestamp, Part::Signature];

/// The three signature headers in one pass over the headers (this runs for every delivery):
/// for each part, the `svix-*` header when there is one, else the `webhook-*` one.
fn find_parts<N: AsRef<str>, V: AsRef<[u8]>>(headers: &[(N, V)]) -> [Option<Found<'_>>; 3] {
    // [part][0 = svix, 1 = webhook]
    let mut hits: [[Option<Found<'_>>; 2]; 3] = Default::default();
    for (n, v) in headers {
        let n = n.as_ref();
        // The six names differ in length within a family: one length check rejects most headers.
        let candidates: &[(usize, usize)] = match n.len() {
            7 => &[(0, 0)],
            10 => &[(0, 1)],
            14 => &[(1, 0), (2, 0)],
            17 => &[(1, 1), (2, 1)],
            _ => continue,
        };
        // Names from hyper are lower-case already: an exact compare settles those, and only
        // a name that matches none exactly is compared ignoring case.
        let exact = candidates.iter().find(|&&(p, f)| n == PARTS[p].names()[f]);
        let hit = exact.or_else(|| {
            candidates
                .iter()
                .find(|&&(p, f)| n.eq_ignore_ascii_case(PARTS[p].names()[f]))
        });
        if let Some(&(p, f)) = hit {
            match &mut hits[p][f] {
                Some(found) => found.count += 1,
                slot => {
                    *slot = Some(Found {
                        name: PARTS[p].names()[f],
                        value: v.as_ref(),
                        count: 1,
                    })
                }
            }
        }
    }
    hits.map(|[svix, webhook]| svix.or(webhook))
}

fn missing_failure<N: AsRef<str>, V: AsRef<[u8]>>(
    headers: &[(N, V)],
    missing: Vec<Part>,
    empty: Vec<Part>,
) -> Failure {
    let mut hints = Vec::new();
    if missing.len() == 3 {
        let foreign = FOREIGN_SIGNATURES.iter().find(|(h, _)| {
            headers
                .iter()
                .any(|(n, _)| n.as_ref().eq_ignore_ascii_case(h))
        });
        match foreign {
            Some((h, who)) => hints.push(format!(
                "this request carries {h}: it looks like a {who} webhook, which signs differently"
            )),
            None => hints.push(
                "none of the svix-* or webhook-* headers came: this request was not sent by a Standard Webhooks / Svix sender (a browser, a health check or a scanner?)"
                    .to_string(),
            ),
        }
    } else if !missing.is_empty() {
        hints.push(
            "some signature headers came and others did not: a proxy may be dropping headers"
                .to_string(),
        );
    }
    Failure {
        kind: FailureKind::MissingHeader { missing, empty },
        hints,
    }
}

fn shown_value(v: &[u8]) -> String {
    let s = crate::sanitize::bytes_line(v);
    if s.chars().count() > 64 {
        let cut: String = s.chars().take(64).collect();
        format!("{cut}…")
    } else {
        s.into_owned()
    }
}

/// Parses whole Unix seconds the way the reference libraries do: an optional sign and digits
/// (leading zeros allowed), nothing else.
fn parse_timestamp(v: &[u8]) -> Result<i64, TimestampProblem> {
    // Every real timestamp: up to 18 plain digits, which cannot overflow.
    if !v.is_empty() && v.len() <= 18 && v.iter().all(u8::is_ascii_digit) {
        return Ok(v.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')));
    }
    let s = std::str::from_utf8(v).map_err(|_| TimestampProblem::NotUtf8)?;
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let t = s.trim();
    Err(if t.len() != s.len() && t.parse::<i64>().is_ok() {
        TimestampProblem::Whitespace
    } else if !t.is_empty()
        && t.trim_start_matches(['+', '-'])
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        TimestampProblem::OutOfRange
    } else if t.contains(['e', 'E']) && t.parse::<f64>().is_ok() {
        TimestampProblem::Exponent
    } else if t.contains('.') && t.parse::<f64>().is_ok() {
        TimestampProblem::Fractional
    } else {
        TimestampProblem::NotANumber
    })
}

fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ts} (not a representable date)"))
}

/// The signature header's entries, as far as matching needs them: read lazily from the header
/// (no allocation; this runs for every delivery), while [`EntryDetails`] (what a failure
/// report says about each entry) runs only for deliveries that failed.
#[derive(Clone, Copy)]
struct Entries<'a> {
    value: &'a [u8],
}

fn pieces(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|b| *b == b' ').filter(|p| !p.is_empty())
}

impl<'a> Entries<'a> {
    fn parse(value: &'a [u8]) -> Self {
        Entries { value }
    }

    /// The signatures of the entries tagged `version`, undecoded.
    fn of(self, version: &'static [u8]) -> impl Iterator<Item = &'a [u8]> {
        pieces(self.value).filter_map(move |piece| {
            let comma = piece.iter().position(|b| *b == b',')?;
            (&piece[..comma] == version).then(|| &piece[comma + 1..])
        })
    }

    fn v1(self) -> impl Iterator<Item = &'a [u8]> {
        self.of(b"v1")
    }

    /// Whether a `v1` entry is `digest`, each compared in constant time: for the diagnostics'
    /// digests, which sit as close to the real signature as the verifier's own.
    fn has_v1(self, digest: &[u8; sign::V1_B64_LEN]) -> bool {
        self.v1().any(|sig| bool::from(ct_eq_digest(digest, sig)))
    }

    /// The `v1a` entries that decode to an Ed25519 signature.
    fn v1a(self) -> impl Iterator<Item = [u8; 64]> {
        self.of(b"v1a").filter_map(|sig| {
            let mut buf = [0u8; 64];
            (STANDARD.decode_slice(sig, &mut buf) == Ok(64)).then_some(buf)
        })
    }
}

/// What a failure report says about the signature header's entries.
struct EntryDetails {
    other_versions: Vec<String>,
    malformed: Vec<(usize, EntryProblem)>,
    received: Vec<String>,
}

impl EntryDetails {
    fn parse(value: &[u8]) -> Self {
        let mut e = EntryDetails {
            other_versions: Vec::new(),
            malformed: Vec::new(),
            received: Vec::new(),
        };
        for (i, piece) in pieces(value).enumerate() {
            let position = i + 1;
            // Don't let a hostile header make us keep megabytes of "prefixes".
            if e.received.len() < 16 {
                e.received.push(shown_value(&piece[..piece.len().min(16)]));
            }
            let Some(comma) = piece.iter().position(|b| *b == b',') else {
                e.malformed.push((position, EntryProblem::NoComma));
                continue;
            };
            let (version, sig) = (&piece[..comma], &piece[comma + 1..]);
            let expected = match version {
                b"v1" => 32,
                b"v1a" => 64,
                other => {
                    let v = String::from_utf8_lossy(other).into_owned();
                    if v.eq_ignore_ascii_case("v1") || v.eq_ignore_ascii_case("v1a") {
                        e.malformed.push((position, EntryProblem::VersionCase(v)));
                    } else if e.other_versions.len() < 8 {
                        e.other_versions.push(shown_value(other));
                    }
                    continue;
                }
            };
            if let Some(p) = entry_problem(sig, expected) {
                e.malformed.push((position, p));
            }
        }
        e
    }
}

fn entry_problem(sig: &[u8], expected: usize) -> Option<EntryProblem> {
    if sig.is_empty() {
        return Some(EntryProblem::Empty);
    }
    if sig.contains(&b',') {
        return Some(EntryProblem::ExtraComma);
    }
    match STANDARD.decode(sig) {
        Ok(bytes) if bytes.len() == expected => None,
        Ok(bytes) => Some(EntryProblem::WrongLength {
            expected,
            actual: bytes.len(),
        }),
        Err(_) => match base64::engine::general_purpose::STANDARD_NO_PAD.decode(sig) {
            Ok(_) => Some(EntryProblem::MissingPadding),
            Err(_) => Some(EntryProblem::NotBase64),
        },
    }
}

/// The first applicable secret with a matching entry. Every v1 entry is compared against every
/// HMAC secret in constant time; the digest is computed once per secret.
fn first_match<'s, S: Borrow<Secret>>(
    keys: &'s [S],
    entries: Entries<'_>,
    id: &[u8],
    timestamp: i64,
    body: &[u8],
    mut walk: Option<sign::Walk<'_>>,
) -> Option<&'s Secret> {
    let mut content: Option<Vec<u8>> = None;
    for secret in keys.iter().map(Borrow::borrow) {
        match &secret.key {
            Key::Hmac(key) => {
                // Computed at the first v1 entry: a header with none costs no hashing.
                let mut expected = None;
                let mut hit = subtle::Choice::from(0u8);
                for sig in entries.v1() {
                    let expected = expected.get_or_insert_with(|| match walk.take() {
                        // The first body hashed takes the walk along.
                        Some(walk) => {
                            sign::v1_digest_b64_alongside(key.mac(), id, timestamp, body, walk)
                        }
                        None => sign::v1_digest_b64_with(key.mac(), id, timestamp, body),
                    });
                    hit |= ct_eq_digest(expected, sig);
                }
                if bool::from(hit) {
                    return Some(secret);
                }
            }
            Key::Ed25519 { public, .. } => {
                if entries.v1a().next().is_none() {
                    continue;
                }
                let content =
                    content.get_or_insert_with(|| sign::signed_content(id, timestamp, body));
                if entries.v1a().any(|sig| ed25519_ok(public, content, &sig)) {
                    return Some(secret);
                }
            }
        }
    }
    None
}

/// A JSON body without the whitespace between its tokens (strings kept byte for byte), or
/// `None` when it does not look like JSON or has none: what a sender that signed
/// `JSON.stringify(payload)` and sent it pretty-printed signed.
fn without_json_whitespace(body: &[u8]) -> Option<Vec<u8>> {
    use crate::relayout::{Style, relayout};
    if !looks_like_json(body) {
        return None;
    }
    let compact = relayout(body, Style::Compact);
    (compact != body).then_some(compact)
}

/// Whether `body` opens as a JSON object or array does, after any whitespace.
fn looks_like_json(body: &[u8]) -> bool {
    body.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['))
}

/// Bodies up to this size are tried in other layouts when no signature matched (webhook
/// payloads are kilobytes; a forged 16 MiB body should not cost a dozen HMACs of itself).
const LAYOUTS_TRIED_UP_TO: usize = 1 << 20;

/// The layout of this JSON `body`, other than the one sent and than compact (which
/// [`Finding::Reformatted`] names), that a signature was made over: the layouts common
/// serialisers write.
fn signed_layout<S: Borrow<Secret>>(
    keys: &[S],
    entries: Entries<'_>,
    id: &[u8],
    timestamp: i64,
    body: &[u8],
) -> Option<crate::relayout::Style> {
    use crate::relayout::{Style, relayout};
    if body.len() > LAYOUTS_TRIED_UP_TO || !looks_like_json(body) {
        return None;
    }
    let compact = relayout(body, Style::Compact);
    let styles = [
        Style::Spaced,
        Style::Indented {
            spaces: 2,
            newline: false,
        },
        Style::Indented {
            spaces: 2,
            newline: true,
        },
        Style::Indented {
            spaces: 4,
            newline: false,
        },
        Style::Indented {
            spaces: 4,
            newline: true,
        },
    ];
    styles.into_iter().find(|&style| {
        let laid = relayout(&compact, style);
        laid != body && first_match(keys, entries, id, timestamp, &laid, None).is_some()
    })
}

/// Signatures in a `svix-signature` value written in a form the spec does not use, each with
/// its 1-based position, how it was written, and the `v1` base64 it stands for. Only read
/// once nothing matched, to say what was wrong.
fn misformed(value: &[u8]) -> Vec<(usize, String, Vec<u8>)> {
    let b64_digest = |b: &[u8]| {
        let mut raw = [0u8; 32];
        (b.len() == sign::V1_B64_LEN && STANDARD.decode_slice(b, &mut raw) == Ok(32))
            .then(|| b.to_vec())
    };
    let hex_digest = |b: &[u8]| {
        let raw: Option<Vec<u8>> = (b.len() == 64 && b.iter().all(u8::is_ascii_hexdigit))
            .then(|| {
                b.chunks(2)
                    .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                    .collect()
            })
            .flatten();
        raw.map(|r| STANDARD.encode(r).into_bytes())
    };
    let pieces: Vec<&[u8]> = pieces(value).collect();
    let mut out = Vec::new();
    // The piece after `v1,` and a space is part of that entry, not one of its own.
    let mut taken = None;
    for (i, piece) in pieces.iter().enumerate() {
        let position = i + 1;
        if taken == Some(i) {
            continue;
        }
        if let Some(rest) = piece.strip_prefix(b"v1,") {
            if let Some(d) = hex_digest(rest) {
                out.push((position, "in hex".into(), d));
            } else if let Some((form, d)) = other_base64(rest) {
                out.push((position, form.into(), d));
            } else if rest.is_empty()
                && let Some(d) = pieces.get(i + 1).and_then(|next| b64_digest(next))
            {
                out.push((position, "with a space after `v1,`".into(), d));
                taken = Some(i + 1);
            }
            continue;
        }
        if let Some(d) = b64_digest(piece) {
            out.push((position, "bare, without `v1,`".into(), d));
            continue;
        }
        if let Some(d) = hex_digest(piece) {
            out.push((position, "bare and in hex".into(), d));
            continue;
        }
        // `v1=…`, `sha256=…`, Stripe's `t=…,v1=…`: a value after a name and `=`.
        for part in piece.split(|&b| b == b',') {
            let Some(eq) = part.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (name, value) = (&part[..eq], &part[eq + 1..]);
            let form = match name {
                b"v1" if piece.starts_with(b"t=") => "in Stripe's `t=…,v1=…` form".to_string(),
                _ => format!(
                    "as `{}=…`",
                    crate::sanitize::bytes_line(&name[..name.len().min(20)])
                ),
            };
            if let Some(d) = b64_digest(value).or_else(|| hex_digest(value)) {
                out.push((position, form, d));
            }
        }
    }
    out
}

/// A 32-byte digest written in URL-safe base64 (Node's `digest('base64url')`), padded or not:
/// how it was written, and the spec's form of it. (Standard base64 without its padding is a
/// malformed entry of its own, [`EntryProblem::MissingPadding`].)
fn other_base64(b: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
    let mut raw = [0u8; 32];
    let forms: [(&str, &base64::engine::GeneralPurpose); 2] = [
        ("in base64url (`-` and `_`)", &URL_SAFE),
        (
            "in base64url (`-` and `_`) without its `=`",
            &URL_SAFE_NO_PAD,
        ),
    ];
    forms.into_iter().find_map(|(form, engine)| {
        (engine.decode_slice(b, &mut raw) == Ok(32))
            .then(|| (form, STANDARD.encode(raw).into_bytes()))
    })
}

/// Constant-time comparison of an expected digest with a received entry, a word at a time
/// (subtle's slice compare pays an optimisation barrier per byte, a twentieth of a 1 KiB check).
/// Lengths are not secret: every valid entry has 44 characters.
fn ct_eq_digest(expected: &[u8; sign::V1_B64_LEN], received: &[u8]) -> subtle::Choice {
    let Ok(received) = <&[u8; sign::V1_B64_LEN]>::try_from(received) else {
        return subtle::Choice::from(0);
    };
    let word = |b: &[u8; sign::V1_B64_LEN], i: usize| {
        let mut w = [0u8; 8];
        let end = (i + 8).min(sign::V1_B64_LEN);
        w[..end - i].copy_from_slice(&b[i..end]);
        u64::from_le_bytes(w)
    };
    let mut diff = 0u64;
    for i in (0..sign::V1_B64_LEN).step_by(8) {
        diff |= word(expected, i) ^ word(received, i);
    }
    diff.ct_eq(&0)
}

fn ed25519_ok(public: &VerifyingKey, content: &[u8], sig: &[u8; 64]) -> bool {
    public
        .verify_strict(content, &Signature::from_bytes(sig))
        .is_ok()
}

fn diagnose<S: Borrow<Secret>>(
    keys: &[S],
    others: &[&Secret],
    entries: Entries<'_>,
    sig: &Found<'_>,
    id: &[u8],
    timestamp: i64,
    body: &[u8],
) -> SignatureReport {
    let hmac_secrets = keys
        .iter()
        .filter(|s| matches!(Borrow::<Secret>::borrow(*s).key, Key::Hmac(_)))
        .count();
    let ed25519_keys = keys.len() - hmac_secrets;
    let details = EntryDetails::parse(sig.value);
    let mut findings = Vec::new();

    for other in others {
        if first_match(&[*other], entries, id, timestamp, body, None).is_some() {
            findings.push(Finding::MatchesOtherSecret {
                secret: other.label().to_string(),
            });
        }
    }
    if let Some(trimmed) = body.strip_suffix(b"\n") {
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if first_match(keys, entries, id, timestamp, trimmed, None).is_some() {
            findings.push(Finding::NewlineAdded);
        }
    }
    if !findings.contains(&Finding::NewlineAdded) {
        let mut with_newline = Vec::with_capacity(body.len() + 1);
        with_newline.extend_from_slice(body);
        with_newline.push(b'\n');
        if first_match(keys, entries, id, timestamp, &with_newline, None).is_some() {
            findings.push(Finding::NewlineRemoved);
        }
    }
    if findings.is_empty()
        && let Some(compact) = without_json_whitespace(body)
        && first_match(keys, entries, id, timestamp, &compact, None).is_some()
    {
        findings.push(Finding::Reformatted);
    }
    if findings.is_empty()
        && let Some(style) = signed_layout(keys, entries, id, timestamp, body)
    {
        findings.push(Finding::SignedLaidOut { style });
    }
    if findings.is_empty() {
        // Signed content other schemes use, or a hand-written signer assembles by mistake.
        let ts = timestamp.to_string();
        let event_id = crate::probe::event_fields(body).0;
        let mut variants: Vec<(SignedOver, Vec<&[u8]>)> = vec![
            (SignedOver::NoMessageId, vec![ts.as_bytes(), b".", body]),
            (SignedOver::BodyAlone, vec![body]),
            (
                SignedOver::ObjectObject,
                vec![id, b".", ts.as_bytes(), b".", b"[object Object]"],
            ),
        ];
        if let Some(e) = event_id.as_deref().filter(|e| e.as_bytes() != id) {
            variants.push((
                SignedOver::EventId,
                vec![e.as_bytes(), b".", ts.as_bytes(), b".", body],
            ));
        }
        for (over, parts) in variants {
            let hit = keys
                .iter()
                .map(Borrow::borrow)
                .any(|s: &Secret| match &s.key {
                    Key::Hmac(k) => {
                        let d = sign::digest_b64_of(k.mac(), &parts);
                        entries.has_v1(&d)
                    }
                    Key::Ed25519 { .. } => false,
                });
            if hit {
                findings.push(Finding::SignedOther { over });
                break;
            }
        }
    }
    // What each HMAC secret makes of this content: the report shows its start, and a hex
    // entry is checked against it.
    let digests: Vec<(&Secret, [u8; sign::V1_B64_LEN])> = keys
        .iter()
        .map(Borrow::borrow)
        .filter_map(|s: &Secret| match &s.key {
            Key::Hmac(k) => Some((s, sign::v1_digest_b64_with(k.mac(), id, timestamp, body))),
            Key::Ed25519 { .. } => None,
        })
        .collect();
    let mut malformed = details.malformed;
    // A hand-written signer's usual slips, tried only once nothing matched: the secret's text
    // as the key, and a hex digest.
    let misformed = misformed(sig.value);
    for (secret, digest) in &digests {
        let Key::Hmac(key) = &secret.key else {
            continue;
        };
        let b64 = STANDARD.encode(&key[..]);
        for (text, whole) in [(format!("whsec_{b64}"), true), (b64, false)] {
            let d = sign::v1_digest_b64(text.as_bytes(), id, timestamp, body);
            if entries.has_v1(&d) {
                findings.push(Finding::SecretTextAsKey {
                    secret: secret.label().to_string(),
                    whole,
                });
            }
        }
        for (position, form, candidate) in &misformed {
            // In constant time like any compare with an expected signature: these bytes
            // are the sender's, and a timing leak here would leak the real signature.
            if bool::from(ct_eq_digest(digest, candidate)) {
                findings.push(Finding::WrittenAs {
                    position: *position,
                    form: form.clone(),
                });
                // Said better than "has no comma" or "decodes to 48 bytes".
                malformed.retain(|(p, _)| *p != *position && *p != *position + 1);
            }
        }
    }
    let v1 = entries.v1().count();
    let v1a = entries.of(b"v1a").count();
    if v1 == 0 && v1a > 0 && ed25519_keys == 0 {
        findings.push(Finding::OnlyV1aNoPublicKey);
    }
    if v1 > 0 && v1a == 0 && hmac_secrets == 0 {
        findings.push(Finding::OnlyV1NoHmacSecret);
    }
    if v1 == 0 && v1a == 0 && !details.other_versions.is_empty() {
        findings.push(Finding::NoKnownVersion {
            versions: details.other_versions,
        });
    }
    for (position, problem) in malformed {
        findings.push(Finding::MalformedEntry { position, problem });
    }
    if sig.count > 1 {
        findings.push(Finding::DuplicateHeader {
            name: sig.name.to_string(),
            count: sig.count,
        });
    }
    let expected = digests
        .iter()
        .map(|(s, d)| {
            (
                s.label().to_string(),
                format!("v1,{}…", String::from_utf8_lossy(&d[..10])),
            )
        })
        .collect();
    SignatureReport {
        v1_entries: v1,
        v1a_entries: v1a,
        hmac_secrets,
        ed25519_keys,
        expected,
        received: details.received,
        findings,
    }
}

#[cfg(test)]
mod tests;
