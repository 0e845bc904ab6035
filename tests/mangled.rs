//! Mangled connections, the stable counterpart of the `http` fuzz target (which needs nightly
//! and so does not run in CI): a valid signed request (HTTP/1.1, alone or a pipelined pair;
//! or HTTP/2 with prior knowledge, as hyper's client writes it), cut, flipped, spliced and
//! repeated at random, sent as a client's whole connection. Each gets an answer
//! or a closed connection, what is recorded can be shown, no task of the receiver panics, and
//! the receiver keeps serving.
//!
//! Its own test binary: the panic hook below is process-wide.

mod common;

use common::*;
use hookscope::delivery::Delivery;
use hookscope::receiver::{Config, Receiver};
use hookscope::sanitize::is_unsafe;
use hookscope::verify::{Secret, Verifier};
use proptest::prelude::*;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;

/// Panics on the receiver's runtime threads, which tokio would otherwise swallow with the task.
static RECEIVER_PANICS: AtomicUsize = AtomicUsize::new(0);

/// The runtime's worker threads, named so the hook can tell them from the test's.
const WORKER: &str = "mangled-receiver";

/// How a request is broken.
#[derive(Debug, Clone)]
enum Edit {
    /// Keep only the first `at` bytes (of the bytes so far, modulo their length).
    Cut(usize),
    /// Replace one byte.
    Flip(usize, u8),
    /// Insert bytes.
    Splice(usize, Vec<u8>),
    /// Repeat a stretch in place.
    Repeat(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes an HTTP parser cares about, more often than chance would give them.
    let special = prop::sample::select(b"\r\n :\0\t,;=\"\\\x7f\xff0123456789-".to_vec());
    let byte = prop_oneof![any::<u8>(), special];
    prop_oneof![
        any::<usize>().prop_map(Edit::Cut),
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Flip(at, b)),
        (any::<usize>(), prop::collection::vec(byte, 1..24))
            .prop_map(|(at, b)| Edit::Splice(at, b)),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Edit::Repeat(at, len)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    if bytes.is_empty() {
        return;
    }
    match edit {
        Edit::Cut(at) => bytes.truncate(at % bytes.len()),
        Edit::Flip(at, b) => {
            let at = at % bytes.len();
            bytes[at] = *b;
        }
        Edit::Splice(at, b) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Edit::Repeat(at, len) => {
            let at = at % bytes.len();
            let end = (at + len).min(bytes.len());
            let stretch = bytes[at..end].to_vec();
            bytes.splice(end..end, stretch);
        }
    }
}

/// What hyper's HTTP/2 client writes for one signed POST with prior knowledge (the preface,
/// its settings, the request's headers and data), captured once through an in-memory pipe.
fn http2_request(body: &'static [u8]) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, mut server) = tokio::io::duplex(1 << 20);
        let (mut send, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(client),
        )
        .await
        .expect("handshake");
        tokio::spawn(conn);
        tokio::spawn(async move {
            let _ = send
                .send_request(signed_request("http://hookscope/webhooks", "msg_h2", body))
                .await;
        });
        // Nobody answers: what the client sent before waiting on the server is the request.
        let mut wrote = Vec::new();
        let mut chunk = [0u8; 4096];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(300), server.read(&mut chunk)).await
        {
            if n == 0 {
                break;
            }
            wrote.extend_from_slice(&chunk[..n]);
        }
        assert!(wrote.starts_with(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        assert!(
            wrote.len() > 24 + body.len(),
            "no request frames: {wrote:?}"
        );
        wrote
    })
}

/// The captured HTTP/2 request every HTTP/2 case starts from.
fn h2_request() -> &'static Vec<u8> {
    static REQUEST: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    REQUEST.get_or_init(|| http2_request(b"{\"type\":\"h2\"}"))
}

/// A valid signed POST, as the provider sends it.
fn request(id: &str, body: &[u8], chunked: bool) -> Vec<u8> {
    let mut head = String::from("POST /webhooks HTTP/1.1\r\nhost: hookscope\r\n");
    for (n, v) in signed(SECRET, id, body) {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let mut out;
    if chunked {
        head.push_str("transfer-encoding: chunked\r\n\r\n");
        out = head.into_bytes();
        for part in body.chunks(7) {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        out = head.into_bytes();
        out.extend_from_slice(body);
    }
    out
}

struct Harness {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    /// What the receiver recorded, as the inspector and headless output get it.
    deliveries: std::sync::Mutex<mpsc::Receiver<Box<Delivery>>>,
    _receiver: Receiver,
}

/// The one receiver every case of this binary talks to.
fn shared() -> &'static Harness {
    static HARNESS: std::sync::OnceLock<Harness> = std::sync::OnceLock::new();
    HARNESS.get_or_init(harness)
}

fn harness() -> Harness {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(WORKER) {
            RECEIVER_PANICS.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(WORKER)
        .enable_all()
        .build()
        .expect("runtime");
    let (receiver, rx) = rt.block_on(async {
        let verifier = Verifier::new(vec![Secret::parse(SECRET).expect("secret")], 300);
        let mut config = Config::new("127.0.0.1:0".parse().expect("addr"), verifier);
        config.header_timeout = Duration::from_millis(300);
        config.body_timeout = Duration::from_millis(300);
        config.max_body = 4096;
        let (tx, rx) = mpsc::channel(4096);
        (Receiver::start(config, tx).await.expect("receiver"), rx)
    });
    Harness {
        addr: receiver.local_addr(),
        rt,
        deliveries: std::sync::Mutex::new(rx),
        _receiver: receiver,
    }
}

/// The whole connection: `bytes`, then the client's end of writing; what came back.
async fn converse(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before it has read everything (413, a bad head).
    let _ = stream.write_all(bytes).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer));
    assert!(
        read.await.is_ok(),
        "no answer and no close within 10 s; got {:?}",
        String::from_utf8_lossy(&answer)
    );
    answer
}

#[test]
fn the_captured_http2_request_is_a_verified_delivery_as_sent() {
    // Otherwise the HTTP/2 cases below would mangle something the receiver never accepted.
    let h = shared();
    // Held from before the request, so the cases running beside this test cannot take its
    // delivery off the queue first.
    let mut rx = h.deliveries.lock().expect("lock");
    let found = h.rt.block_on(async {
        // The connection stays open: an HTTP/2 server may drop a stream whose connection
        // ends before it has dispatched it, which the mangled cases allow and this one does not.
        let mut stream = tokio::net::TcpStream::connect(h.addr)
            .await
            .expect("connect");
        stream.write_all(h2_request()).await.expect("write");
        loop {
            let d = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("recorded within 10 s")
                .expect("the queue is open");
            if d.msg_id.as_deref() == Some("msg_h2") {
                break d;
            }
        }
    });
    assert_eq!(found.version, "HTTP/2.0");
    assert_eq!(found.verdict.verified(), Some(true), "{:?}", found.verdict);
    assert_eq!(found.event_type.as_deref(), Some("h2"));
}

/// After a case: everything recorded can be shown (its line reaches a terminal with nothing in
/// it that could drive one), no task of the receiver panicked, and it still serves a clean
/// delivery.
fn still_sound(h: &Harness) -> Result<(), TestCaseError> {
    let mut rx = h.deliveries.lock().expect("lock");
    while let Ok(d) = rx.try_recv() {
        let line = hookscope::headless::human_line(&d);
        prop_assert!(!line.chars().any(is_unsafe), "{line:?}");
    }
    drop(rx);
    prop_assert_eq!(
        RECEIVER_PANICS.load(Ordering::SeqCst),
        0,
        "a receiver task panicked"
    );
    let ping = b"{\"type\":\"ping\"}";
    let reply =
        h.rt.block_on(post(h.addr, "/", &signed(SECRET, "msg_clean", ping), ping));
    prop_assert_eq!(reply.status, 200);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 600,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_mangled_http2_connection_gets_an_answer_or_a_close_and_the_receiver_keeps_serving(
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let h = shared();
        let mut bytes = h2_request().clone();
        for e in &edits {
            apply(&mut bytes, e);
        }
        // HTTP/2 answers are binary frames: only that one comes, or a close, is checked here.
        h.rt.block_on(converse(h.addr, &bytes));
        still_sound(h)?;
    }

    #[test]
    fn a_mangled_connection_gets_an_answer_or_a_close_and_the_receiver_keeps_serving(
        body in prop::collection::vec(any::<u8>(), 0..300),
        chunked in any::<bool>(),
        pipelined in any::<bool>(),
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let h = shared();
        let mut bytes = request("msg_mangled", &body, chunked);
        if pipelined {
            bytes.extend(request("msg_second", b"{\"type\":\"x\"}", false));
        }
        for e in &edits {
            apply(&mut bytes, e);
        }

        let answer = h.rt.block_on(converse(h.addr, &bytes));
        // Whatever came back is HTTP/1.x answers, never a half-written one.
        if !answer.is_empty() {
            prop_assert!(answer.starts_with(b"HTTP/1."), "{:?}", String::from_utf8_lossy(&answer));
            prop_assert!(
                answer.windows(4).any(|w| w == b"\r\n\r\n"),
                "{:?}",
                String::from_utf8_lossy(&answer)
            );
        }
        still_sound(h)?;
    }
}
