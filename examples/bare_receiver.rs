//! Bench-only baseline: a bare hyper server that does the same Standard Webhooks HMAC check as
//! hookscope and nothing else (no recording, no UI, no store). `scripts/bench-receivers.sh`
//! compares hookscope against it.
//!
//!     cargo run --release --example bare_receiver -- 127.0.0.1:9001 whsec_…

use base64::Engine as _;
use bytes::Bytes;
use hmac::{KeyInit as _, Mac as _};
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;

fn header<'a>(req: &'a http::request::Parts, a: &str, b: &str) -> Option<&'a str> {
    req.headers
        .get(a)
        .or_else(|| req.headers.get(b))
        .and_then(|v| v.to_str().ok())
}

fn verified(parts: &http::request::Parts, body: &[u8], key: &[u8]) -> bool {
    let (Some(id), Some(ts), Some(sig)) = (
        header(parts, "svix-id", "webhook-id"),
        header(parts, "svix-timestamp", "webhook-timestamp"),
        header(parts, "svix-signature", "webhook-signature"),
    ) else {
        return false;
    };
    let Ok(ts) = ts.parse::<i64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if now.abs_diff(ts) > 300 {
        return false;
    }
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    sig.split(' ')
        .filter_map(|e| e.strip_prefix("v1,"))
        .any(|s| subtle::ConstantTimeEq::ct_eq(s.as_bytes(), expected.as_bytes()).into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let secret = args.next().ok_or("usage: bare_receiver ADDR whsec_…")?;
    let key = Arc::new(
        base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_"))?,
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let key = key.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let key = key.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let (status, text) = if verified(&parts, &body, &key) {
                        (200, "ok")
                    } else {
                        (401, "invalid signature")
                    };
                    let mut resp =
                        http::Response::new(Full::new(Bytes::from_static(text.as_bytes())));
                    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or_default();
                    Ok::<_, Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
