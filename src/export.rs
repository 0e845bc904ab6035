//! Export and import: JSONL for scripts, HAR 1.2 for browser dev tools and HTTP tools. Both keep
//! bodies and headers byte-exact (base64 where they are not UTF-8), so an export imported again
//! is the same evidence.

use crate::delivery::{Delivery, Request, ResponseRecord};
use crate::verify::{Verdict, Verifier};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use serde_json::{Value, json};
use std::io::{BufRead, Read as _, Write};
use std::ops::ControlFlow;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// HTTP Archive 1.2.
    Har,
}

/// Why an import failed, with the line or entry.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Reading the file failed. (The OS error is in the message, not the source: the binary
    /// prints the whole chain, which would say it twice.)
    #[error("reading the file: {0}")]
    Io(std::io::Error),
    /// The content is not what the format requires.
    #[error("{at}: {problem}")]
    Invalid {
        /// `line 3`, `entry 2`.
        at: String,
        /// What is wrong.
        problem: String,
    },
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Text as a JSON string when it is UTF-8, else `{"base64": …}`.
fn bytes_value(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "base64": B64.encode(b) }),
    }
}

fn value_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(o) => B64.decode(o.get("base64")?.as_str()?).ok(),
        _ => None,
    }
}

/// The JSONL object for a delivery.
pub fn jsonl_value(d: &Delivery) -> Value {
    let (body, body_base64) = match std::str::from_utf8(&d.body) {
        Ok(s) => (Value::String(s.to_string()), Value::Null),
        Err(_) => (Value::Null, Value::String(B64.encode(&d.body))),
    };
    json!({
        "id": d.seq,
        "received_at": rfc3339(d.received_at),
        "remote": d.remote.map(|r| r.to_string()),
        "method": d.method,
        "path": d.path,
        "version": d.version,
        "headers": d.headers.iter().map(|(n, v)| json!([n, bytes_value(v)])).collect::<Vec<_>>(),
        "body": body,
        "body_base64": body_base64,
        "bytes": d.body_size,
        "msg_id": d.msg_id,
        "event_id": d.event_id,
        "type": d.event_type,
        "verified": d.verdict.verified(),
        "failure": d.verdict.failure_code(),
        "reason": d.verdict.reason(),
        "status": d.response.status,
        "response_body": d.response.body,
        "verdict": serde_json::to_value(&d.verdict).unwrap_or(Value::Null),
        "forward": forward_value(d),
        "replay_of": d.replay_of,
    })
}

/// What the app answered, as the store keeps it (its body in base64), or null.
fn forward_value(d: &Delivery) -> Value {
    d.forward
        .as_ref()
        .and_then(|f| serde_json::to_value(f).ok())
        .unwrap_or(Value::Null)
}

/// A HAR answer's text: browsers write a binary one base64-encoded (`"encoding": "base64"`),
/// kept here as the text it decodes to, as a received answer would be.
fn answer_text(content: Option<&Value>) -> String {
    let text = content
        .and_then(|c| c.get("text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let encoding = content
        .and_then(|c| c.get("encoding"))
        .and_then(Value::as_str);
    match encoding
        .filter(|e| *e == "base64")
        .map(|_| B64.decode(text))
    {
        Some(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => text.to_string(),
    }
}

/// Puts back what [`forward_value`] and `replay_of` wrote, and whether a re-send was an edit.
/// A forward result that does not parse is an error: dropping it would lose what the app
/// answered without a word.
fn restore_links(
    d: &mut Delivery,
    forward: Option<&Value>,
    replay_of: Option<&Value>,
) -> Result<(), String> {
    d.forward = match forward {
        None | Some(Value::Null) => None,
        Some(f) => Some(
            serde_json::from_value(f.clone())
                .map_err(|e| format!("`forward` is not a forwarding result ({e})"))?,
        ),
    };
    d.replay_of = replay_of.and_then(Value::as_u64);
    // The headers kept the edit mark the receiver saw, as the store reads it back.
    d.edited = d.replay_of.is_some()
        && d.headers
            .iter()
            .any(|(n, _)| n == crate::forward::EDIT_HEADER);
    Ok(())
}

/// Writes deliveries in `format`.
pub fn write<W: Write>(
    out: &mut W,
    deliveries: &[Delivery],
    format: Format,
) -> std::io::Result<()> {
    let mut export = Exporter::start(out, format)?;
    for d in deliveries {
        export.add(d)?;
    }
    export.finish().map(|_| ())
}

/// Writes an export one delivery at a time, so one of any size holds one in memory: JSONL
/// line by line, HAR as the document `har` makes, entry by entry. Characters a terminal could
/// act on are written as JSON escapes, so an export printed to one cannot drive it.
pub struct Exporter<W: Write> {
    out: W,
    format: Format,
    written: u64,
}

/// A HAR document's indentation before an entry (`log.entries[i]`, pretty-printed).
const HAR_ENTRY_INDENT: &str = "      ";

impl<W: Write> Exporter<W> {
    /// Starts an export on `out` (for HAR, its opening).
    pub fn start(mut out: W, format: Format) -> std::io::Result<Self> {
        if format == Format::Har {
            let head = har_head();
            let head = serde_json::to_string_pretty(&head).map_err(std::io::Error::other)?;
            // The head ends `"entries": []` and two closing braces: the entries go between.
            let open = head
                .strip_suffix("[]\n  }\n}")
                .ok_or_else(|| std::io::Error::other("unexpected HAR head"))?;
            out.write_all(open.as_bytes())?;
            out.write_all(b"[")?;
        }
        Ok(Exporter {
            out,
            format,
            written: 0,
        })
    }

    /// Adds one delivery.
    pub fn add(&mut self, d: &Delivery) -> std::io::Result<()> {
        match self.format {
            Format::Jsonl => {
                let line = serde_json::to_string(&jsonl_value(d)).map_err(std::io::Error::other)?;
                self.out
                    .write_all(crate::sanitize::json_text(&line).as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            Format::Har => {
                let entry =
                    serde_json::to_string_pretty(&har_entry(d)).map_err(std::io::Error::other)?;
                let entry = crate::sanitize::json_text(&entry);
                let sep = if self.written == 0 { "\n" } else { ",\n" };
                self.out.write_all(sep.as_bytes())?;
                self.out.write_all(HAR_ENTRY_INDENT.as_bytes())?;
                // A JSON string holds no raw newline: every one is between tokens.
                let indented = entry.replace('\n', &format!("\n{HAR_ENTRY_INDENT}"));
                self.out.write_all(indented.as_bytes())?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Ends the export (for HAR, its closing) and flushes it; returns how many were written.
    pub fn finish(mut self) -> std::io::Result<u64> {
        if self.format == Format::Har {
            let close = if self.written == 0 {
                "]\n  }\n}\n"
            } else {
                "\n    ]\n  }\n}\n"
            };
            self.out.write_all(close.as_bytes())?;
        }
        self.out.flush()?;
        Ok(self.written)
    }
}

fn query_string(path: &str) -> Vec<Value> {
    let Some((_, q)) = path.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            json!({ "name": n, "value": v })
        })
        .collect()
}

/// The HAR 1.2 document for deliveries.
pub fn har(deliveries: &[Delivery]) -> Value {
    let mut doc = har_head();
    doc["log"]["entries"] = deliveries.iter().map(har_entry).collect();
    doc
}

/// A HAR 1.2 document without entries.
fn har_head() -> Value {
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "hookscope", "version": env!("CARGO_PKG_VERSION") },
            "entries": [],
        }
    })
}

/// The HAR entry for one delivery.
fn har_entry(d: &Delivery) -> Value {
    let host = d
        .header("host")
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_else(|| "hookscope.invalid".into());
    let mime = d
        .header("content-type")
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_else(|| "application/octet-stream".into());
    let headers: Vec<Value> = d
        .headers
        .iter()
        .map(|(n, v)| json!({ "name": n, "value": String::from_utf8_lossy(v) }))
        .collect();
    let mut request = json!({
        "method": d.method,
        "url": format!("http://{host}{}", d.path),
        "httpVersion": d.version,
        "cookies": [],
        "headers": headers,
        "queryString": query_string(&d.path),
        "headersSize": -1,
        "bodySize": d.body_size,
    });
    if !d.body.is_empty() {
        request["postData"] = json!({
            "mimeType": mime,
            "text": String::from_utf8_lossy(&d.body),
        });
    }
    let exact_headers: Vec<Value> = d
        .headers
        .iter()
        .map(|(n, v)| json!([n, bytes_value(v)]))
        .collect();
    // A forwarded delivery was answered with the app's answer: its headers, and the
    // time it took (all of the exchange hookscope can account for).
    let answered_by_app = d
        .forward
        .as_ref()
        .filter(|f| f.status.is_some() && !f.body_cut);
    let response_headers: Vec<(&str, &str)> = match answered_by_app {
        Some(f) => f
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
        None => vec![("content-type", "text/plain; charset=utf-8")],
    };
    let response_mime = response_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map_or("", |(_, v)| *v);
    let wait = d.forward.as_ref().map_or(0, |f| f.ms);
    json!({
        "startedDateTime": rfc3339(d.received_at),
        "time": wait,
        "request": request,
        "response": {
            "status": d.response.status,
            "statusText": d.response.reason_phrase(),
            "httpVersion": d.version,
            "cookies": [],
            "headers": response_headers.iter().map(|(n, v)| json!({ "name": n, "value": v })).collect::<Vec<_>>(),
            "content": {
                "size": d.response.body.len(),
                "mimeType": response_mime,
                "text": d.response.body,
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": d.response.body.len(),
        },
        "cache": {},
        "timings": { "send": 0, "wait": wait, "receive": 0 },
        "serverIPAddress": d.remote.map(|r| r.ip().to_string()),
        "_hookscope": {
            "id": d.seq,
            "remote": d.remote.map(|r| r.to_string()),
            "path": d.path,
            "headers": exact_headers,
            "body_base64": B64.encode(&d.body),
            "verdict": serde_json::to_value(&d.verdict).unwrap_or(Value::Null),
            "forward": forward_value(d),
            "replay_of": d.replay_of,
        },
    })
}

/// Reads a JSONL or HAR file (told apart by content) whole. Deliveries without a stored verdict
/// (a HAR from other tools) are verified with `verifier` as of the time they were received.
pub fn read<R: BufRead>(input: R, verifier: &Verifier) -> Result<Vec<Delivery>, ImportError> {
    let mut out = Vec::new();
    read_each(input, verifier, |d| {
        out.push(d);
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// Like [`read`], handing each delivery to `each` as soon as it is read, so a file of any size
/// takes the memory of one delivery at a time; `each` breaks to stop reading. A HAR is a JSON
/// document whose first key is `log` (as every HAR writer puts it); anything else is read as
/// JSONL, one delivery per line.
pub fn read_each<R: BufRead>(
    mut input: R,
    verifier: &Verifier,
    mut each: impl FnMut(Delivery) -> ControlFlow<()>,
) -> Result<(), ImportError> {
    let (har, opening) = sniff(&mut input).map_err(ImportError::Io)?;
    // Where telling the format took everything there was, the input is not read again: a
    // terminal's Ctrl-D ends one read only, and a second would wait for another.
    let rest: Box<dyn BufRead + '_> = match opening {
        Sniffed::Ended(_) => Box::new(std::io::empty()),
        Sniffed::More(_) => Box::new(input),
    };
    let input = std::io::Cursor::new(opening.into_bytes()).chain(rest);
    if har {
        read_har(input, verifier, &mut each)
    } else {
        read_jsonl(input, verifier, &mut each)
    }
}

/// The bytes [`sniff`] read, and whether the input ended there.
enum Sniffed {
    /// The input went on.
    More(Vec<u8>),
    /// The input ended within them.
    Ended(Vec<u8>),
}

impl Sniffed {
    fn into_bytes(self) -> Vec<u8> {
        match self {
            Sniffed::More(b) | Sniffed::Ended(b) => b,
        }
    }
}

/// Whether `input` opens as a HAR document (`{ "log"`), and the bytes read to tell, less a
/// UTF-8 byte order mark (which Windows tools write and JSON does not allow).
fn sniff<R: BufRead>(input: &mut R) -> std::io::Result<(bool, Sniffed)> {
    const BOM: &[u8] = b"\xef\xbb\xbf";
    let mut opening = Vec::new();
    // What must come next, whitespace aside, for a HAR.
    let mut expected: &[u8] = b"{\"log\"";
    let mut at_start = true;
    loop {
        let Some(&byte) = input.fill_buf()?.first() else {
            return Ok((false, Sniffed::Ended(opening)));
        };
        input.consume(1);
        opening.push(byte);
        if at_start && BOM.starts_with(&opening) {
            if opening.len() == BOM.len() {
                opening.clear();
                at_start = false;
            }
            continue;
        }
        at_start = false;
        // Inside the key, whitespace is part of it.
        let in_key = expected.len() <= b"log\"".len();
        if !in_key && byte.is_ascii_whitespace() {
            continue;
        }
        if byte != expected[0] {
            return Ok((false, Sniffed::More(opening)));
        }
        expected = &expected[1..];
        if expected.is_empty() {
            return Ok((true, Sniffed::More(opening)));
        }
    }
}

fn read_jsonl<R: BufRead>(
    mut input: R,
    verifier: &Verifier,
    each: &mut dyn FnMut(Delivery) -> ControlFlow<()>,
) -> Result<(), ImportError> {
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .map_err(ImportError::Io)?
            == 0
        {
            break;
        }
        let at = || format!("line {n}");
        let text = std::str::from_utf8(&line).map_err(|e| ImportError::Invalid {
            at: at(),
            problem: format!(
                "not UTF-8 (byte 0x{:02x} at column {}): exports are UTF-8 JSON, with bodies that are not UTF-8 in base64",
                line[e.valid_up_to()],
                e.valid_up_to() + 1
            ),
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(text).map_err(|e| ImportError::Invalid {
            at: at(),
            problem: format!("not JSON ({e})"),
        })?;
        let d = from_jsonl(&v, verifier)
            .map_err(|problem| ImportError::Invalid { at: at(), problem })?;
        if each(d).is_break() {
            break;
        }
    }
    Ok(())
}

fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("`{key}` is missing or not text"))
}

fn time_field(v: &Value, key: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(str_field(v, key)?, &Rfc3339)
        .map_err(|e| format!("`{key}` is not an RFC 3339 time ({e})"))
}

fn headers_field(v: &Value) -> Result<Vec<(String, Vec<u8>)>, String> {
    v.as_array()
        .ok_or("`headers` is not a list")?
        .iter()
        .map(|pair| {
            let name = pair
                .get(0)
                .and_then(Value::as_str)
                .ok_or("a header has no name")?;
            let value = pair
                .get(1)
                .and_then(value_bytes)
                .ok_or("a header has no value")?;
            Ok((name.to_string(), value))
        })
        .collect()
}

fn finish(
    seq: u64,
    received_at: OffsetDateTime,
    request: Request,
    verdict: Option<&Value>,
    response: ResponseRecord,
    verifier: &Verifier,
) -> Delivery {
    let verdict = match verdict.and_then(|v| serde_json::from_value::<Verdict>(v.clone()).ok()) {
        Some(v) => v,
        None if request.method == "POST" => verifier.verify(
            &request.path,
            &request.headers,
            &request.body,
            received_at.unix_timestamp(),
        ),
        None => Verdict::Unchecked(crate::verify::Unchecked::NotPost {
            method: request.method.to_string(),
        }),
    };
    Delivery::new(seq, received_at, request, verdict, response)
}

fn from_jsonl(v: &Value, verifier: &Verifier) -> Result<Delivery, String> {
    let body = match (
        v.get("body_base64").and_then(Value::as_str),
        v.get("body").and_then(Value::as_str),
    ) {
        (Some(b), _) => B64
            .decode(b)
            .map_err(|e| format!("`body_base64` is not base64 ({e})"))?,
        (None, Some(s)) => s.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    let request = Request {
        remote: v
            .get("remote")
            .and_then(Value::as_str)
            .and_then(|r| r.parse().ok()),
        method: crate::delivery::method_text(str_field(v, "method")?),
        path: str_field(v, "path")?.to_string(),
        version: crate::delivery::version_text(
            v.get("version")
                .and_then(Value::as_str)
                .unwrap_or("HTTP/1.1"),
        ),
        headers: headers_field(v.get("headers").unwrap_or(&Value::Null))?,
        body_size: v
            .get("bytes")
            .and_then(Value::as_u64)
            .unwrap_or(body.len() as u64),
        body: Bytes::from(body),
    };
    let response = ResponseRecord {
        status: v
            .get("status")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(999) as u16,
        body: v
            .get("response_body")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
            .into(),
    };
    let seq = v.get("id").and_then(Value::as_u64).unwrap_or(0);
    let mut d = finish(
        seq,
        time_field(v, "received_at")?,
        request,
        v.get("verdict"),
        response,
        verifier,
    );
    restore_links(&mut d, v.get("forward"), v.get("replay_of"))?;
    Ok(d)
}

/// Reads a HAR's entries one at a time as the document streams by: serde visits the document
/// and its `log`, skips every other member, and hands each entry on before reading the next.
fn read_har<R: BufRead>(
    input: R,
    verifier: &Verifier,
    each: &mut dyn FnMut(Delivery) -> ControlFlow<()>,
) -> Result<(), ImportError> {
    use serde::de::DeserializeSeed as _;
    let mut har = Har {
        verifier,
        each,
        entries: 0,
        found: false,
        cut: None,
    };
    let mut de = serde_json::Deserializer::from_reader(input);
    let parsed = Member::Document
        .seed(&mut har)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(cut) = har.cut {
        return cut;
    }
    if let Err(e) = parsed {
        return Err(match e.classify() {
            serde_json::error::Category::Io => ImportError::Io(e.into()),
            serde_json::error::Category::Data => ImportError::Invalid {
                at: format!("line {}", e.line()),
                problem: format!("not a HAR document ({e})"),
            },
            _ => ImportError::Invalid {
                at: format!("line {}", e.line()),
                problem: format!("not JSON ({e})"),
            },
        });
    }
    if !har.found {
        return Err(ImportError::Invalid {
            at: "log".into(),
            problem: "`log.entries` is missing".into(),
        });
    }
    Ok(())
}

/// A HAR being read: where its entries go, and why reading stopped early.
struct Har<'a> {
    verifier: &'a Verifier,
    each: &'a mut dyn FnMut(Delivery) -> ControlFlow<()>,
    entries: usize,
    found: bool,
    /// Set when an entry stopped the reading (refused, or `each` had enough); serde is then
    /// told to stop with an error of its own, which this replaces.
    cut: Option<Result<(), ImportError>>,
}

/// The part of a HAR document a [`Visit`] reads.
#[derive(Clone, Copy)]
enum Member {
    /// The whole: an object with `log`.
    Document,
    /// `log`: an object with `entries`.
    Log,
    /// `log.entries`: the list.
    Entries,
}

impl Member {
    fn seed<'h, 'a>(self, har: &'h mut Har<'a>) -> Visit<'h, 'a> {
        Visit { member: self, har }
    }
}

struct Visit<'h, 'a> {
    member: Member,
    har: &'h mut Har<'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Visit<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.member {
            Member::Document | Member::Log => d.deserialize_map(self),
            Member::Entries => d.deserialize_seq(self),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Visit<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self.member {
            Member::Document => "a HAR document (an object with `log`)",
            Member::Log => "`log` as an object with `entries`",
            Member::Entries => "`log.entries` as a list",
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (wanted, inner) = match self.member {
            Member::Document => ("log", Member::Log),
            _ => ("entries", Member::Entries),
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == wanted {
                map.next_value_seed(inner.seed(self.har))?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        let har = self.har;
        har.found = true;
        while let Some(entry) = seq.next_element::<Value>()? {
            har.entries += 1;
            match from_har_entry(&entry, har.verifier) {
                Ok(d) => {
                    if (har.each)(d).is_break() {
                        har.cut = Some(Ok(()));
                        return Err(A::Error::custom("stopped"));
                    }
                }
                Err(problem) => {
                    har.cut = Some(Err(ImportError::Invalid {
                        at: format!("entry {}", har.entries),
                        problem,
                    }));
                    return Err(A::Error::custom("refused"));
                }
            }
        }
        Ok(())
    }
}

fn from_har_entry(e: &Value, verifier: &Verifier) -> Result<Delivery, String> {
    let req = e.get("request").ok_or("`request` is missing")?;
    let ours = e.get("_hookscope");
    let url = str_field(req, "url")?;
    let path = match ours.and_then(|o| o.get("path")).and_then(Value::as_str) {
        Some(p) => p.to_string(),
        None => {
            let uri: http::Uri = url
                .parse()
                .map_err(|_| format!("`url` {url} is not a URL"))?;
            uri.path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into())
        }
    };
    let headers = match ours.and_then(|o| o.get("headers")) {
        Some(h) => headers_field(h)?,
        None => req
            .get("headers")
            .and_then(Value::as_array)
            .ok_or("`request.headers` is missing")?
            .iter()
            .filter_map(|h| {
                Some((
                    h.get("name")?.as_str()?.to_ascii_lowercase(),
                    h.get("value")?.as_str()?.as_bytes().to_vec(),
                ))
            })
            .collect(),
    };
    let body = match ours
        .and_then(|o| o.get("body_base64"))
        .and_then(Value::as_str)
    {
        Some(b) => B64
            .decode(b)
            .map_err(|e| format!("`_hookscope.body_base64` is not base64 ({e})"))?,
        None => req
            .pointer("/postData/text")
            .and_then(Value::as_str)
            .unwrap_or("")
            .as_bytes()
            .to_vec(),
    };
    let request = Request {
        remote: ours
            .and_then(|o| o.get("remote"))
            .and_then(Value::as_str)
            .and_then(|r| r.parse().ok()),
        method: crate::delivery::method_text(str_field(req, "method")?),
        path,
        version: crate::delivery::version_text(
            req.get("httpVersion")
                .and_then(Value::as_str)
                .unwrap_or("HTTP/1.1"),
        ),
        headers,
        // A body refused unread (over --max-body, or no room) kept nothing but its size, which
        // hookscope's own export writes as bodySize; another tool's is taken at its text.
        body_size: req
            .get("bodySize")
            .and_then(Value::as_u64)
            .filter(|&n| ours.is_some() && n >= body.len() as u64)
            .unwrap_or(body.len() as u64),
        body: Bytes::from(body),
    };
    let response = ResponseRecord {
        status: e
            .pointer("/response/status")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(999) as u16,
        body: answer_text(e.pointer("/response/content")).into(),
    };
    let seq = ours
        .and_then(|o| o.get("id"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut d = finish(
        seq,
        time_field(e, "startedDateTime")?,
        request,
        ours.and_then(|o| o.get("verdict")),
        response,
        verifier,
    );
    restore_links(
        &mut d,
        ours.and_then(|o| o.get("forward")),
        ours.and_then(|o| o.get("replay_of")),
    )?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;
    use serde_json::json;

    #[test]
    fn a_har_answer_written_in_base64_reads_as_its_text() {
        let text = |c: Value| answer_text(Some(&c));
        assert_eq!(text(json!({"text": "b2s=", "encoding": "base64"})), "ok");
        assert_eq!(
            text(json!({"text": "b2s="})),
            "b2s=",
            "no encoding: as written"
        );
        // Said to be base64 and not: kept as written rather than lost.
        assert_eq!(text(json!({"text": "ok!", "encoding": "base64"})), "ok!");
        assert_eq!(answer_text(None), "");
    }

    /// An export of a forwarded, replayed delivery, as JSONL and as HAR.
    fn exports() -> (Value, Value) {
        use crate::forward::{ForwardError, ForwardResult};
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let mut b =
            crate::testing::Builder::new(&[secret], time::macros::datetime!(2026-11-27 10:00 UTC));
        let mut d = b.signed(secret, "msg_p", &crate::testing::event("a.b", "evt_p"));
        d.forward = Some(ForwardResult {
            url: "http://localhost:3000/".into(),
            status: None,
            headers: vec![("x".into(), "y".into())],
            body: Bytes::from_static(b"\xff"),
            ms: 3,
            error: Some(ForwardError::Timeout { ms: 30, secs: 0 }),
            body_cut: false,
        });
        d.replay_of = Some(1);
        (jsonl_value(&d), har(&[d]))
    }

    #[test]
    fn a_har_written_entry_by_entry_is_the_document_har_makes() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let mut b =
            crate::testing::Builder::new(&[secret], time::macros::datetime!(2026-11-27 10:00 UTC));
        let mut ds = vec![b.signed(secret, "msg_1", &crate::testing::event("a.b", "evt_1"))];
        // Text with what a JSON string escapes: newlines, quotes, a tab, and bytes not UTF-8.
        ds.push(b.request(
            "POST",
            "/x",
            vec![("x-a".into(), b"1\n\"2\"".to_vec())],
            b"a\nb\t\"\xff",
        ));
        ds.push(b.request("GET", "/favicon.ico", vec![], b""));
        // And what a terminal would act on: ESC, a C1 CSI, a bidi override, DEL.
        ds.push(b.request(
            "POST",
            "/\u{202e}",
            vec![("x-b".into(), "\u{9b}31m".as_bytes().to_vec())],
            "\x1b]52;c;aGk=\x07 \u{9b}2J \u{202e} \x7f".as_bytes(),
        ));
        for n in 0..=ds.len() {
            let mut streamed = Vec::new();
            write(&mut streamed, &ds[..n], Format::Har).unwrap();
            let whole = serde_json::to_string_pretty(&har(&ds[..n])).unwrap() + "\n";
            let streamed = String::from_utf8(streamed).unwrap();
            assert_eq!(streamed, crate::sanitize::json_text(&whole), "{n} entries");
            let mut jsonl = Vec::new();
            write(&mut jsonl, &ds[..n], Format::Jsonl).unwrap();
            for text in [&streamed, &String::from_utf8(jsonl).unwrap()] {
                assert!(
                    !text
                        .chars()
                        .any(|c| c != '\n' && crate::sanitize::is_unsafe(c)),
                    "{text}"
                );
                // And it reads back as what was written.
                let back = read(text.as_bytes(), &Verifier::new(Vec::new(), 300)).unwrap();
                assert_eq!(
                    back.iter().map(|d| (&d.path, &d.body)).collect::<Vec<_>>(),
                    ds[..n]
                        .iter()
                        .map(|d| (&d.path, &d.body))
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    /// Input that counts the bytes taken from it.
    struct Counted<'a> {
        bytes: &'a [u8],
        taken: std::rc::Rc<std::cell::Cell<usize>>,
    }

    impl std::io::Read for Counted<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = std::io::Read::read(&mut self.bytes, buf)?;
            self.taken.set(self.taken.get() + n);
            Ok(n)
        }
    }

    /// Forty deliveries of 4 KiB, as JSONL and as HAR.
    fn big_exports() -> (Vec<Delivery>, [Vec<u8>; 2]) {
        let mut b =
            crate::testing::Builder::new(&[], time::macros::datetime!(2026-11-27 10:00 UTC));
        let ds: Vec<Delivery> = (0..40)
            .map(|i| b.request("POST", &format!("/{i}"), vec![], &[b'x'; 4096]))
            .collect();
        let files = [Format::Jsonl, Format::Har].map(|f| {
            let mut out = Vec::new();
            write(&mut out, &ds, f).unwrap();
            out
        });
        (ds, files)
    }

    #[test]
    fn deliveries_are_handed_on_as_they_are_read_not_after_the_whole_file() {
        let (ds, files) = big_exports();
        for file in &files {
            let taken = std::rc::Rc::new(std::cell::Cell::new(0));
            let input = std::io::BufReader::new(Counted {
                bytes: file,
                taken: taken.clone(),
            });
            let mut seen = Vec::new();
            read_each(input, &Verifier::new(Vec::new(), 300), |d| {
                seen.push((d.path.clone(), taken.get()));
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(seen.len(), ds.len());
            // The first came with a tenth of the file read, the twentieth well before the end.
            assert!(
                seen[0].1 < file.len() / 10,
                "{} of {}",
                seen[0].1,
                file.len()
            );
            assert!(seen[19].1 < file.len() * 3 / 4, "{seen:?}");
            assert_eq!(seen[39].0, "/39");

            // And one that has had enough stops the reading there.
            let taken = std::rc::Rc::new(std::cell::Cell::new(0));
            let input = std::io::BufReader::new(Counted {
                bytes: file,
                taken: taken.clone(),
            });
            let mut count = 0;
            read_each(input, &Verifier::new(Vec::new(), 300), |_| {
                count += 1;
                if count == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
            assert_eq!(count, 2);
            assert!(
                taken.get() < file.len() / 5,
                "{} of {}",
                taken.get(),
                file.len()
            );
        }
    }

    #[test]
    fn an_input_that_ends_while_its_format_is_told_is_not_read_again() {
        /// A terminal: Ctrl-D ends one read, and another would wait for more typing.
        struct Terminal {
            typed: &'static [u8],
            ended: bool,
        }
        impl std::io::Read for Terminal {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                assert!(
                    !self.ended,
                    "read again after the end: a terminal would wait here"
                );
                let n = self.typed.len().min(buf.len());
                buf[..n].copy_from_slice(&self.typed[..n]);
                self.typed = &self.typed[n..];
                self.ended = n == 0;
                Ok(n)
            }
        }
        for typed in [&b""[..], b"  \n", b"{\"lo"] {
            let input = std::io::BufReader::new(Terminal {
                typed,
                ended: false,
            });
            let mut seen = 0;
            let read = read_each(input, &Verifier::new(Vec::new(), 300), |_| {
                seen += 1;
                ControlFlow::Continue(())
            });
            assert_eq!(seen, 0);
            // Nothing, or a line cut short: said, never waited on.
            assert_eq!(read.is_ok(), typed.trim_ascii().is_empty(), "{read:?}");
        }
    }

    #[test]
    fn a_har_is_told_from_jsonl_by_its_first_key() {
        let verifier = Verifier::new(Vec::new(), 300);
        let (_, [_, har]) = big_exports();
        let har = String::from_utf8(har).unwrap();
        let body = har.trim_start().strip_prefix('{').unwrap();
        // A byte order mark, spaces and newlines around the brace: still a HAR.
        for opening in ["{", "\u{feff}{", " \n\t{\r\n  ", "\u{feff}\n{ "] {
            let text = format!("{opening}{}", body.trim_start());
            assert_eq!(
                read(text.as_bytes(), &verifier).unwrap().len(),
                40,
                "{opening:?}"
            );
        }
        // One that does not open with `log` is read as JSONL, and so refused at its first line.
        for text in [
            "{\"logs\": {\"entries\": []}}",
            "{\"lo g\": {\"entries\": []}}",
            "{\"version\": 1, \"log\": {\"entries\": []}}",
        ] {
            let e = read(text.as_bytes(), &verifier).unwrap_err().to_string();
            assert!(e.starts_with("line 1: "), "{text}: {e}");
        }
        // Nothing at all, or blank lines only, is JSONL with no deliveries.
        for text in ["", "\n\n", "\u{feff}"] {
            assert!(
                read(text.as_bytes(), &verifier).unwrap().is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_har_that_goes_wrong_says_where() {
        let verifier = Verifier::new(Vec::new(), 300);
        let (_, [_, har]) = big_exports();
        let doc: Value = serde_json::from_slice(&har).unwrap();
        let err = |text: &str| read(text.as_bytes(), &verifier).unwrap_err().to_string();

        // An entry the third in the list that is not one: named by its place.
        let mut bad = doc.clone();
        bad["log"]["entries"][2]["request"] = json!(7);
        let text = serde_json::to_string_pretty(&bad).unwrap();
        assert_eq!(err(&text), "entry 3: `url` is missing or not text");

        // Cut off halfway: where the JSON ends, not a complaint about JSONL.
        let text = String::from_utf8(har[..har.len() / 2].to_vec()).unwrap();
        let e = err(&text);
        assert!(
            e.starts_with("line ") && e.contains("not JSON (EOF while parsing"),
            "{e}"
        );

        // The right JSON with the wrong shape.
        assert!(
            err("{\"log\": []}").contains(
                "not a HAR document (invalid type: sequence, expected `log` as an object"
            ),
            "{}",
            err("{\"log\": []}")
        );
        assert!(err("{\"log\": {\"entries\": {}}}").contains("expected `log.entries` as a list"));
        assert_eq!(
            err("{\"log\": {\"version\": \"1.2\"}}"),
            "log: `log.entries` is missing"
        );
        // Something after the document.
        assert!(err("{\"log\": {\"entries\": []}} {}").contains("trailing characters"));
    }

    /// The JSON pointer of every value in `v`, `v` itself included.
    fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    pointers(
                        v,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    pointers(v, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        // A hand-edited or foreign file: any value anywhere in an export replaced by any JSON
        // is read or refused with a reason, never a panic, and what is read exports again.
        #[test]
        fn any_value_replaced_by_anything_is_read_or_refused(
            choice in proptest::prelude::any::<proptest::sample::Index>(),
            value in proptest::prop_oneof![
                crate::highlight::tests::arb_json(),
                proptest::prelude::any::<u64>().prop_map(Value::from),
                proptest::prelude::any::<f64>().prop_map(Value::from),
            ],
            har_file in proptest::prelude::any::<bool>(),
        ) {
            let (jsonl, har_doc) = exports();
            let mut doc = if har_file { har_doc } else { jsonl };
            let mut all = Vec::new();
            pointers(&doc, String::new(), &mut all);
            let chosen: &String = choice.get(&all);
            if let Some(slot) = doc.pointer_mut(chosen) {
                *slot = value;
            }
            let text = serde_json::to_string(&doc).unwrap_or_default();
            let verifier = Verifier::new(Vec::new(), 300);
            if let Ok(ds) = read(text.as_bytes(), &verifier) {
                let mut out = Vec::new();
                write(&mut out, &ds, Format::Jsonl).unwrap();
                write(&mut out, &ds, Format::Har).unwrap();
            }
        }
    }
}
