//! `--demo`: fires a realistic mix of deliveries at our own receiver over HTTP, so a newcomer
//! sees every kind of verdict (and the real reasons for failures) without a provider or tunnel.

use crate::sender::{SAMPLES, random_id, sample_payload};
use crate::verify::{Key, Secret, sign};
use std::net::SocketAddr;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The secret demo deliveries are signed with when the user configured none.
pub const DEMO_SECRET: &str = "whsec_ZGVtby1zZWNyZXQtZm9yLWhvb2tzY29wZSE=";

struct Req {
    method: &'static str,
    path: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn signed(key: &[u8], prefix: &str, body: Vec<u8>, ts: i64, sign_body: Option<&[u8]>) -> Req {
    let id = random_id("msg");
    let sig = sign::sign_v1(key, &id, ts, sign_body.unwrap_or(&body));
    Req {
        method: "POST",
        path: "/webhooks",
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (format!("{prefix}-id"), id),
            (format!("{prefix}-timestamp"), ts.to_string()),
            (format!("{prefix}-signature"), sig),
            ("user-agent".into(), "Svix-Webhooks/1.24 (demo)".into()),
        ],
        body,
    }
}

fn requests(key: &[u8], now: OffsetDateTime) -> Vec<Req> {
    let ts = now.unix_timestamp();
    let sample = |t: &str| sample_payload(t, now).to_vec();
    let other_key = b"a-different-endpoint-secret!";
    let mut out = Vec::new();
    for (t, _) in SAMPLES {
        out.push(signed(key, "svix", sample(t), ts, None));
    }
    out.push(signed(key, "webhook", sample("invoice.paid"), ts, None));
    // Rejections, one of each kind the verifier explains.
    let body = sample("customer.created");
    let mut tampered = body.clone();
    tampered.splice(1..1, b"\"tampered\":true,".iter().copied());
    out.push(signed(key, "svix", tampered, ts, Some(&body)));
    out.push(signed(
        other_key,
        "svix",
        sample("customer.updated"),
        ts,
        None,
    ));
    let mut with_newline = sample("task.completed");
    let signed_part = with_newline.clone();
    with_newline.push(b'\n');
    out.push(signed(key, "svix", with_newline, ts, Some(&signed_part)));
    out.push(signed(
        key,
        "svix",
        sample("subscription.renewed"),
        ts - 900,
        None,
    ));
    out.push(signed(
        key,
        "svix",
        sample("subscription.renewed"),
        ts + 86_400,
        None,
    ));
    let mut bad_ts = signed(key, "svix", sample("order.shipped"), ts, None);
    bad_ts.headers[2].1 = format!("{ts}.5");
    out.push(bad_ts);
    out.push(Req {
        method: "POST",
        path: "/webhooks",
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"ping":"health check"}"#.to_vec(),
    });
    // Bodies that are not plain JSON.
    out.push(signed(
        key,
        "svix",
        b"plain text, not JSON".to_vec(),
        ts,
        None,
    ));
    out.push(signed(
        key,
        "svix",
        vec![
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00, 0x10,
        ],
        ts,
        None,
    ));
    let items: Vec<String> = (0..400)
        .map(|i| {
            format!(
                "{{\"sku\":\"SKU-{i:04}\",\"qty\":{},\"unit_amount\":{}}}",
                i % 7 + 1,
                199 + i
            )
        })
        .collect();
    let large = format!(
        "{{\"id\":\"{}\",\"type\":\"invoice.finalized\",\"data\":{{\"lines\":[{}]}}}}",
        random_id("evt"),
        items.join(",")
    );
    out.push(signed(key, "svix", large.into_bytes(), ts, None));
    // A payload that tries to take over the terminal: shown escaped, harmless.
    let evil = format!(
        "{{\"id\":\"{}\",\"type\":\"evil\\u001b[2J\\u001b]0;pwned\\u0007\",\"note\":\"\\u001b]52;c;aGk=\\u0007\"}}",
        random_id("evt")
    );
    out.push(signed(key, "svix", evil.into_bytes(), ts, None));
    out.push(Req {
        method: "GET",
        path: "/favicon.ico",
        headers: vec![],
        body: Vec::new(),
    });
    out
}

/// Sends the demo deliveries to `addr`; returns how many were answered.
pub async fn run(addr: SocketAddr, secret: &Secret) -> std::io::Result<usize> {
    let key = match &secret.key {
        Key::Hmac(k) => k.to_vec(),
        Key::Ed25519 { .. } => b"demo".to_vec(),
    };
    let mut answered = 0;
    for req in requests(&key, OffsetDateTime::now_utc()) {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
            req.method,
            req.path,
            req.body.len()
        );
        for (n, v) in &req.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&req.body).await?;
        let mut sink = Vec::new();
        stream.read_to_end(&mut sink).await?;
        answered += 1;
    }
    // Two the receiver refuses before reading them: a head an old proxy folded over two lines
    // (HTTP's parser answers 400 and hookscope says which line), and a body announced as
    // larger than any limit (413, unread).
    for raw in [
        &b"POST /webhooks HTTP/1.1\r\nhost: demo\r\nconnection: close\r\nsvix-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=\r\n v1,Z3bQ0x1yJcB2jM2rAqT4Zg==\r\ncontent-length: 2\r\n\r\n{}"[..],
        b"POST /uploads HTTP/1.1\r\nhost: demo\r\nconnection: close\r\ncontent-length: 1073741824\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(raw).await?;
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
        answered += 1;
    }
    Ok(answered)
}
