//! Finds the public URL of a tunnel that forwards to our port, from ngrok's local agent API
//! (`http://127.0.0.1:4040/api/tunnels`). Quiet by design: no agent, no URL, no noise.

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use tokio::sync::mpsc;

/// ngrok's default local API.
pub const NGROK_API: &str = "http://127.0.0.1:4040";

/// Picks the public URL forwarding to `port` from an `/api/tunnels` answer; https preferred.
pub fn pick(json: &[u8], port: u16) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let suffix = format!(":{port}");
    let mut found: Vec<String> = v
        .get("tunnels")?
        .as_array()?
        .iter()
        .filter(|t| {
            let addr = t
                .pointer("/config/addr")
                .and_then(|a| a.as_str())
                .unwrap_or("");
            let addr = addr.trim_end_matches('/');
            addr.ends_with(&suffix) || addr == port.to_string()
        })
        .filter_map(|t| t.get("public_url")?.as_str().map(str::to_string))
        .collect();
    found.sort_by_key(|u| !u.starts_with("https://"));
    found.into_iter().next()
}

/// Asks the agent once; `None` on any failure.
pub async fn probe(api: &str, port: u16) -> Option<String> {
    let uri: Uri = format!("{}/api/tunnels", api.trim_end_matches('/'))
        .parse()
        .ok()?;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let fetch = async {
        let resp = client.get(uri).await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        // The agent's list of tunnels is a few KiB; a 1 MiB cap keeps a wrong port serving
        // something else from costing more.
        let body = http_body_util::Limited::new(resp.into_body(), 1 << 20)
            .collect()
            .await
            .ok()?
            .to_bytes();
        pick(&body, port)
    };
    tokio::time::timeout(Duration::from_secs(2), fetch)
        .await
        .ok()
        .flatten()
}

/// Polls every `every` and sends the URL whenever it changes, until `tx` closes.
pub async fn watch<T>(
    api: String,
    port: u16,
    every: Duration,
    wrap: fn(Option<String>) -> T,
    tx: mpsc::UnboundedSender<T>,
) {
    let mut last: Option<Option<String>> = None;
    loop {
        let now = probe(&api, port).await;
        if last.as_ref() != Some(&now) {
            if tx.send(wrap(now.clone())).is_err() {
                return;
            }
            last = Some(now);
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_tunnel_for_our_port() {
        let json = br#"{"tunnels":[
            {"public_url":"https://other.ngrok.app","config":{"addr":"http://localhost:3000"}},
            {"public_url":"http://abc.ngrok.app","config":{"addr":"http://localhost:8787"}},
            {"public_url":"https://abc.ngrok.app","config":{"addr":"http://localhost:8787"}}
        ]}"#;
        assert_eq!(pick(json, 8787).as_deref(), Some("https://abc.ngrok.app"));
        assert_eq!(pick(json, 9999), None);
        assert_eq!(pick(b"not json", 8787), None);
        assert_eq!(
            pick(
                br#"{"tunnels":[{"public_url":"https://x","config":{"addr":"8787"}}]}"#,
                8787
            )
            .as_deref(),
            Some("https://x")
        );
    }

    #[tokio::test]
    async fn no_agent_means_no_url() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(probe(&format!("http://127.0.0.1:{port}"), 8787).await, None);
    }
}

#[cfg(test)]
mod socket_tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// A stand-in for ngrok's agent API on a real socket.
    #[tokio::test]
    async fn reads_the_url_from_a_running_agent() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).await.unwrap_or(0);
                assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /api/tunnels "));
                let body = r#"{"tunnels":[{"public_url":"https://f00d.ngrok-free.app","config":{"addr":"http://localhost:8787"}}]}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        let api = format!("http://{addr}");
        assert_eq!(
            probe(&api, 8787).await.as_deref(),
            Some("https://f00d.ngrok-free.app")
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(watch(api, 8787, Duration::from_millis(50), |u| u, tx));
        assert_eq!(
            rx.recv().await,
            Some(Some("https://f00d.ngrok-free.app".to_string()))
        );
    }
}
