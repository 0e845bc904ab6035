//! Hostile clients and payloads: each gets a clear verdict or error, the server keeps serving,
//! and the UI renders what arrives safely.

mod common;

use common::*;
use hookscope::app::{Action, App, Info};
use hookscope::delivery::Delivery;
use hookscope::receiver::{Config, Receiver};
use hookscope::verify::{Secret, Unchecked, Verdict, Verifier};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

async fn start(max_body: u64) -> (Receiver, mpsc::Receiver<Box<Delivery>>) {
    start_with(|config| config.max_body = max_body).await
}

/// A receiver with 500 ms head and body timeouts, set up further by `setup`.
async fn start_with(setup: impl FnOnce(&mut Config)) -> (Receiver, mpsc::Receiver<Box<Delivery>>) {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    config.header_timeout = Duration::from_millis(500);
    config.body_timeout = Duration::from_millis(500);
    setup(&mut config);
    let (tx, rx) = mpsc::channel(16);
    (Receiver::start(config, tx).await.unwrap(), rx)
}

/// One keep-alive HTTP/1.1 connection through hyper's client; the handle completes when the
/// server closes it.
async fn keep_alive(
    addr: std::net::SocketAddr,
) -> (
    hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    tokio::task::JoinHandle<()>,
) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    let closed = tokio::spawn(async move {
        let _ = conn.await;
    });
    (send, closed)
}

/// An HTTP/2 connection through hyper's client over `io`; the handle completes when the
/// server closes it.
async fn http2<T>(
    io: T,
) -> (
    hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>,
    tokio::task::JoinHandle<()>,
)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(io),
    )
    .await
    .unwrap();
    let closed = tokio::spawn(async move {
        let _ = conn.await;
    });
    (send, closed)
}

/// A connection to `addr` that has sent `bytes` (a request begun, or a whole one) and is left
/// open for the test to go on with.
async fn begun(addr: std::net::SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

async fn next(rx: &mut mpsc::Receiver<Box<Delivery>>) -> Delivery {
    *tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .unwrap()
        .unwrap()
}

/// A signed delivery sent now is answered 200 and is the next one recorded: the server keeps
/// serving whatever the hostile connections beside it are doing.
async fn serves_next(
    addr: std::net::SocketAddr,
    rx: &mut mpsc::Receiver<Box<Delivery>>,
    msg_id: &str,
) {
    let body = b"{}";
    assert_eq!(
        post(addr, "/", &signed(SECRET, msg_id, body), body)
            .await
            .status,
        200
    );
    assert_eq!(next(rx).await.msg_id.as_deref(), Some(msg_id));
}

#[tokio::test]
async fn a_slowloris_head_is_cut_off_and_does_not_block_others() {
    let (server, mut rx) = start(1 << 20).await;
    let addr = server.local_addr();
    let mut slow = begun(addr, b"POST / HTTP/1.1\r\nhost: x\r\nx-slow: ").await;
    // Meanwhile a real delivery is served at once.
    serves_next(addr, &mut rx, "msg_ok").await;
    // The stalled head is dropped after the header timeout.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the stalled connection was closed by the server"
    );
}

#[tokio::test]
async fn any_connection_limit_starts_a_receiver() {
    // `--max-connections 18446744073709551615` panicked in tokio's semaphore at start-up.
    for max in [1, usize::MAX] {
        let (server, mut rx) = start_with(|c| c.max_connections = max).await;
        serves_next(server.local_addr(), &mut rx, "msg_limit").await;
    }
}

#[tokio::test]
async fn a_head_that_stalls_is_recorded_with_what_came_and_silence_is_not() {
    // A longer head timeout than the others here, so that "dated when the head began" has
    // a second of margin on a busy machine.
    let (server, mut rx) = start_with(|c| c.header_timeout = Duration::from_secs(2)).await;
    let addr = server.local_addr();
    // Said nothing, and began HTTP/2's preface: nothing to record.
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut partial = begun(addr, b"PRI * HTTP/2").await;
    let head = b"POST /half?x=1 HTTP/1.1\r\nhost: x\r\nsvix-id: msg_stalled\r\nx-slow: ";
    let mut slow = begun(addr, head).await;
    for conn in [&mut slow, &mut silent, &mut partial] {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut rest));
        assert!(closed.await.is_ok(), "closed after the head timeout");
        assert!(rest.is_empty(), "nothing answered: {rest:?}");
    }
    let d = next(&mut rx).await;
    assert_eq!(d.method, "POST");
    assert_eq!(d.path, "/half?x=1");
    assert_eq!(
        d.msg_id.as_deref(),
        Some("msg_stalled"),
        "from the lines that came whole"
    );
    assert_eq!(d.response.status, 0, "nothing was answered");
    // Dated when the head began to come (the watchdog closes 2 s or more after it), not
    // when it was given up on.
    let closed_at = time::OffsetDateTime::now_utc();
    assert!(
        d.received_at < closed_at - Duration::from_secs(1),
        "{} recorded, {} closed",
        d.received_at,
        closed_at
    );
    assert_eq!(
        d.verdict,
        Verdict::Unchecked(Unchecked::HeadIncomplete {
            received: head.len() as u64,
            ms: 2000
        })
    );
    assert_eq!(
        d.verdict.reason().as_deref(),
        Some(
            format!("request head incomplete: the client sent at least {} B of it, then not the rest within 2 s; the connection was closed without an answer", head.len()).as_str()
        )
    );
    assert!(d.verdict.failure_code().is_none());
    // The next one recorded is the next delivery: the silent ones left nothing.
    serves_next(addr, &mut rx, "msg_after_stall").await;
}

#[tokio::test]
async fn silent_connections_and_a_stalled_http2_preface_are_closed_after_the_header_timeout() {
    let (server, mut rx) = start(1 << 20).await;
    let addr = server.local_addr();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The first bytes of HTTP/2's preface, then nothing: the server cannot yet tell which
    // protocol this is, and must not wait for ever.
    let mut partial = begun(addr, b"PRI * HTTP/2").await;
    serves_next(addr, &mut rx, "msg_meanwhile").await;
    for (what, conn) in [("silent", &mut silent), ("partial preface", &mut partial)] {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut rest));
        assert!(closed.await.is_ok(), "the {what} connection was closed");
        assert!(rest.is_empty(), "{what}: {rest:?}");
    }
}

#[tokio::test]
async fn a_busy_keep_alive_connection_outlives_the_head_timeout_and_is_closed_once_idle() {
    let (server, mut rx) = start(1 << 20).await;
    let (mut send, closed) = keep_alive(server.local_addr()).await;
    // Two seconds of requests 150 ms apart, four times the 500 ms head timeout: each head comes
    // well within it of the previous answer, so the connection is never idle long enough.
    for i in 0..14 {
        let id = format!("msg_busy_{i}");
        let req = signed_request("/", Box::leak(id.clone().into_boxed_str()), b"{}");
        assert_ok(
            send.send_request(req)
                .await
                .expect("the connection is still open"),
        )
        .await;
        assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some(id.as_str()));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(!closed.is_finished(), "closed while in use");
    // Now idle: closed once a full head timeout has passed since the last answer, not before.
    let idle_from = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the idle connection was closed")
        .unwrap();
    assert!(
        idle_from.elapsed() >= Duration::from_millis(350),
        "closed after {:?} idle (150 ms of it before idle_from)",
        idle_from.elapsed()
    );
}

#[tokio::test]
async fn stopping_closes_idle_keep_alive_connections_at_once() {
    // A tunnel's agent keeps its connections open between deliveries: stopping closes them
    // rather than waiting out the drain for each. (The idle timeout, the head timeout, is
    // longer than the test.)
    let (server, mut rx) = start_with(|c| c.header_timeout = Duration::from_secs(60)).await;
    let addr = server.local_addr();
    let body = b"{}";
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = post_bytes("/", &signed(SECRET, "msg_kept", body), body, false);
    s.write_all(&request).await.unwrap();
    let mut answer = [0u8; 1024];
    let n = s.read(&mut answer).await.unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_kept"));
    // Idle and kept alive; now the receiver stops.
    server.shutdown().await;
    let closed = tokio::time::timeout(Duration::from_secs(5), s.read(&mut answer)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "closed by the server: {closed:?}"
    );
}

#[tokio::test]
async fn stopping_records_a_head_or_body_still_on_its_way() {
    // Both would have been recorded at their timeouts; stopping comes first and must not lose
    // them (the timeouts are longer than the test).
    let (server, mut rx) = start_with(|c| {
        c.header_timeout = Duration::from_secs(60);
        c.body_timeout = Duration::from_secs(60);
    })
    .await;
    let addr = server.local_addr();
    let _head = begun(addr, b"POST /half-head HTTP/1.1\r\nhost: x\r\n").await;
    let _body = begun(
        addr,
        b"POST /half-body HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"a\":",
    )
    .await;
    // Both are being read before the stop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.shutdown().await;
    let mut got = [next(&mut rx).await, next(&mut rx).await];
    got.sort_by(|a, b| a.path.cmp(&b.path));
    let [b, h] = got;
    assert_eq!(b.path, "/half-body");
    assert_eq!(&b.body[..], b"{\"a\":");
    assert!(
        matches!(&b.verdict, Verdict::Unchecked(Unchecked::BodyIncomplete { error, received: 5 })
            if error == "hookscope stopped before it came whole"),
        "{:?}",
        b.verdict
    );
    // Told to try again, as for anything hookscope could not take while stopping.
    assert_eq!(b.response.status, 503);
    assert_eq!(h.path, "/half-head");
    assert!(
        matches!(&h.verdict, Verdict::Unchecked(Unchecked::HeadCutShort { error, .. })
            if error == "hookscope stopped before it came whole"),
        "{:?}",
        h.verdict
    );
    assert_eq!(h.response.status, 0);
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_too() {
    // hyper's HTTP/2 server has no idle limit of its own; the same watchdog covers it.
    let (server, mut rx) = start(1 << 20).await;
    let stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let (mut send, closed) = http2(stream).await;
    let req = signed_request("/h2", "msg_h2_idle", b"{}");
    assert_ok(send.send_request(req).await.unwrap()).await;
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_h2_idle"));
    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .expect("the idle HTTP/2 connection was closed")
        .unwrap();
}

#[tokio::test]
async fn an_answer_slower_than_the_head_timeout_is_not_cut_off() {
    // The sender is told to wait 1.2 s for each answer, past the 500 ms head timeout: a request
    // in flight keeps its connection, and the next request on it is served too.
    let (server, mut rx) = start_with(|config| {
        config.control = hookscope::forward::Control::new(hookscope::forward::RespondMode::Delay(
            Duration::from_millis(1200),
        ));
    })
    .await;
    let (mut send, closed) = keep_alive(server.local_addr()).await;
    for id in ["msg_slow_1", "msg_slow_2"] {
        let asked = std::time::Instant::now();
        let req = signed_request("/", id, b"{}");
        assert_ok(send.send_request(req).await.expect("answered")).await;
        assert!(asked.elapsed() >= Duration::from_millis(1200));
        assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some(id));
    }
    assert!(!closed.is_finished(), "closed with an answer on its way");
}

#[tokio::test]
async fn an_http2_connection_carries_as_many_requests_at_once_as_places_it_takes() {
    // Four places: an HTTP/2 connection takes three (the accept loop holds the fourth for
    // the next connection) and carries three requests at once, each held 3 s by the answer
    // mode; one HTTP/1 connection takes the fourth, and another waits until one is free.
    let mut handles = None;
    let (server, mut rx) = start_with(|config| {
        config.max_connections = 4;
        config.header_timeout = Duration::from_secs(20);
        config.body_timeout = Duration::from_secs(20);
        handles = Some((config.waiting.clone(), config.control.clone()));
    })
    .await;
    let (waiting, control) = handles.unwrap();
    let held = || waiting.now().delay.map_or(0, |(n, _)| n);
    // Until `n` are held, then a moment more, to see that no more come.
    let settled = |n: usize| async move {
        let began = std::time::Instant::now();
        while held() < n && began.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        held()
    };
    let addr = server.local_addr();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, closed) = http2(stream).await;
    // A first request and its answer: the client has the server's settings after it (streams
    // opened before they come are refused, for the client to retry).
    let first = send.send_request(signed_request("/h2", "msg_h2_first", b"{}"));
    assert_ok(first.await.unwrap()).await;
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_h2_first"));
    control.set(hookscope::forward::RespondMode::Delay(Duration::from_secs(
        3,
    )));
    let mut sent = Vec::new();
    for id in ["msg_h2_1", "msg_h2_2", "msg_h2_3", "msg_h2_4", "msg_h2_5"] {
        let mut send = send.clone();
        sent.push(tokio::spawn(async move {
            send.send_request(signed_request("/h2", id, b"{}"))
                .await
                .map(|r| r.status())
        }));
    }
    assert_eq!(settled(3).await, 3, "the other two wait for a stream");
    let body = b"{}";
    let h1 =
        tokio::spawn(async move { post(addr, "/", &signed(SECRET, "msg_h1_a", body), body).await });
    assert_eq!(
        settled(4).await,
        4,
        "one HTTP/1 connection in the last place"
    );
    let mut request =
        String::from("POST / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n");
    for (n, v) in signed(SECRET, "msg_h1_b", body) {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n{}");
    let mut queued = begun(addr, request.as_bytes()).await;
    let mut answer = Vec::new();
    let early = tokio::time::timeout(Duration::from_millis(500), queued.read_to_end(&mut answer));
    assert!(
        early.await.is_err() && answer.is_empty(),
        "no place for it yet"
    );
    for s in sent {
        assert_eq!(s.await.unwrap().unwrap(), 200);
    }
    assert_eq!(h1.await.unwrap().status, 200);
    drop(send);
    tokio::time::timeout(Duration::from_secs(10), closed)
        .await
        .unwrap()
        .unwrap();
    // The HTTP/2 connection's places given back, the waiting one is served.
    tokio::time::timeout(Duration::from_secs(10), queued.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let mut ids: Vec<String> = Vec::new();
    for _ in 0..7 {
        ids.push(next(&mut rx).await.msg_id.unwrap());
    }
    ids.sort();
    assert_eq!(
        ids,
        [
            "msg_h1_a", "msg_h1_b", "msg_h2_1", "msg_h2_2", "msg_h2_3", "msg_h2_4", "msg_h2_5"
        ]
    );
}

/// A stream whose first write sends only a few bytes and whose next one waits: an HTTP/2
/// client whose preface arrives in pieces.
struct Trickle {
    inner: tokio::net::TcpStream,
    first_done: bool,
    pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl tokio::io::AsyncWrite for Trickle {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::future::Future as _;
        let this = &mut *self;
        if !this.first_done {
            let n = std::task::ready!(
                std::pin::Pin::new(&mut this.inner).poll_write(cx, &buf[..buf.len().min(7)])
            )?;
            this.first_done = true;
            this.pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(100))));
            return std::task::Poll::Ready(Ok(n));
        }
        if let Some(pause) = &mut this.pause {
            std::task::ready!(pause.as_mut().poll(cx));
            this.pause = None;
        }
        std::pin::Pin::new(&mut this.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl tokio::io::AsyncRead for Trickle {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[tokio::test]
async fn an_http2_preface_that_arrives_in_pieces_is_still_http2() {
    let (server, mut rx) = start(1 << 20).await;
    let tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    let io = Trickle {
        inner: tcp,
        first_done: false,
        pause: None,
    };
    let (mut send, _closed) = http2(io).await;
    let req = signed_request("/pieces", "msg_pieces", b"{\"pieces\":true}");
    assert_ok(send.send_request(req).await.unwrap()).await;
    let d = next(&mut rx).await;
    assert_eq!(d.version, "HTTP/2.0");
    assert_eq!(d.verdict.verified(), Some(true));
}

#[tokio::test]
async fn a_megabyte_header_or_thousands_of_headers_are_refused_and_recorded_and_the_server_keeps_serving()
 {
    let (server, mut rx) = start(1 << 20).await;
    let addr = server.local_addr();
    let huge_value = format!(
        "POST / HTTP/1.1\r\nhost: x\r\nx-huge: {}\r\n",
        "a".repeat(1 << 20)
    );
    let thousands = format!(
        "POST / HTTP/1.1\r\nhost: x\r\n{}",
        (0..5000)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    // Few enough to be seen whole in the bytes kept of a connection's opening (150, and the
    // content-length written after each head).
    let counted = format!(
        "POST / HTTP/1.1\r\n{}",
        (0..150)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    for (head, why) in [
        (
            huge_value,
            "the request head is too large: over 408 KiB or more than 100 headers",
        ),
        (thousands, "more than 100 headers (at least "),
        (
            counted,
            "more than 100 headers (151 sent); hookscope reads up to 100",
        ),
    ] {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut read, mut write) = s.split();
        // The server may stop reading and close before all of it is written: write and read
        // at once, and take either a 431 or a closed connection (a reset can overtake the
        // answer), but never a verified delivery and never a stalled server.
        let writing = async {
            let _ = write.write_all(head.as_bytes()).await;
            let _ = write.write_all(b"content-length: 2\r\n\r\n{}").await;
        };
        let mut answer = Vec::new();
        let reading = tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut answer));
        let (_, read) = tokio::join!(writing, reading);
        assert!(read.is_ok(), "the server ended the connection");
        assert!(
            answer.is_empty() || answer.starts_with(b"HTTP/1.1 431"),
            "{}",
            String::from_utf8_lossy(&answer[..answer.len().min(200)])
        );
        // Refused, but recorded, with the reason.
        let d = next(&mut rx).await;
        assert_eq!((d.method.as_ref(), d.path.as_str()), ("POST", "/"));
        assert_eq!(d.response.status, 431);
        let Verdict::Unchecked(Unchecked::Malformed { reason }) = &d.verdict else {
            panic!("{:?}", d.verdict)
        };
        assert!(reason.starts_with(why), "{reason}");
    }
    serves_next(addr, &mut rx, "msg_after").await;
}

/// Sends `bytes` on a new connection and reads until the server closes it.
async fn exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = begun(addr, bytes).await;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_head_hyper_refuses_is_answered_by_it_and_recorded_with_the_line_at_fault() {
    let (server, mut rx) = start(1 << 20).await;
    let addr = server.local_addr();
    let cases: [(&[u8], &str, &str); 5] = [
        (
            b"POST /evil?x=1 HTTP/1.1\r\nhost: x\r\nsvix-id: msg\x1b]52;c;aGk=\x07\r\ncontent-length: 2\r\n\r\n{}",
            "HTTP/1.1 400",
            "the header `svix-id` holds byte 0x1b, which HTTP forbids in a value",
        ),
        (
            b"POST /hook HTTP/1.1\r\nhost: x\r\nthis is not a header\r\n\r\n",
            "HTTP/1.1 400",
            "line 3 `this is not a header` is not a header: it has no `:`",
        ),
        (
            b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
            "HTTP/1.1 400",
            "invalid content-length parsed: content-length `2`, content-length `3`",
        ),
        (
            b"POST /hook HTTP/2.0\r\nhost: x\r\n\r\n",
            "HTTP/1.1 400",
            "the request line `POST /hook HTTP/2.0` names `HTTP/2.0`",
        ),
        (
            &[b"POST /".as_slice(), &[b'a'; 70_000], b" HTTP/1.1\r\nhost: x\r\n\r\n"].concat(),
            "HTTP/1.1 414",
            "the URI is over 65534 bytes",
        ),
    ];
    for (request, status, why) in cases {
        let answer = exchange(addr, request).await;
        assert!(answer.starts_with(status), "{answer}");
        let d = next(&mut rx).await;
        assert_eq!(
            d.response.status.to_string(),
            status["HTTP/1.1 ".len()..],
            "the record says what hyper answered"
        );
        let Verdict::Unchecked(Unchecked::Malformed { reason }) = &d.verdict else {
            panic!("{:?}", d.verdict)
        };
        assert!(reason.starts_with(why), "{reason}");
        assert_eq!(d.method, "POST");
        assert!(
            d.verdict
                .reason()
                .unwrap()
                .starts_with("malformed request: ")
        );
    }
    serves_next(addr, &mut rx, "msg_after").await;
}

#[tokio::test]
async fn https_sent_to_the_plain_http_port_is_named_as_such() {
    // A tunnel told to reach `https://localhost:8787` opens with a TLS ClientHello.
    let (server, mut rx) = start(1 << 20).await;
    let addr = server.local_addr();
    let hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03q\xcdi\x85\xedL^\x95\x8a";
    assert!(exchange(addr, hello).await.starts_with("HTTP/1.1 400"));
    let d = next(&mut rx).await;
    let why = d.verdict.reason().unwrap();
    assert!(
        why.starts_with("malformed request: a TLS handshake, not HTTP"),
        "{why}"
    );
    assert_eq!(d.target(), "(TLS handshake)", "no bytes shown as a method");
    serves_next(addr, &mut rx, "msg_after").await;
}

#[tokio::test]
async fn a_refused_head_after_a_good_request_is_recorded_once_with_hypers_words() {
    let (server, mut rx) = start(1 << 20).await;
    let addr = server.local_addr();
    let body = b"{}";
    let mut good = String::from("POST /first HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n");
    for (n, v) in signed(SECRET, "msg_first", body) {
        good.push_str(&format!("{n}: {v}\r\n"));
    }
    good.push_str("\r\n{}");
    let bad = "POST /second HTTP/1.1\r\nbad header\r\n\r\n";
    let answer = exchange(addr, format!("{good}{bad}").as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("HTTP/1.1 400"), "{answer}");
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_first"));
    // The connection opened with the first request, so the second's line is not known: hyper's
    // own words, and no request line made up from the first.
    let d = next(&mut rx).await;
    assert_eq!(
        d.verdict.reason().as_deref(),
        Some("malformed request: invalid HTTP header parsed")
    );
    assert_eq!(d.target(), "(request line not seen)");
    assert_eq!(d.response.status, 400);
    serves_next(addr, &mut rx, "msg_after").await;
}

/// A receiver (set up further by `setup`) whose delivery queue holds one, already taken by a
/// delivery `msg_first` that nobody consumes yet: the next answer must wait for room.
async fn with_a_full_queue(
    setup: impl FnOnce(&mut Config),
) -> (Receiver, mpsc::Receiver<Box<Delivery>>) {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    setup(&mut config);
    let (tx, rx) = mpsc::channel(1);
    let server = Receiver::start(config, tx).await.unwrap();
    let body = b"{}";
    let headers = signed(SECRET, "msg_first", body);
    assert_eq!(
        post(server.local_addr(), "/", &headers, body).await.status,
        200
    );
    (server, rx)
}

#[tokio::test]
async fn a_refused_head_waiting_for_a_full_queue_outlives_the_head_timeout() {
    let (server, mut rx) =
        with_a_full_queue(|c| c.header_timeout = Duration::from_millis(300)).await;
    let addr = server.local_addr();
    assert_eq!(
        exchange(addr, b"POST / HTTP/1.1\r\nbad\r\n\r\n")
            .await
            .get(..12),
        Some("HTTP/1.1 400")
    );
    // Several head timeouts later, the refused head's record is still waiting, not dropped.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_first"));
    let d = next(&mut rx).await;
    assert!(
        matches!(d.verdict, Verdict::Unchecked(Unchecked::Malformed { .. })),
        "{:?}",
        d.verdict
    );
}

#[tokio::test]
async fn a_sender_that_hangs_up_while_the_queue_is_full_is_still_recorded() {
    // The consumer (a stuck stdout, a busy inspector) has fallen a whole queue behind: the
    // answer waits for room, the sender gives up meanwhile, and the record must not go with it.
    let (server, mut rx) = with_a_full_queue(|_| {}).await;
    let addr = server.local_addr();
    let body = b"{}";
    // This one's answer waits for room, and its sender hangs up.
    let request = post_bytes("/", &signed(SECRET, "msg_gave_up", body), body, false);
    let s = begun(addr, &request).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(s);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_first"));
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_gave_up"));
}

#[tokio::test]
async fn clients_that_hang_up_are_recorded_with_what_came_and_silence_is_not() {
    let (server, mut rx) = start(1 << 20).await;
    let addr = server.local_addr();
    // Nothing at all; blank lines; half a head, closed; half a head, reset; a whole head and
    // half its body. One at a time, so that the records come in this order.
    let half = b"POST /half HTTP/1.1\r\nhost: x\r\nsvix-id: msg_half\r\nsvix-";
    let cases: [(&[u8], bool); 5] = [
        (b"", false),
        (b"\r\n\r\n", false),
        (half, false),
        (b"POST /reset HTTP/1.1\r\nhost: x\r\n", true),
        (
            b"POST /cut HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"a\":",
            false,
        ),
    ];
    let mut recorded = Vec::new();
    for (bytes, reset) in cases {
        let s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut s = s.into_std().unwrap();
        std::io::Write::write_all(&mut s, bytes).unwrap();
        // Let the server see the bytes before the connection goes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = tokio::net::TcpStream::from_std(s).unwrap();
        if reset {
            s.set_zero_linger().unwrap();
        }
        drop(s);
        if !bytes.trim_ascii().is_empty() {
            recorded.push(next(&mut rx).await);
        }
    }
    let [half_head, reset, cut] = &recorded[..] else {
        unreachable!()
    };
    // A head cut short: what came of it, no answer, not replayable.
    assert_eq!(half_head.path, "/half");
    assert_eq!(half_head.msg_id.as_deref(), Some("msg_half"));
    assert_eq!(half_head.response.status, 0);
    assert_eq!(
        half_head.verdict.reason().as_deref(),
        Some(
            format!(
                "request head incomplete: the client sent at least {} B of it, then the connection ended (closed by the client); nothing was answered",
                half.len()
            )
            .as_str()
        )
    );
    assert_eq!(reset.path, "/reset");
    let Verdict::Unchecked(Unchecked::HeadCutShort { error, .. }) = &reset.verdict else {
        panic!("{:?}", reset.verdict)
    };
    assert!(error.contains("reset"), "{error}");
    // The body cut short is recorded as such, once.
    assert_eq!(cut.path, "/cut");
    assert!(
        matches!(
            cut.verdict,
            Verdict::Unchecked(Unchecked::BodyIncomplete { .. })
        ),
        "{:?}",
        cut.verdict
    );
    // Nothing else was: the next record is the next delivery.
    serves_next(addr, &mut rx, "msg_after").await;
}

#[tokio::test]
async fn a_body_that_never_ends_is_recorded_as_incomplete() {
    let (server, mut rx) = start(1 << 20).await;
    let mut s = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    s.write_all(b"POST /drip HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"drip\":")
        .await
        .unwrap();
    let d = next(&mut rx).await;
    match &d.verdict {
        Verdict::Unchecked(Unchecked::BodyIncomplete { error, received }) => {
            assert_eq!(*received, 8);
            assert!(error.contains("no complete body within"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(&d.body[..], b"{\"drip\":");
    assert_eq!(d.response.status, 400);
}

/// Waits until the receiver's bodies hold `bytes`: the requests under way have been read so far.
async fn until_held(server: &Receiver, bytes: u64) {
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        while server.bodies_held() != bytes {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "bodies held {}, not {bytes}",
        server.bodies_held()
    );
}

#[tokio::test]
async fn bodies_held_at_once_are_bounded_across_connections_and_streams() {
    // --max-body 64 KiB, but 100 KiB for every body at once: without that bound, 1024
    // connections (or one HTTP/2 connection's 200 streams) could each hold --max-body.
    let (server, mut rx) = start_with(|config| {
        config.max_body = 64 * 1024;
        config.body_memory = 100 * 1024;
        config.body_timeout = Duration::from_secs(30);
    })
    .await;
    let addr = server.local_addr();
    // One sender announces 60,000 bytes and sends a few: its share is taken whole at once.
    let held = begun(
        addr,
        b"POST /held HTTP/1.1\r\nhost: x\r\ncontent-length: 60000\r\n\r\n{\"a\":",
    )
    .await;
    until_held(&server, 60_000).await;

    // Another announcing 50,000 finds no room: 503 unread, recorded with why, nothing kept.
    let big: &'static [u8] = vec![b' '; 50_000].leak();
    let reply = post(addr, "/big", &signed(SECRET, "msg_big", big), big).await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.body,
        "too many request bodies held at once: try again later"
    );
    let d = next(&mut rx).await;
    assert_eq!(d.path, "/big");
    assert_eq!(
        d.verdict,
        Verdict::Unchecked(Unchecked::NoRoom {
            limit: 100 * 1024,
            size: 50_000,
            declared: true,
        })
    );
    assert!(d.body.is_empty());
    assert_eq!(d.response.status, 503);
    // A small one still fits beside the held body.
    serves_next(addr, &mut rx, "msg_small").await;

    // A chunked body is counted as it comes: 30,000 fits, 60,000 does not.
    let mut chunked = begun(
        addr,
        b"POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
    )
    .await;
    let chunk = [
        format!("{:x}\r\n", 30_000).into_bytes(),
        vec![b' '; 30_000],
        b"\r\n".to_vec(),
    ]
    .concat();
    chunked.write_all(&chunk).await.unwrap();
    until_held(&server, 90_000).await;
    chunked.write_all(&chunk).await.unwrap();
    let mut answer = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(20), chunked.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parse(&answer[..n]).status, 503);
    let d = next(&mut rx).await;
    assert_eq!(d.path, "/chunked");
    assert_eq!(
        d.verdict,
        Verdict::Unchecked(Unchecked::NoRoom {
            limit: 100 * 1024,
            size: 60_000,
            declared: false,
        })
    );
    assert!(d.body.is_empty(), "what came of a refused body is not kept");
    until_held(&server, 60_000).await;

    // HTTP/2 streams draw on the same memory.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, _closed) = http2(stream).await;
    let resp = send
        .send_request(signed_request("/h2", "msg_h2_big", big))
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert!(matches!(
        next(&mut rx).await.verdict,
        Verdict::Unchecked(Unchecked::NoRoom { .. })
    ));

    // Once the held body's sender hangs up, its share is given back and the same body fits.
    drop(held);
    let cut = next(&mut rx).await;
    assert_eq!(cut.path, "/held");
    until_held(&server, 0).await;
    assert_ok(
        send.send_request(signed_request("/h2", "msg_h2_big_again", big))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        next(&mut rx).await.msg_id.as_deref(),
        Some("msg_h2_big_again")
    );
    until_held(&server, 0).await;
}

#[tokio::test]
async fn bodies_waiting_for_a_consumer_that_counts_them_are_bounded_too() {
    // The inspector keeps bodies; while it takes nothing (an editor open on a delivery), what
    // waits for it counts against the same memory, until it gives each back as it takes it.
    let (server, mut rx) = start_with(|config| {
        config.max_body = 64 * 1024;
        config.body_memory = 100 * 1024;
        config.queued_bodies_count = true;
    })
    .await;
    let addr = server.local_addr();
    let first: &'static [u8] = vec![b' '; 60_000].leak();
    let second: &'static [u8] = vec![b' '; 50_000].leak();
    let reply = post(addr, "/first", &signed(SECRET, "msg_first", first), first).await;
    assert_eq!(reply.status, 200);
    // Answered, and waiting in the queue: still held.
    until_held(&server, 60_000).await;
    let reply = post(
        addr,
        "/second",
        &signed(SECRET, "msg_second", second),
        second,
    )
    .await;
    assert_eq!(reply.status, 503);
    // The consumer takes both (the second without a body) and gives back what it took.
    for _ in 0..2 {
        let d = next(&mut rx).await;
        server.bodies().give_back(d.body.len() as u64);
    }
    until_held(&server, 0).await;
    let reply = post(
        addr,
        "/second",
        &signed(SECRET, "msg_second", second),
        second,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(next(&mut rx).await.body.len(), 50_000);
}

#[tokio::test]
async fn absurd_signature_headers_get_a_clear_verdict() {
    let (server, mut rx) = start(1 << 20).await;
    let body = b"{}";
    let mut headers = signed(SECRET, "msg_absurd", body);
    // Two thousand entries of an unknown version, then one absurdly long v1, plus a duplicate.
    let huge = format!("{}v1,{}", "v9,x ".repeat(2000), "A".repeat(20_000));
    headers[2].1 = huge;
    headers.push(("svix-signature", "v1,AAAA".into()));
    headers.push(("x-utf8", "Zoë \u{202e} 🎉".into()));
    let reply = post(server.local_addr(), "/", &headers, body).await;
    assert_eq!(reply.status, 401);
    let d = next(&mut rx).await;
    let Verdict::Failed(f) = &d.verdict else {
        panic!("{:?}", d.verdict)
    };
    let all = format!("{} | {}", f.kind, f.hints.join(" | "));
    assert!(
        all.starts_with("no signature matched: 1 signature tried against 1 secret"),
        "{all}"
    );
    assert!(
        all.contains("signature entry 2001 decodes to 15000 bytes"),
        "{all}"
    );
    assert!(
        all.contains("the svix-signature header came 2 times"),
        "{all}"
    );
    assert!(d.headers.iter().any(|(n, _)| n == "x-utf8"));
}

fn app() -> App {
    let mut app = App::new(
        Info {
            listen: "http://127.0.0.1:8787".into(),
            secrets: vec![],
            tunnel: None,
            forward: None,
            files_short: None,
        },
        true,
        time::UtcOffset::UTC,
    );
    app.update(Action::Resize(120, 40));
    app
}

fn open_body(app: &mut App) {
    for code in [KeyCode::Enter, KeyCode::Tab, KeyCode::Tab] {
        app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| hookscope::ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

#[tokio::test]
async fn a_50_mib_single_line_json_is_received_and_shown_raw_with_the_reason() {
    let (server, mut rx) = start(64 << 20).await;
    let body = format!("{{\"type\":\"big\",\"blob\":\"{}\"}}", "x".repeat(50 << 20)).into_bytes();
    let reply = post(
        server.local_addr(),
        "/big",
        &signed(SECRET, "msg_big", &body),
        &body,
    )
    .await;
    assert_eq!(reply.status, 200);
    let d = next(&mut rx).await;
    assert_eq!(d.body.len(), body.len());
    assert_eq!(d.verdict.verified(), Some(true));

    let mut app = app();
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    open_body(&mut app);
    let view = app.body_view().expect("prepared once");
    assert_eq!(view.lines.len(), 1);
    assert!(
        view.lines[0].text.len() < 10_000,
        "the line is cut, not kept whole"
    );
    let s = screen(&app);
    assert!(
        s.contains("shown raw because it is 50 MiB (pretty-printing stops at 8 MiB)"),
        "{s}"
    );
}

#[test]
fn ten_thousand_levels_of_json_are_shown_raw_without_recursing() {
    let mut b = hookscope::testing::Builder::new(&[SECRET], time::OffsetDateTime::now_utc());
    let body = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let d = b.signed(SECRET, "msg_deep", body.as_bytes());
    let mut app = app();
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    open_body(&mut app);
    let s = screen(&app);
    assert!(s.contains("nests 10000 levels deep"), "{s}");
}
