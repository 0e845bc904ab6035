//! The receiver over a real socket: answers, recording, limits and the delivery channel.

mod common;

use common::*;
use hookscope::delivery::Delivery;
use hookscope::receiver::{Config, Receiver};
use hookscope::verify::{Secret, Unchecked, Verdict, Verifier};
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;

async fn start(
    secrets: &[&str],
    max_body: u64,
    queue: usize,
) -> (Receiver, mpsc::Receiver<Box<Delivery>>) {
    let verifier = Verifier::new(
        secrets.iter().map(|s| Secret::parse(s).unwrap()).collect(),
        300,
    );
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    config.max_body = max_body;
    config.body_timeout = Duration::from_secs(3);
    let (tx, rx) = mpsc::channel(queue);
    (Receiver::start(config, tx).await.expect("bind"), rx)
}

async fn next(rx: &mut mpsc::Receiver<Box<Delivery>>) -> Delivery {
    *tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery within 10 s")
        .expect("channel open")
}

#[tokio::test]
async fn verified_delivery_is_answered_200_and_recorded_byte_for_byte() {
    let (rx_server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let addr = rx_server.local_addr();
    // Deliberately odd spacing and key order: the raw bytes must survive untouched.
    let body = br#"{ "type":"customer.created",  "id":"evt_1", "data":{"n":1.50}}"#;
    let mut headers = signed(SECRET, "msg_1", body);
    headers.insert(0, ("x-first", "1".into()));
    headers.push(("x-last", "2".into()));
    let reply = post(addr, "/hooks/in?src=test", &headers, body).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    assert!(
        reply
            .headers
            .contains(&("content-type".into(), "text/plain; charset=utf-8".into())),
        "{:?}",
        reply.headers
    );

    let d = next(&mut rx).await;
    assert_eq!(&d.body[..], &body[..]);
    assert_eq!(d.method, "POST");
    assert_eq!(d.path, "/hooks/in?src=test");
    assert_eq!(d.msg_id.as_deref(), Some("msg_1"));
    assert_eq!(d.event_id.as_deref(), Some("evt_1"));
    assert_eq!(d.event_type.as_deref(), Some("customer.created"));
    assert_eq!(d.response.status, 200);
    assert!(d.remote.unwrap().ip().is_loopback());
    assert!(matches!(&d.verdict, Verdict::Verified(v) if &*v.secret == "whsec_MfKQ…aSw"));
    let names: Vec<&str> = d.headers.iter().map(|(n, _)| n.as_str()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(
        pos("x-first") < pos("svix-id") && pos("svix-signature") < pos("x-last"),
        "{names:?}"
    );
}

#[tokio::test]
async fn rejected_delivery_is_answered_401_and_says_why() {
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let body = b"{\"type\":\"a\"}";
    let reply = post(
        server.local_addr(),
        "/",
        &signed(OTHER_SECRET, "msg_2", body),
        body,
    )
    .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (401, "invalid signature")
    );
    let d = next(&mut rx).await;
    assert_eq!(d.verdict.failure_code(), Some("bad_signature"));
    assert_eq!(d.response.status, 401);
}

#[tokio::test]
async fn non_post_gets_405_and_is_recorded() {
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let reply = raw(
        server.local_addr(),
        b"GET /favicon.ico HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 405);
    assert!(reply.headers.contains(&("allow".into(), "POST".into())));
    let d = next(&mut rx).await;
    assert_eq!(d.method, "GET");
    assert!(matches!(
        d.verdict,
        Verdict::Unchecked(Unchecked::NotPost { .. })
    ));
}

#[tokio::test]
async fn without_a_secret_every_post_is_200_unverified() {
    let (server, mut rx) = start(&[], 1 << 20, 16).await;
    let reply = post(server.local_addr(), "/", &[], b"hello").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    let d = next(&mut rx).await;
    assert_eq!(d.verdict, Verdict::Unchecked(Unchecked::NoSecret));
    assert_eq!(d.verdict.verified(), None);
}

#[tokio::test]
async fn a_sender_that_sends_its_whole_oversized_body_still_reads_the_413() {
    // Most clients write the body before reading an answer. Closed under their writes, the
    // connection is reset and the 413 lost: the sender sees a broken pipe, not why. Refused
    // as announced (content-length) and once the limit is crossed (chunked), alike.
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let size = 8 << 20;
    let part = vec![b'a'; 64 << 10];
    for chunked in [false, true] {
        let stream = tokio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        let (mut read, mut write) = stream.into_split();
        let (head, frame, end) = if chunked {
            let frame = [format!("{:x}\r\n", part.len()).as_bytes(), &part, b"\r\n"].concat();
            let head = "POST /big HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n";
            (head.to_string(), frame, &b"0\r\n\r\n"[..])
        } else {
            let head = format!("POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: {size}\r\n\r\n");
            (head, part.clone(), &b""[..])
        };
        write.write_all(head.as_bytes()).await.unwrap();
        // The whole body, as such a client does, before it reads anything.
        let mut sent = 0;
        while sent < size {
            if write.write_all(&frame).await.is_err() {
                break;
            }
            sent += part.len();
        }
        let ended = write.write_all(end).await.is_ok();
        assert!(
            sent == size && ended,
            "chunked {chunked}: the connection was closed under the body's writes"
        );
        // Read up to the answer's head (the connection may then be kept alive: all of the
        // body was read).
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match tokio::io::AsyncReadExt::read(&mut read, &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
        assert!(
            answer.starts_with(b"HTTP/1.1 413"),
            "chunked {chunked}: {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(80)])
        );
        assert!(matches!(
            next(&mut rx).await.verdict,
            Verdict::Unchecked(Unchecked::BodyTooLarge { .. })
        ));
    }
}

#[tokio::test]
async fn oversized_bodies_get_413_are_recorded_and_the_server_keeps_serving() {
    let (server, mut rx) = start(&[SECRET], 1024, 16).await;
    let addr = server.local_addr();

    // Announced too large: refused before reading.
    let reply = raw(
        addr,
        b"POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: 999999999\r\nx-trace: 7\r\n\r\n",
    )
    .await;
    assert_eq!(reply.status, 413);
    let d = next(&mut rx).await;
    assert_eq!(d.body_size, 999_999_999);
    assert!(d.body.is_empty());
    assert!(d.headers.iter().any(|(n, v)| n == "x-trace" && v == b"7"));
    assert!(matches!(
        d.verdict,
        Verdict::Unchecked(Unchecked::BodyTooLarge { declared: true, .. })
    ));

    // Chunked, no length: refused once the limit is crossed.
    let mut req = b"POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    for _ in 0..3 {
        req.extend_from_slice(b"200\r\n");
        req.extend_from_slice(&[b'a'; 0x200]);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let reply = raw(addr, &req).await;
    assert_eq!(reply.status, 413);
    let d = next(&mut rx).await;
    assert!(
        matches!(
            d.verdict,
            Verdict::Unchecked(Unchecked::BodyTooLarge {
                declared: false,
                size: 1536,
                ..
            })
        ),
        "{:?}",
        d.verdict
    );

    // And it still serves.
    let body = b"{}";
    let reply = post(addr, "/", &signed(SECRET, "msg_after", body), body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_after"));
}

#[tokio::test]
async fn chunked_and_non_utf8_bodies_verify() {
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let body: &[u8] = b"{\"bin\":\"\xff\xfe\"}";
    let mut req =
        b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n"
            .to_vec();
    for (n, v) in signed(SECRET, "msg_bin", body) {
        req.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    for chunk in body.chunks(5) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw(server.local_addr(), &req).await.status, 200);
    let d = next(&mut rx).await;
    assert_eq!(&d.body[..], body);
    assert_eq!(d.verdict.verified(), Some(true));
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_body_is_recorded_as_incomplete() {
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let addr = server.local_addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /cut HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"partial\":")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    drop(stream);
    let d = next(&mut rx).await;
    assert_eq!(d.path, "/cut");
    assert!(
        matches!(
            d.verdict,
            Verdict::Unchecked(Unchecked::BodyIncomplete { received: 11, ref error })
                if error == "closed by the client"
        ),
        "{:?}",
        d.verdict
    );
    // What came is kept: what a proxy let through is often the clue to why.
    assert_eq!(&d.body[..], b"{\"partial\":");
    assert_eq!(d.body_size, 11);
    // A chunked body cut short between chunks, alike.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /chunks HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    drop(stream);
    let d = next(&mut rx).await;
    assert_eq!((d.path.as_str(), &d.body[..]), ("/chunks", &b"{\"a\""[..]));
    assert!(
        matches!(&d.verdict, Verdict::Unchecked(Unchecked::BodyIncomplete { received: 4, error }) if error == "closed by the client"),
        "{:?}",
        d.verdict
    );
    // The server is unaffected.
    assert_eq!(post(addr, "/", &[], b"{}").await.status, 401);
}

#[tokio::test]
async fn a_slow_consumer_delays_answers_but_loses_nothing() {
    // A queue of 2 and nobody reading: the third request waits for room instead of being dropped.
    let (server, mut rx) = start(&[SECRET], 1 << 20, 2).await;
    let addr = server.local_addr();
    let stats = server.stats();
    let mut sends = Vec::new();
    for i in 0..6 {
        sends.push(tokio::spawn(async move {
            let body = format!("{{\"n\":{i}}}");
            post(
                addr,
                "/",
                &signed(SECRET, &format!("msg_{i}"), body.as_bytes()),
                body.as_bytes(),
            )
            .await
            .status
        }));
    }
    // Wait (bounded) until a request is held back by the full queue.
    let waited = async {
        while stats
            .queue_full_waits
            .load(std::sync::atomic::Ordering::Relaxed)
            == 0
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), waited)
        .await
        .expect("a request waits for room in the full queue");
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(next(&mut rx).await.msg_id.unwrap());
    }
    for s in sends {
        assert_eq!(s.await.unwrap(), 200);
    }
    ids.sort();
    assert_eq!(ids, (0..6).map(|i| format!("msg_{i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn keep_alive_connections_carry_many_deliveries() {
    let (server, mut rx) = start(&[SECRET], 1 << 20, 64).await;
    let mut req = Vec::new();
    for i in 0..5 {
        let body = format!("{{\"n\":{i}}}");
        let last = i == 4;
        req.extend_from_slice(
            format!(
                "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n",
                body.len()
            )
            .as_bytes(),
        );
        if last {
            req.extend_from_slice(b"connection: close\r\n");
        }
        for (n, v) in signed(SECRET, &format!("msg_{i}"), body.as_bytes()) {
            req.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body.as_bytes());
    }
    // Pipelined: all five requests in one write.
    let reply = raw(server.local_addr(), &req).await;
    assert_eq!(reply.status, 200);
    for i in 0..5 {
        assert_eq!(next(&mut rx).await.msg_id, Some(format!("msg_{i}")));
    }
}

#[tokio::test]
async fn binding_a_taken_port_says_so() {
    let (server, _rx) = start(&[], 1024, 4).await;
    let verifier = Verifier::new(vec![], 300);
    let (tx, _rx2) = mpsc::channel(1);
    let err = Receiver::start(Config::new(server.local_addr(), verifier), tx)
        .await
        .err()
        .expect("port taken");
    let text = err.to_string();
    assert!(
        text.contains("another program") && text.contains("--port"),
        "{text}"
    );
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served() {
    use http_body_util::Full;
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let client: hyper_util::client::legacy::Client<_, Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .http2_only(true)
            .build_http();
    let uri = format!("http://{}/h2", server.local_addr());
    let req = signed_request(&uri, "msg_h2", b"{\"h\":2}");
    assert_ok(client.request(req).await.unwrap()).await;
    let d = next(&mut rx).await;
    assert_eq!(d.version, "HTTP/2.0");
    assert_eq!(d.verdict.verified(), Some(true));
}

#[tokio::test]
async fn http_1_0_and_expect_100_continue() {
    use tokio::io::AsyncReadExt as _;
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let body = b"{\"v\":10}";
    let mut req = format!("POST /old HTTP/1.0\r\ncontent-length: {}\r\n", body.len()).into_bytes();
    for (n, v) in signed(SECRET, "msg_10", body) {
        req.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(body);
    assert_eq!(raw(server.local_addr(), &req).await.status, 200);
    assert_eq!(next(&mut rx).await.version, "HTTP/1.0");

    // Expect: 100-continue: the body is sent only after the interim answer.
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let mut head = format!("POST /expect HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\nconnection: close\r\ncontent-length: {}\r\n", body.len()).into_bytes();
    for (n, v) in signed(SECRET, "msg_100", body) {
        head.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head).await.unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100 Continue"));
    stream.write_all(body).await.unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(String::from_utf8_lossy(&rest).contains("200 OK"));
    let d = next(&mut rx).await;
    assert_eq!(&d.body[..], body);
    assert_eq!(d.verdict.verified(), Some(true));
}

#[tokio::test]
async fn an_oversized_body_announced_with_expect_100_continue_gets_the_413_alone() {
    use tokio::io::AsyncReadExt as _;
    // The answer mode's delay holds the 413 back a while: nothing may meanwhile tell the
    // sender to go on with its 20 MB.
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    config.max_body = 1 << 20;
    config.control = hookscope::forward::Control::new(hookscope::forward::RespondMode::Delay(
        Duration::from_millis(300),
    ));
    let (tx, mut rx) = mpsc::channel(16);
    let server = Receiver::start(config, tx).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    stream
        .write_all(b"POST /big HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 20000000\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let said = String::from_utf8_lossy(&buf[..n]);
    assert!(said.starts_with("HTTP/1.1 413"), "{said}");
    assert_eq!(next(&mut rx).await.body_size, 20_000_000);
}

#[tokio::test]
async fn dozens_of_headers_are_recorded_and_too_many_refused_without_harm() {
    let (server, mut rx) = start(&[SECRET], 1 << 20, 16).await;
    let body = b"{}";
    let mut headers = signed(SECRET, "msg_many", body);
    // Up to the limit: the six signed_headers plus 94.
    let extra: Vec<(String, String)> = (0..hookscope::receiver::MAX_HEADERS - 6)
        .map(|i| (format!("x-h{i}"), "v".repeat(50)))
        .collect();
    headers.extend(extra.iter().map(|(n, v)| (n.as_str(), v.clone())));
    assert_eq!(
        post(server.local_addr(), "/", &headers, body).await.status,
        200
    );
    assert_eq!(
        next(&mut rx).await.headers.len(),
        hookscope::receiver::MAX_HEADERS
    );

    let mut too_many = headers.clone();
    let extra: Vec<(String, String)> = (0..1).map(|i| (format!("x-h{i}"), "v".into())).collect();
    too_many.extend(extra.iter().map(|(n, v)| (n.as_str(), v.clone())));
    let reply = post(server.local_addr(), "/", &too_many, body).await;
    assert_eq!(reply.status, 431);
    assert_eq!(
        post(
            server.local_addr(),
            "/",
            &signed(SECRET, "msg_after", body),
            body
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn connections_are_capped_and_a_freed_slot_serves_the_next() {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    config.max_connections = 2;
    let (tx, mut rx) = mpsc::channel(16);
    let server = Receiver::start(config, tx).await.unwrap();
    let addr = server.local_addr();
    // Two idle connections take both slots.
    let idle1 = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _idle2 = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let body = b"{}";
    let waiting = tokio::spawn(async move {
        post(addr, "/", &signed(SECRET, "msg_third", body), body)
            .await
            .status
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a third connection is not served while two hold the slots"
    );
    drop(idle1);
    assert_eq!(waiting.await.unwrap(), 200);
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_third"));
}

#[tokio::test]
async fn summaries_only_publishes_the_record_without_body_or_headers() {
    // What headless runs use: the line needs ids, verdict and size, not the payload.
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    config.summaries_only = true;
    let (tx, mut rx) = mpsc::channel(16);
    let server = Receiver::start(config, tx).await.expect("bind");
    let body = format!(
        r#"{{"type":"invoice.paid","id":"evt_big","data":"{}"}}"#,
        "x".repeat(100_000)
    );
    let reply = post(
        server.local_addr(),
        "/hooks",
        &signed(SECRET, "msg_big", body.as_bytes()),
        body.as_bytes(),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));

    let d = next(&mut rx).await;
    assert!(
        d.body.is_empty() && d.headers.is_empty(),
        "{} body bytes, {} headers published",
        d.body.len(),
        d.headers.len()
    );
    assert_eq!(d.body_size, body.len() as u64);
    assert_eq!(d.msg_id.as_deref(), Some("msg_big"));
    assert_eq!(d.event_id.as_deref(), Some("evt_big"));
    assert_eq!(d.event_type.as_deref(), Some("invoice.paid"));
    assert!(
        matches!(&d.verdict, Verdict::Verified(_)),
        "{:?}",
        d.verdict
    );
}

/// `--demo` is how a new user first sees hookscope: it must show each kind of verdict.
#[tokio::test]
async fn the_demo_shows_every_kind_of_verdict() {
    let secret = Secret::parse(hookscope::demo::DEMO_SECRET).unwrap();
    let verifier = Verifier::new(vec![secret.clone()], 300);
    let (tx, mut rx) = mpsc::channel::<Box<Delivery>>(64);
    let server = Receiver::start(Config::new("127.0.0.1:0".parse().unwrap(), verifier), tx)
        .await
        .unwrap();
    let sent = hookscope::demo::run(server.local_addr(), &secret)
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < sent {
        got.push(rx.recv().await.unwrap());
    }
    let has = |f: &dyn Fn(&Verdict) -> bool| got.iter().any(|d| f(&d.verdict));
    assert!(has(&|v| matches!(v, Verdict::Verified(_))));
    for code in [
        "bad_signature",
        "timestamp_too_old",
        "timestamp_too_new",
        "invalid_timestamp",
        "missing_header",
    ] {
        assert!(has(&|v| v.failure_code() == Some(code)), "{code}");
    }
    assert!(has(&|v| matches!(
        v,
        Verdict::Unchecked(Unchecked::NotPost { .. })
    )));
    assert!(has(&|v| matches!(
        v,
        Verdict::Unchecked(Unchecked::BodyTooLarge { .. })
    )));
    let folded = got
        .iter()
        .find_map(|d| match &d.verdict {
            Verdict::Unchecked(Unchecked::Malformed { reason }) => Some(reason.clone()),
            _ => None,
        })
        .expect("a refused head");
    assert!(folded.starts_with("line 5 ` v1,Z3bQ"), "{folded}");
    assert!(
        folded.ends_with("starts with whitespace (a folded header, which HTTP/1.1 forbids)"),
        "{folded}"
    );
}

/// A receiver verifying with [`SECRET`] that commits to a store at `path` (keeping everything),
/// set up further by `setup`; the store's threads run while the last of the three lives.
async fn with_a_store(
    path: &std::path::Path,
    setup: impl FnOnce(&mut Config),
) -> (
    Receiver,
    mpsc::Receiver<Box<Delivery>>,
    hookscope::store::Closing,
) {
    let store = hookscope::store::Store::open(path).unwrap();
    let retention = hookscope::store::Retention {
        max_count: None,
        max_days: None,
    };
    let (writer, threads) = hookscope::store::Writer::start(store, retention).unwrap();
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    config.store = Some(writer);
    setup(&mut config);
    let (tx, rx) = mpsc::channel(16);
    (Receiver::start(config, tx).await.unwrap(), rx, threads)
}

#[tokio::test]
async fn a_sender_that_hangs_up_while_the_store_is_busy_is_still_shown() {
    // Another process holds the store's write lock (an import, say) for longer than the
    // sender waits: the delivery is stored once the lock goes, and must be shown with it, not
    // dropped with the handler the sender's hang-up ends.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sqlite3");
    let (server, mut rx, _threads) = with_a_store(&path, |_| {}).await;

    let lock = rusqlite::Connection::open(&path).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    hang_up_after(
        server.local_addr(),
        "/busy",
        "msg_busy",
        Duration::from_millis(300),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.execute_batch("COMMIT").unwrap();

    let d = next(&mut rx).await;
    assert_eq!(d.msg_id.as_deref(), Some("msg_busy"));
    assert!(
        d.stored && d.seq > 0,
        "stored, with its id: {} {}",
        d.stored,
        d.seq
    );
}

#[tokio::test]
async fn the_inspectors_queue_carries_a_stored_delivery_without_its_payload() {
    // The inspector loads a stored delivery's body and headers when it shows one: while it
    // takes nothing (an editor open), its queue holds records, not payloads. A delivery the
    // store could not keep is published whole, as nothing else holds it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("light.sqlite3");
    let (server, mut rx, _threads) =
        with_a_store(&path, |config| config.stored_as_summaries = true).await;
    let addr = server.local_addr();

    let body = br#"{"id":"evt_light","type":"customer.created","data":{}}"#;
    let reply = post(addr, "/light", &signed(SECRET, "msg_light", body), body).await;
    assert_eq!(reply.status, 200);
    let d = next(&mut rx).await;
    assert!(d.stored);
    assert!(d.body.is_empty() && d.headers.is_empty(), "{d:?}");
    // What the list shows is all there.
    assert_eq!(d.msg_id.as_deref(), Some("msg_light"));
    assert_eq!(d.event_id.as_deref(), Some("evt_light"));
    assert_eq!(d.event_type.as_deref(), Some("customer.created"));
    assert_eq!(d.body_size, body.len() as u64);
    assert!(d.verdict.verified() == Some(true));

    // Another process holds the store's write lock past the store's 5 s patience: 503, and
    // the delivery comes whole.
    let lock = rusqlite::Connection::open(&path).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let reply = post(addr, "/light", &signed(SECRET, "msg_unstored", body), body).await;
    lock.execute_batch("COMMIT").unwrap();
    assert_eq!(reply.status, 503, "{reply:?}");
    let d = next(&mut rx).await;
    assert!(!d.stored);
    assert_eq!(&d.body[..], body);
    assert!(d.headers.iter().any(|(n, _)| n == "svix-id"));
}
