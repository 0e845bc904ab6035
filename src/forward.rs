//! Relaying deliveries to the user's app, and controlling what the sender is answered.
//!
//! The original path and query are appended to the target URL's path:
//! `--forward-to http://localhost:3000/webhooks` + `/stripe?x=1` →
//! `http://localhost:3000/webhooks/stripe?x=1` (a target of `http://localhost:3000` keeps the path
//! as is). A delivery to the root, `/` (a dashboard holding the tunnel's bare URL), goes to the
//! target exactly as written, never with a slash added: `/webhooks/` is another route to many
//! frameworks, or a redirect, which a provider counts as a failed delivery. Every header but
//! the hop-by-hop ones goes along, the body byte for byte.

use bytes::Bytes;
use http::{Method, Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default `--forward-timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The request header that marks a replay of a stored delivery (its id).
pub const REPLAY_HEADER: &str = "x-hookscope-replay-of";
/// The request header that marks an edit of a stored delivery (its id), sent in place of
/// [`REPLAY_HEADER`]: the record keeps it, and so tells an edit from a replay.
pub const EDIT_HEADER: &str = "x-hookscope-edit-of";
/// Largest app answer body relayed; of a longer one, this much is kept to show.
pub const MAX_ANSWER: usize = 1 << 20;

/// Headers that belong to one connection (RFC 9110 §7.6.1), lower-case.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether a header belongs to one connection only, so is never relayed: not to the app, not
/// in the app's answer to the sender, not in a replay or a curl command. HTTP/2's
/// pseudo-headers (`:authority`, `:path`, as a browser's HAR lists them) count: they are that
/// connection's request line, and no HTTP/1 request may carry a name starting with `:`.
pub fn is_hop_by_hop(name: &str) -> bool {
    name.starts_with(':') || HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// Whether a recorded header goes along when a delivery is sent on (forwarded or replayed):
/// not the connection's own, not `host` and `content-length` (the new request has its own),
/// not an earlier replay or edit mark.
pub fn relayed(name: &str) -> bool {
    !(is_hop_by_hop(name)
        || name.eq_ignore_ascii_case("host")
        || name.eq_ignore_ascii_case("content-length")
        || name.eq_ignore_ascii_case(REPLAY_HEADER)
        || name.eq_ignore_ascii_case(EDIT_HEADER))
}

/// Whether a delivery's header goes on to where it is relayed or replayed: [`relayed`], and
/// not an `authorization` when the target's own credentials (`https://user:pass@…`) replace it.
pub fn relayed_to(name: &str, own_credentials: bool) -> bool {
    relayed(name) && !(own_credentials && name.eq_ignore_ascii_case("authorization"))
}

/// What the app did with a relayed delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardResult {
    /// The URL it was sent to.
    pub url: String,
    /// The app's status, when it answered.
    pub status: Option<u16>,
    /// The app's headers.
    pub headers: Vec<(String, String)>,
    /// The app's body (up to 1 MiB).
    #[serde(with = "body_text")]
    pub body: Bytes,
    /// Milliseconds from sending to the full answer (or the failure).
    pub ms: u64,
    /// Why there is no answer.
    pub error: Option<ForwardError>,
    /// The app's body was over 1 MiB: `body` is its beginning, and the sender got the app's
    /// status with hookscope's note instead of a body cut short.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_cut: bool,
}

/// Why the app did not answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ForwardError {
    /// Nothing listens there.
    Refused,
    /// No full answer in time.
    Timeout {
        /// The limit, milliseconds (`--forward-timeout 500ms` is allowed).
        #[serde(default)]
        ms: u64,
        /// The limit in seconds, as results stored before `ms` hold it; 0 in new ones.
        #[serde(default, skip_serializing)]
        secs: u64,
    },
    /// The connection was cut.
    Reset,
    /// The sender hung up before the app answered, and the relay was given up with it.
    Abandoned {
        /// Milliseconds the app had had by then.
        ms: u64,
    },
    /// hookscope was stopping (Ctrl-C, SIGTERM, the inspector quit) before the app answered:
    /// it was not waited for, and the sender was answered 503.
    Stopped {
        /// Milliseconds the app had had by then.
        ms: u64,
    },
    /// The delivery carries this hookscope's own `via` mark: it was forwarded here by this
    /// same hookscope, so the target leads back to it (its port, or a tunnel to it).
    Loop,
    /// Anything else.
    Other {
        /// What the client said.
        detail: String,
    },
}

impl fmt::Display for ForwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardError::Refused => write!(f, "connection refused: is the app running?"),
            ForwardError::Timeout { ms, secs } => {
                let limit = Duration::from_millis(*ms) + Duration::from_secs(*secs);
                write!(
                    f,
                    "no answer within {} (--forward-timeout)",
                    limit_text(limit)
                )
            }
            ForwardError::Reset => write!(f, "the app closed the connection without answering"),
            ForwardError::Stopped { ms } => write!(
                f,
                "given up: hookscope was stopping after {}, before the app answered",
                limit_text(Duration::from_millis(*ms))
            ),
            ForwardError::Abandoned { ms } => write!(
                f,
                "given up: the sender hung up after {}, before the app answered",
                limit_text(Duration::from_millis(*ms))
            ),
            ForwardError::Loop => write!(
                f,
                "this delivery came back through --forward-to, which leads to this hookscope (its \
                 own port, or a tunnel to it), not to the app: not forwarded again"
            ),
            ForwardError::Other { detail } => f.write_str(detail),
        }
    }
}

impl ForwardResult {
    /// A relay to `url` that ended without an answer after `ms`, for `error`.
    pub fn given_up(url: String, error: ForwardError, ms: u64) -> ForwardResult {
        ForwardResult {
            url,
            status: None,
            headers: Vec::new(),
            body: Bytes::new(),
            ms,
            error: Some(error),
            body_cut: false,
        }
    }

    /// Said beside the app's status when its body was not relayed: `, body over 1 MiB not
    /// relayed`; empty otherwise.
    pub fn cut_said(&self) -> String {
        if self.body_cut {
            format!(
                ", body over {} not relayed",
                crate::verify::human_bytes(MAX_ANSWER as u64)
            )
        } else {
            String::new()
        }
    }

    /// What the sender is told in place of a body over [`MAX_ANSWER`].
    pub fn cut_note(&self) -> String {
        format!(
            "the app answered {} with a body over {}: hookscope relays its status, not that body",
            self.status.unwrap_or(0),
            crate::verify::human_bytes(MAX_ANSWER as u64)
        )
    }

    /// How long the relay took, as said beside it: `12 ms`, or `<1 ms` on loopback (times are
    /// kept in whole milliseconds, and "0 ms" reads as nothing happening).
    pub fn took(&self) -> String {
        match self.ms {
            0 => "<1 ms".into(),
            ms => format!("{ms} ms"),
        }
    }

    /// The status the sender gets: the app's, or 502/504 when it did not answer.
    pub fn answer_status(&self) -> u16 {
        match (&self.status, &self.error) {
            (Some(s), _) => *s,
            (None, Some(ForwardError::Timeout { .. })) => 504,
            (None, Some(ForwardError::Loop)) => 508,
            (None, Some(ForwardError::Stopped { .. })) => 503,
            (None, _) => 502,
        }
    }
}

mod body_text {
    use base64::Engine as _;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }
}

/// Why a forward target is unusable.
#[derive(Debug, thiserror::Error)]
#[error("--forward-to `{url}`: {why}")]
pub struct TargetError {
    url: String,
    why: String,
}

/// Relays requests to one target.
#[derive(Clone, Debug)]
pub struct Forwarder {
    client: Client<crate::client::Connector, Full<Bytes>>,
    target: Uri,
    /// Give up after this long.
    pub timeout: Duration,
    /// Only verified deliveries are relayed.
    pub verified_only: bool,
    /// This hookscope's entry in the `via` header of what it relays (`1.1 hookscope-3f9a…`,
    /// RFC 9110 §7.6.3): a delivery that comes back with it has gone round in a loop.
    via: String,
    /// The Basic authorization the target URL's user and password stand for.
    auth: Option<http::HeaderValue>,
}

/// The deliveries whose answer is not yet given (waiting for the app, or the answer mode's
/// delay), which are recorded (and shown) only once it is: how many in each phase, and since
/// when the oldest, so the inspector can say which is holding them.
#[derive(Clone, Debug, Default)]
pub struct Waiting(Arc<Mutex<WaitingSince>>);

/// What a delivery whose answer is not yet given waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The app's answer (`--forward-to`).
    App,
    /// The end of the answer mode's delay (after the app's answer, when forwarding).
    Delay,
}

#[derive(Debug, Default)]
struct WaitingSince {
    next: u64,
    /// When each began waiting for the app, by a number that grows with time: the first is
    /// the oldest.
    app: std::collections::BTreeMap<u64, Instant>,
    /// When each began its delay, likewise.
    delay: std::collections::BTreeMap<u64, Instant>,
}

impl WaitingSince {
    fn phase(&mut self, phase: Phase) -> &mut std::collections::BTreeMap<u64, Instant> {
        match phase {
            Phase::App => &mut self.app,
            Phase::Delay => &mut self.delay,
        }
    }
}

/// How many deliveries wait for one thing, and the oldest's whole seconds of waiting.
pub type Held = Option<(usize, u64)>;

/// What the inspector says is still to be answered, phase by phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    /// Waiting for the app's answer.
    pub app: Held,
    /// Held by the answer mode's delay.
    pub delay: Held,
}

impl Pending {
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.app.is_none() && self.delay.is_none()
    }
}

impl Waiting {
    /// Counts one delivery as waiting, in `phase`, until the returned guard is dropped.
    pub fn start(&self, phase: Phase) -> Relaying {
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = w.next;
        w.next += 1;
        w.phase(phase).insert(key, Instant::now());
        Relaying {
            waiting: self.clone(),
            key,
            phase,
        }
    }

    /// How many wait in each phase, and how long the oldest of each has so far.
    pub fn now(&self) -> Pending {
        let w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let held = |m: &std::collections::BTreeMap<u64, Instant>| {
            let oldest = m.values().next()?;
            Some((m.len(), oldest.elapsed().as_secs()))
        };
        Pending {
            app: held(&w.app),
            delay: held(&w.delay),
        }
    }
}

/// One delivery waiting for its answer; dropped when it is answered, failed or abandoned.
pub struct Relaying {
    waiting: Waiting,
    key: u64,
    phase: Phase,
}

impl Relaying {
    /// What the delivery waits for now.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The app has answered and the answer mode's delay begins: counted there from now on.
    pub fn delaying(&mut self) {
        if self.phase == Phase::Delay {
            return;
        }
        let mut w = self.waiting.0.lock().unwrap_or_else(|e| e.into_inner());
        w.phase(self.phase).remove(&self.key);
        w.delay.insert(self.key, Instant::now());
        self.phase = Phase::Delay;
    }
}

impl Drop for Relaying {
    fn drop(&mut self) {
        let mut w = self.waiting.0.lock().unwrap_or_else(|e| e.into_inner());
        w.phase(self.phase).remove(&self.key);
    }
}

impl Forwarder {
    /// A forwarder to an `http://` or `https://` target whose certificate `trust` accepts.
    pub fn new(
        url: &str,
        timeout: Duration,
        verified_only: bool,
        trust: crate::client::Trust,
    ) -> Result<Forwarder, TargetError> {
        let target = crate::client::http_url(url).map_err(|why| TargetError {
            url: url.to_string(),
            why,
        })?;
        // The password is sent, never shown with the target or recorded with each result.
        let (target, auth) = crate::client::credentials(target);
        let connector = crate::client::connector(timeout.min(Duration::from_secs(10)), trust);
        Ok(Forwarder {
            client: Client::builder(TokioExecutor::new()).build(connector),
            target,
            timeout,
            verified_only,
            via: format!("1.1 hookscope-{:016x}", rand::random::<u64>()),
            auth,
        })
    }

    /// The target as given.
    pub fn target(&self) -> String {
        self.target.to_string()
    }

    /// The URL a request for `path` (with query) goes to.
    pub fn url_for(&self, path: &str) -> String {
        join(&self.target, path)
    }

    /// Relays one request and waits for the whole answer (or the failure). Returns the result
    /// to record and the app's headers exactly as they came (none without an answer): the
    /// record keeps them as text, the sender gets them byte for byte.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, Vec<u8>)],
        remote: Option<std::net::SocketAddr>,
        body: Bytes,
    ) -> (ForwardResult, http::HeaderMap) {
        let url = self.url_for(path);
        let started = Instant::now();
        let result = tokio::time::timeout(
            self.timeout,
            self.exchange(method, &url, headers, remote, body),
        )
        .await;
        let ms = started.elapsed().as_millis() as u64;
        let failed = |error| ForwardResult::given_up(url.clone(), error, ms);
        match result {
            Ok(Ok(Answer {
                status,
                headers,
                body,
                cut,
            })) => {
                let as_text = headers
                    .iter()
                    .map(|(n, v)| {
                        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        (n.as_str().to_string(), v)
                    })
                    .collect();
                let result = ForwardResult {
                    url: url.clone(),
                    status: Some(status),
                    headers: as_text,
                    body,
                    ms,
                    error: None,
                    body_cut: cut,
                };
                (result, headers)
            }
            Ok(Err(e)) => (failed(e), http::HeaderMap::new()),
            Err(_) => (
                failed(ForwardError::Timeout {
                    ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
                    secs: 0,
                }),
                http::HeaderMap::new(),
            ),
        }
    }

    /// Whether a delivery's `via` headers hold this hookscope's mark.
    fn came_back(&self, headers: &[(String, Vec<u8>)]) -> bool {
        headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("via") && memchr::memmem::find(v, self.via.as_bytes()).is_some()
        })
    }

    /// Whether the target is `listen` itself: its port on a host that reaches it (localhost,
    /// the address bound, or any loopback or wildcard one of its family when it binds those).
    pub fn points_at(&self, listen: std::net::SocketAddr) -> bool {
        let default_port = if self.target.scheme_str() == Some("https") {
            443
        } else {
            80
        };
        if self.target.port_u16().unwrap_or(default_port) != listen.port() {
            return false;
        }
        let host = self.target.host().unwrap_or("");
        let ours = |ip: std::net::IpAddr| {
            let bound = listen.ip();
            ip == bound
                || (ip.is_ipv4() == bound.is_ipv4()
                    && (ip.is_loopback() || ip.is_unspecified())
                    && (bound.is_loopback() || bound.is_unspecified()))
        };
        if host.eq_ignore_ascii_case("localhost") {
            return ours(std::net::IpAddr::from([127, 0, 0, 1]))
                || ours(std::net::Ipv6Addr::LOCALHOST.into());
        }
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .is_ok_and(ours)
    }

    async fn exchange(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, Vec<u8>)],
        remote: Option<std::net::SocketAddr>,
        body: Bytes,
    ) -> Result<Answer, ForwardError> {
        if self.came_back(headers) {
            // Relaying it again would go round until some limit of the request broke.
            return Err(ForwardError::Loop);
        }
        let method = Method::from_bytes(method.as_bytes()).map_err(|e| ForwardError::Other {
            detail: e.to_string(),
        })?;
        let mut req = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            if relayed_to(name, self.auth.is_some()) {
                req = req.header(name.as_str(), value.as_slice());
            }
        }
        if let Some(auth) = &self.auth {
            req = req.header(http::header::AUTHORIZATION, auth);
        }
        if let Some(r) = remote {
            req = req.header("x-forwarded-for", r.ip().to_string());
        }
        req = req.header("via", self.via.as_str());
        let req = req.body(Full::new(body)).map_err(|e| ForwardError::Other {
            detail: e.to_string(),
        })?;
        let resp = self.client.request(req).await.map_err(|e| classify(&e))?;
        let status = resp.status().as_u16();
        // hyper's client skips interim answers (100, 103) and hands back a 101 as final, for
        // upgrades; nothing asked for one here (Upgrade is not relayed), and a 101 relayed to
        // the sender would tell its client the protocol had switched.
        if resp.status().is_informational() {
            return Err(ForwardError::Other {
                detail: format!(
                    "the app answered {status} {}, which is no answer to a webhook: not relayed",
                    resp.status().canonical_reason().unwrap_or("")
                ),
            });
        }
        let headers = resp.headers().clone();
        let mut body = resp.into_body();
        let mut kept = bytes::BytesMut::new();
        let mut cut = false;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ForwardError::Other {
                detail: format!("reading the app's answer: {e}"),
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            if kept.len() + data.len() > MAX_ANSWER {
                // The rest is not read: what the app said is known (its status), and
                // draining a body of any size could outlast the sender's patience.
                kept.extend_from_slice(&data[..MAX_ANSWER - kept.len()]);
                cut = true;
                break;
            }
            kept.extend_from_slice(&data);
        }
        Ok(Answer {
            status,
            headers,
            body: kept.freeze(),
            cut,
        })
    }
}

/// The app's answer, its body whole or (`cut`) its first [`MAX_ANSWER`] bytes.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Bytes,
    cut: bool,
}

fn classify(e: &hyper_util::client::legacy::Error) -> ForwardError {
    let mut source = std::error::Error::source(e);
    let refused = crate::client::refused(e);
    let mut reset = false;
    let mut not_http = None;
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            reset |= matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            );
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            reset |= h.is_incomplete_message() || h.is_closed() || h.is_canceled();
            if h.is_parse() {
                not_http = Some(h.to_string());
            }
        }
        source = s.source();
    }
    if refused {
        ForwardError::Refused
    } else if reset {
        ForwardError::Reset
    } else if let Some(parse) = not_http {
        // Something listens there, but not an HTTP server (or a broken one): say that, not
        // the client's layers.
        ForwardError::Other {
            detail: format!(
                "the app's answer is not valid HTTP ({parse}): is that port the app's?"
            ),
        }
    } else {
        ForwardError::Other {
            detail: crate::client::error_chain(e),
        }
    }
}

/// `target` + `path` by the rule in the module docs.
pub fn join(target: &Uri, path: &str) -> String {
    let scheme = target.scheme_str().unwrap_or("http");
    let authority = target.authority().map(|a| a.as_str()).unwrap_or("");
    let (p, q) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut url = if p.is_empty() || p == "/" {
        // The target as written (`Uri` makes an empty path `/`).
        format!("{scheme}://{authority}{}", target.path())
    } else {
        let base = target.path().trim_end_matches('/');
        format!("{scheme}://{authority}{base}{p}")
    };
    let query = match (target.query(), q) {
        (Some(a), Some(b)) => Some(format!("{a}&{b}")),
        (Some(a), None) => Some(a.to_string()),
        (None, Some(b)) => Some(b.to_string()),
        (None, None) => None,
    };
    if let Some(q) = query {
        url.push('?');
        url.push_str(&q);
    }
    url
}

/// What the sender is answered, switchable at run time (`m` in the inspector, `--respond`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RespondMode {
    /// The verdict, or the app's answer when forwarding.
    Normal,
    /// Always this status.
    Status(u16),
    /// The normal answer, after a delay (to trigger the provider's timeout).
    Delay(Duration),
    /// 500 for this fraction of deliveries, normal for the rest.
    Flaky(f64),
}

impl RespondMode {
    /// The modes `m` cycles through.
    pub const CYCLE: [RespondMode; 5] = [
        RespondMode::Normal,
        RespondMode::Status(500),
        RespondMode::Status(410),
        RespondMode::Delay(Duration::from_secs(30)),
        RespondMode::Flaky(0.5),
    ];

    /// The next mode in the cycle.
    pub fn next(self) -> RespondMode {
        let i = Self::CYCLE.iter().position(|m| *m == self);
        match i {
            Some(i) => Self::CYCLE[(i + 1) % Self::CYCLE.len()],
            None => RespondMode::Normal,
        }
    }
}

impl fmt::Display for RespondMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RespondMode::Normal => write!(f, "normal"),
            RespondMode::Status(s) => write!(f, "status:{s}"),
            // Parts of a second as written (`delay:1.5s`, `delay:500ms`), not rounded away.
            RespondMode::Delay(d) if d.subsec_millis() != 0 => {
                write!(f, "delay:{}", limit_text(*d).replace(' ', ""))
            }
            RespondMode::Delay(d) => write!(
                f,
                "delay:{}",
                crate::verify::human_duration(d.as_secs()).replace(' ', "")
            ),
            RespondMode::Flaky(p) => write!(f, "flaky:{p}"),
        }
    }
}

impl std::str::FromStr for RespondMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{s}` is not a response mode: use normal, status:CODE, delay:DURATION (e.g. 45s, 2m) or flaky:P (0 to 1)"
            )
        };
        match s.split_once(':') {
            None if s == "normal" => Ok(RespondMode::Normal),
            Some(("status", code)) => match code.parse::<u16>() {
                Ok(c) if (200..=599).contains(&c) => Ok(RespondMode::Status(c)),
                // hyper answers a final 100 with 500, and 101 switches the connection to a
                // protocol nobody named: neither is an answer a sender can be given.
                Ok(c) if (100..200).contains(&c) => Err(format!(
                    "`{s}`: {c} is an informational status, not an answer: give one from 200 to 599"
                )),
                _ => Err(format!(
                    "`{s}`: `{code}` is not an HTTP status: give one from 200 to 599 (status:500)"
                )),
            },
            Some(("delay", d)) => parse_duration(d).map(RespondMode::Delay).ok_or_else(|| {
                format!("`{s}`: `{d}` is not a duration: give one as 500ms, 1.5s, 45s or 2m")
            }),
            Some(("flaky", p)) => {
                // `flaky:30%` reads as naturally as `flaky:0.3`.
                let p = match p.strip_suffix('%') {
                    Some(percent) => percent.parse::<f64>().map(|x| x / 100.0),
                    None => p.parse::<f64>(),
                };
                match p {
                    Ok(p) if (0.0..=1.0).contains(&p) => Ok(RespondMode::Flaky(p)),
                    _ => Err(format!(
                        "`{s}`: the share of deliveries to fail goes from 0 to 1 (flaky:0.3, or flaky:30%, fails about 3 in 10)"
                    )),
                }
            }
            _ => Err(bad()),
        }
    }
}

/// A limit as written on the command line: `500 ms`, `30 s`, `1.5 s`.
pub fn limit_text(d: Duration) -> String {
    match (d.as_secs(), d.subsec_millis()) {
        (0, ms) => format!("{ms} ms"),
        (s, 0) => format!("{s} s"),
        _ => format!("{} s", d.as_secs_f64()),
    }
}

/// `250ms`, `45s`, `1.5s`, `2m`, `1h`, or plain seconds; parts of a unit down to a millisecond.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let ms_per_unit: u64 = match unit {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    // Whole units in integers (no float rounding for `30s`); a fraction to the millisecond.
    let (whole, fraction) = n.split_once('.').unwrap_or((n, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut ms = whole.checked_mul(ms_per_unit)?;
    if !fraction.is_empty() {
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let part: f64 = format!("0.{fraction}").parse().ok()?;
        ms = ms.checked_add((part * ms_per_unit as f64).round() as u64)?;
    }
    Some(Duration::from_millis(ms))
}

/// The mode shared by the receiver and the inspector.
#[derive(Debug, Clone)]
pub struct Control(Arc<ControlState>);

#[derive(Debug)]
struct ControlState {
    mode: Mutex<RespondMode>,
    /// Whether `mode` is `Normal`: the receiver reads the mode for every delivery, and nearly
    /// always it is this, so one load answers instead of a lock.
    normal: std::sync::atomic::AtomicBool,
}

impl Control {
    /// A control starting in `mode`.
    pub fn new(mode: RespondMode) -> Self {
        Control(Arc::new(ControlState {
            mode: Mutex::new(mode),
            normal: std::sync::atomic::AtomicBool::new(matches!(mode, RespondMode::Normal)),
        }))
    }

    /// The mode now.
    pub fn get(&self) -> RespondMode {
        if self.0.normal.load(std::sync::atomic::Ordering::Acquire) {
            return RespondMode::Normal;
        }
        *self.0.mode.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the mode.
    pub fn set(&self, mode: RespondMode) {
        let mut now = self.0.mode.lock().unwrap_or_else(|p| p.into_inner());
        *now = mode;
        // Under the lock, so the flag and the mode change together for every reader.
        self.0.normal.store(
            matches!(mode, RespondMode::Normal),
            std::sync::atomic::Ordering::Release,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Trust;

    #[test]
    fn waiting_counts_each_delivery_in_its_phase_until_it_is_done() {
        let waiting = Waiting::default();
        assert!(waiting.now().is_empty());
        let mut first = waiting.start(Phase::App);
        let second = waiting.start(Phase::App);
        let third = waiting.start(Phase::Delay);
        assert_eq!(waiting.now().app.map(|(n, _)| n), Some(2));
        assert_eq!(waiting.now().delay.map(|(n, _)| n), Some(1));
        // The app answered the first; its delay begins.
        first.delaying();
        assert_eq!(waiting.now().app.map(|(n, _)| n), Some(1));
        assert_eq!(waiting.now().delay.map(|(n, _)| n), Some(2));
        first.delaying();
        assert_eq!(waiting.now().delay.map(|(n, _)| n), Some(2), "moved once");
        drop(second);
        assert_eq!(waiting.now().app, None);
        drop(third);
        assert_eq!(waiting.now().delay.map(|(n, _)| n), Some(1));
        drop(first);
        assert!(waiting.now().is_empty());
    }

    #[test]
    fn the_oldest_of_each_phase_gives_its_seconds() {
        let waiting = Waiting::default();
        let _old = waiting.start(Phase::App);
        // Backdate the first, as if it had waited a minute.
        {
            let mut w = waiting.0.lock().unwrap();
            let first = w.app.values_mut().next().unwrap();
            *first -= Duration::from_secs(60);
        }
        let _new = waiting.start(Phase::App);
        let (n, secs) = waiting.now().app.unwrap();
        assert_eq!(n, 2);
        assert!((60..120).contains(&secs), "{secs}");
    }

    #[test]
    fn control_reads_back_every_mode_it_is_set_to() {
        let control = Control::new(RespondMode::Normal);
        let other = control.clone();
        for mode in [
            RespondMode::Status(503),
            RespondMode::Normal,
            RespondMode::Delay(Duration::from_millis(250)),
            RespondMode::Flaky(0.5),
            RespondMode::Normal,
        ] {
            control.set(mode);
            assert_eq!(format!("{:?}", other.get()), format!("{mode:?}"));
        }
        let started_flaky = Control::new(RespondMode::Flaky(0.25));
        assert!(matches!(started_flaky.get(), RespondMode::Flaky(_)));
    }

    #[test]
    fn connection_headers_and_our_own_mark_are_not_relayed() {
        for name in [
            "Connection",
            "keep-alive",
            "TE",
            "transfer-encoding",
            "upgrade",
            "proxy-authorization",
            "host",
            "Content-Length",
            REPLAY_HEADER,
            "X-Hookscope-Edit-Of",
            ":authority",
            ":path",
        ] {
            assert!(!relayed(name), "{name}");
        }
        for name in [
            "svix-id",
            "svix-signature",
            "content-type",
            "x-forwarded-for",
            "expect",
        ] {
            assert!(relayed(name), "{name}");
        }
        assert!(is_hop_by_hop("Keep-Alive") && !is_hop_by_hop("host"));
    }

    #[test]
    fn joins_paths_and_queries() {
        let t: Uri = "http://localhost:3000/webhooks".parse().unwrap();
        assert_eq!(
            join(&t, "/stripe?x=1"),
            "http://localhost:3000/webhooks/stripe?x=1"
        );
        // The root goes to the target as written: no slash added, none taken away.
        assert_eq!(join(&t, "/"), "http://localhost:3000/webhooks");
        assert_eq!(join(&t, "/?x=1"), "http://localhost:3000/webhooks?x=1");
        assert_eq!(join(&t, ""), "http://localhost:3000/webhooks");
        let slash: Uri = "http://localhost:3000/webhooks/".parse().unwrap();
        assert_eq!(join(&slash, "/"), "http://localhost:3000/webhooks/");
        assert_eq!(join(&slash, "/a"), "http://localhost:3000/webhooks/a");
        let root: Uri = "http://localhost:3000".parse().unwrap();
        assert_eq!(join(&root, "/"), "http://localhost:3000/");
        assert_eq!(
            join(&root, "/hooks/in?a=b"),
            "http://localhost:3000/hooks/in?a=b"
        );
        let q: Uri = "http://localhost:3000/w/?token=1".parse().unwrap();
        assert_eq!(join(&q, "/x?y=2"), "http://localhost:3000/w/x?token=1&y=2");
    }

    #[test]
    fn modes_parse_print_and_cycle() {
        for text in ["normal", "status:500", "delay:45s", "flaky:0.25"] {
            let m: RespondMode = text.parse().unwrap();
            assert_eq!(m.to_string(), text);
        }
        assert_eq!(
            "delay:2m".parse::<RespondMode>().unwrap(),
            RespondMode::Delay(Duration::from_secs(120))
        );
        // Parts of a second are kept and printed as given.
        for (text, ms) in [
            ("delay:1.5s", 1_500),
            ("delay:500ms", 500),
            ("delay:0.5m", 30_000),
        ] {
            let m: RespondMode = text.parse().unwrap();
            assert_eq!(m, RespondMode::Delay(Duration::from_millis(ms)), "{text}");
        }
        assert_eq!(
            "delay:1.5s".parse::<RespondMode>().unwrap().to_string(),
            "delay:1.5s"
        );
        assert_eq!(
            "delay:500ms".parse::<RespondMode>().unwrap().to_string(),
            "delay:500ms"
        );
        assert_eq!("flaky:30%".parse(), Ok(RespondMode::Flaky(0.3)));
        // Each wrong part is named.
        let err = |text: &str| text.parse::<RespondMode>().unwrap_err();
        assert!(
            err("status:99").contains("`99` is not an HTTP status"),
            "{}",
            err("status:99")
        );
        assert!(err("status:abc").contains("`abc` is not an HTTP status"));
        assert!(err("delay:-1s").contains("`-1s` is not a duration"));
        assert!(err("delay:1.2.3s").contains("is not a duration"));
        assert!(err("flaky:2").contains("goes from 0 to 1"));
        assert!(err("flaky:150%").contains("goes from 0 to 1"));
        assert!(err("sometimes").contains("is not a response mode"));
        for informational in ["status:100", "status:101"] {
            let err = informational.parse::<RespondMode>().unwrap_err();
            assert!(err.contains("informational status"), "{err}");
        }
        assert_eq!("status:204".parse(), Ok(RespondMode::Status(204)));
        assert!("flaky:2".parse::<RespondMode>().is_err());
        assert!("sometimes".parse::<RespondMode>().is_err());
        let mut m = RespondMode::Normal;
        for _ in 0..RespondMode::CYCLE.len() {
            m = m.next();
        }
        assert_eq!(m, RespondMode::Normal);
        assert_eq!(RespondMode::Status(418).next(), RespondMode::Normal);
    }

    proptest::proptest! {
        /// Whatever is typed, a duration parses or is refused, never a panic; and a number
        /// with a fraction and a unit is that many milliseconds, rounded.
        #[test]
        fn durations_parse_to_the_millisecond_or_are_refused(
            junk in ".{0,12}",
            whole in 0u32..100_000,
            fraction in 0u32..1000,
            unit in proptest::sample::select(vec![("ms", 1u64), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]),
        ) {
            let _ = parse_duration(&junk);
            let (name, per) = unit;
            let text = format!("{whole}.{fraction:03}{name}");
            let want = u64::from(whole) * per + (f64::from(fraction) / 1000.0 * per as f64).round() as u64;
            proptest::prop_assert_eq!(parse_duration(&text), Some(Duration::from_millis(want)), "{}", text);
        }
    }

    #[test]
    fn a_timeout_says_the_limit_as_given() {
        let said = |e: ForwardError| e.to_string();
        assert_eq!(
            said(ForwardError::Timeout { ms: 500, secs: 0 }),
            "no answer within 500 ms (--forward-timeout)"
        );
        assert_eq!(limit_text(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(limit_text(DEFAULT_TIMEOUT), "30 s");
        // A result stored before the limit was kept in milliseconds still reads, and says it.
        let old: ForwardError = serde_json::from_str(r#"{"kind":"timeout","secs":30}"#).unwrap();
        assert_eq!(said(old), "no answer within 30 s (--forward-timeout)");
        let new = serde_json::to_string(&ForwardError::Timeout { ms: 250, secs: 0 }).unwrap();
        assert_eq!(new, r#"{"kind":"timeout","ms":250}"#);
    }

    #[test]
    fn a_cut_body_is_kept_as_such_and_results_stored_before_it_read_whole() {
        let stored =
            r#"{"url":"http://a/","status":200,"headers":[],"body":"eA==","ms":3,"error":null}"#;
        let old: ForwardResult = serde_json::from_str(stored).unwrap();
        assert!(!old.body_cut);
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            stored,
            "unchanged when whole"
        );
        let cut = ForwardResult {
            body_cut: true,
            ..old
        };
        let back: ForwardResult =
            serde_json::from_str(&serde_json::to_string(&cut).unwrap()).unwrap();
        assert_eq!(back, cut);
        assert_eq!(cut.cut_said(), ", body over 1 MiB not relayed");
    }

    #[test]
    fn a_target_that_is_our_own_address_is_recognised() {
        let at = |url: &str, listen: &str| {
            Forwarder::new(url, DEFAULT_TIMEOUT, false, Trust::System)
                .unwrap()
                .points_at(listen.parse().unwrap())
        };
        for (url, listen) in [
            ("http://127.0.0.1:8787/webhooks", "127.0.0.1:8787"),
            ("http://localhost:8787", "127.0.0.1:8787"),
            ("http://LOCALHOST:8787", "[::1]:8787"),
            ("http://127.0.0.2:8787", "0.0.0.0:8787"),
            ("http://192.168.1.5:8787", "192.168.1.5:8787"),
            ("http://[::1]:8787", "[::]:8787"),
            ("http://0.0.0.0:8787", "127.0.0.1:8787"),
            ("https://localhost", "127.0.0.1:443"),
        ] {
            assert!(at(url, listen), "{url} is {listen}");
        }
        for (url, listen) in [
            ("http://localhost:3000/webhooks", "127.0.0.1:8787"),
            ("http://localhost", "127.0.0.1:8787"),
            ("http://192.168.1.5:8787", "127.0.0.1:8787"),
            ("http://[::1]:8787", "127.0.0.1:8787"),
            ("http://app.internal:8787", "127.0.0.1:8787"),
        ] {
            assert!(!at(url, listen), "{url} is not {listen}");
        }
    }

    #[test]
    fn targets_are_checked() {
        assert!(
            Forwarder::new(
                "https://localhost:3000",
                DEFAULT_TIMEOUT,
                false,
                Trust::System
            )
            .is_ok()
        );
        assert!(
            Forwarder::new(
                "ftp://localhost:3000",
                DEFAULT_TIMEOUT,
                false,
                Trust::System
            )
            .is_err()
        );
        let Err(e) = Forwarder::new("localhost:3000", DEFAULT_TIMEOUT, false, Trust::System) else {
            panic!("a target without its scheme")
        };
        assert_eq!(
            e.to_string(),
            "--forward-to `localhost:3000`: no scheme: write http://localhost:3000 (or https://localhost:3000)"
        );
        assert!(
            Forwarder::new(
                "http://localhost:3000/webhooks",
                DEFAULT_TIMEOUT,
                false,
                Trust::System
            )
            .is_ok()
        );
    }
}
