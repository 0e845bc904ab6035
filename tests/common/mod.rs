//! Helpers shared by the integration tests: a raw HTTP/1.1 client (so tests control every byte)
//! and signing shortcuts.
#![allow(dead_code)]

use hookscope::verify::{Key, Secret, sign};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Sends raw bytes, reads until the server closes, parses the first response.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut buf))
        .await
        .expect("server answered in time")
        .ok();
    parse(&buf)
}

pub fn parse(buf: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A POST with the given headers and body, `Connection: close`.
pub async fn post(addr: SocketAddr, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    raw(addr, &post_bytes(path, headers, body, true)).await
}

/// The bytes of an HTTP/1.1 POST with the given headers and body (`Connection: close` when
/// `close`), for tests that write it themselves.
pub fn post_bytes(path: &str, headers: &[(&str, String)], body: &[u8], close: bool) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n",
        body.len()
    );
    if close {
        req.push_str("connection: close\r\n");
    }
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A sender that posts a signed `{}` to `path` and gives up on it after `after`, as a provider
/// does at its timeout.
pub async fn hang_up_after(addr: SocketAddr, path: &str, msg_id: &str, after: Duration) {
    let request = post_bytes(path, &signed(SECRET, msg_id, b"{}"), b"{}", false);
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&request).await.unwrap();
    tokio::time::sleep(after).await;
}

/// Svix headers signing `body` now with `secret`.
pub fn signed(secret: &str, id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    signed_at(
        secret,
        id,
        body,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
}

pub fn signed_at(secret: &str, id: &str, body: &[u8], ts: i64) -> Vec<(&'static str, String)> {
    let Key::Hmac(key) = Secret::parse(secret).expect("secret").key else {
        panic!("hmac secret")
    };
    vec![
        ("svix-id", id.to_string()),
        ("svix-timestamp", ts.to_string()),
        ("svix-signature", sign::sign_v1(&key, id, ts, body)),
    ]
}

/// `hookscope --headless --format json --port 0 --secret SECRET` and `extra`, with stdout piped
/// (and no secret from the environment): a headless server for [`spawn_listening`].
pub fn headless_json(extra: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hookscope"));
    cmd.args([
        "--headless",
        "--format",
        "json",
        "--port",
        "0",
        "--secret",
        SECRET,
    ])
    .args(extra)
    .env_remove("HOOKSCOPE_SECRET")
    .stdout(std::process::Stdio::piped());
    cmd
}

/// A hookscope a test started, killed when the test lets go of it, by failing too: a failed
/// assertion must not leave a receiver running for the rest of the machine's day.
pub struct Running(pub std::process::Child);

impl std::ops::Deref for Running {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Ended already (signalled and waited for by the test), these do nothing.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns a configured `hookscope` command with stderr piped, waits for its
/// `listening on URL` line and returns the child and the URL. The rest of stderr is drained on
/// a thread so the child never writes into a closed pipe.
pub fn spawn_listening(cmd: &mut std::process::Command) -> (Running, String) {
    use std::io::BufRead as _;
    let mut child = cmd
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn hookscope");
    let mut err = std::io::BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap_or(0) > 0,
            "hookscope exited before listening:\n{seen}"
        );
        seen.push_str(&line);
        if let Some(u) = line.trim().strip_prefix("listening on ") {
            break u.to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (Running(child), url)
}

/// A signed POST for hyper's own clients (HTTP/2 tests).
pub fn signed_request(
    uri: &str,
    msg_id: &str,
    body: &'static [u8],
) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    let mut req = http::Request::post(uri);
    for (n, v) in signed(SECRET, msg_id, body) {
        req = req.header(n, v);
    }
    req.body(http_body_util::Full::new(bytes::Bytes::from_static(body)))
        .expect("a valid request")
}

/// Asserts a response from hyper's clients is the reference receiver's 200 `ok`.
pub async fn assert_ok(resp: http::Response<hyper::body::Incoming>) {
    use http_body_util::BodyExt as _;
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.expect("the body");
    assert_eq!(&body.to_bytes()[..], b"ok");
}

/// Sends process `pid` the signal `name` (`TERM`, `INT`, `HUP`) with kill(1), as a process
/// manager or a shell would, and asserts it was delivered.
pub fn signal(pid: u32, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{name} {pid}");
}
