//! Finds the public URL of a tunnel that forwards to our port: from ngrok's local agent API
//! (`http://127.0.0.1:4040/api/tunnels`), else from Tailscale Funnel's configuration
//! (`tailscale funnel status --json`). Quiet by design: no agent, no URL, no noise.

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

/// The program asked for Tailscale Funnel's configuration.
pub const TAILSCALE: &str = "tailscale";

/// Picks the public URL Tailscale Funnel serves from `port` on this machine, from what
/// `tailscale funnel status --json` prints: a `Web` entry (`host:443`) whose handler proxies to
/// the port, for a host `AllowFunnel` opens to the internet. Serve-only (tailnet) entries are
/// not public, so they are not picked.
pub fn pick_funnel(json: &[u8], port: u16) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(json).ok()?;
    let open = v.get("AllowFunnel")?.as_object()?;
    let ours = |proxy: &str| {
        // A bare port would parse as a host without one.
        if proxy == port.to_string() {
            return true;
        }
        proxy.parse::<Uri>().is_ok_and(|uri| {
            uri.port_u16() == Some(port)
                && uri
                    .host()
                    .is_some_and(|h| ["127.0.0.1", "localhost", "[::1]"].contains(&h))
        })
    };
    let mut found: Vec<String> = v
        .get("Web")?
        .as_object()?
        .iter()
        .filter(|(hostport, _)| open.get(hostport.as_str()) == Some(&serde_json::Value::Bool(true)))
        .flat_map(|(hostport, web)| {
            let base = match hostport.strip_suffix(":443") {
                Some(host) => format!("https://{host}"),
                None => format!("https://{hostport}"),
            };
            web.get("Handlers")
                .and_then(|h| h.as_object())
                .into_iter()
                .flatten()
                .filter(|(_, h)| h.get("Proxy").and_then(|p| p.as_str()).is_some_and(ours))
                .map(move |(path, _)| format!("{base}{}", path.trim_end_matches('/')))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Asks `tailscale` once; `None` when it is not installed, not running, or serves nothing
/// public from `port`.
pub async fn probe_funnel(program: &std::ffi::OsStr, port: u16) -> Option<String> {
    let run = tokio::process::Command::new(program)
        .args(["funnel", "status", "--json"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(2), run)
        .await
        .ok()?
        .ok()?;
    out.status
        .success()
        .then(|| pick_funnel(&out.stdout, port))
        .flatten()
}

/// Where [`watch`] looks for a tunnel.
#[derive(Debug, Clone)]
pub struct Sources {
    /// ngrok's agent API.
    pub ngrok_api: String,
    /// The `tailscale` program.
    pub tailscale: std::ffi::OsString,
}

/// Polls every `every` and sends the URL whenever it changes, until `tx` closes. ngrok's
/// answer wins when both have one.
pub async fn watch<T>(
    sources: Sources,
    port: u16,
    every: Duration,
    wrap: fn(Option<String>) -> T,
    tx: mpsc::UnboundedSender<T>,
) {
    let mut last: Option<Option<String>> = None;
    loop {
        let now = match probe(&sources.ngrok_api, port).await {
            Some(url) => Some(url),
            None => probe_funnel(&sources.tailscale, port).await,
        };
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

    /// What `tailscale funnel status --json` prints after `tailscale funnel --bg 8787`, with a
    /// tailnet-only `serve` of another port and a funnel of another port beside it.
    const FUNNEL: &str = r#"{"TCP":{"443":{"HTTPS":true},"8443":{"HTTPS":true},"10000":{"HTTPS":true}},
        "Web":{"box.tail1234.ts.net:443":{"Handlers":{"/":{"Proxy":"http://127.0.0.1:8787"}}},
               "box.tail1234.ts.net:8443":{"Handlers":{"/":{"Proxy":"http://127.0.0.1:3000"}}},
               "box.tail1234.ts.net:10000":{"Handlers":{"/hooks/":{"Proxy":"http://localhost:9000"}}}},
        "AllowFunnel":{"box.tail1234.ts.net:443":true,"box.tail1234.ts.net:8443":true,
                       "box.tail1234.ts.net:10000":false}}"#;

    #[test]
    fn picks_the_funnel_for_our_port() {
        let json = FUNNEL.as_bytes();
        assert_eq!(
            pick_funnel(json, 8787).as_deref(),
            Some("https://box.tail1234.ts.net")
        );
        assert_eq!(
            pick_funnel(json, 3000).as_deref(),
            Some("https://box.tail1234.ts.net:8443")
        );
        // Served to the tailnet only: not a public URL.
        assert_eq!(pick_funnel(json, 9000), None);
        let open = FUNNEL.replace(":10000\":false", ":10000\":true");
        assert_eq!(
            pick_funnel(open.as_bytes(), 9000).as_deref(),
            Some("https://box.tail1234.ts.net:10000/hooks")
        );
        assert_eq!(pick_funnel(json, 1), None);
        // The proxy written as a bare port, or host:port without a scheme.
        for proxy in ["8787", "localhost:8787", "http://[::1]:8787"] {
            let written = FUNNEL.replace("http://127.0.0.1:8787", proxy);
            assert_eq!(
                pick_funnel(written.as_bytes(), 8787).as_deref(),
                Some("https://box.tail1234.ts.net"),
                "{proxy}"
            );
        }
        assert_eq!(pick_funnel(b"{}", 8787), None);
        assert_eq!(pick_funnel(b"not json", 8787), None);
    }

    #[tokio::test]
    async fn asks_the_tailscale_program() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("tailscale");
        let json = dir.path().join("status.json");
        std::fs::write(&json, FUNNEL).unwrap();
        std::fs::write(
            &program,
            format!(
                "#!/bin/sh\n[ \"$*\" = \"funnel status --json\" ] || exit 2\ncat '{}'\n",
                json.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Another test of this process forking while the script was being written can make an
        // exec fail with "text file busy" for a moment: the test's race, not the code's.
        let mut found = None;
        for _ in 0..5 {
            found = probe_funnel(program.as_os_str(), 8787).await;
            if found.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(found.as_deref(), Some("https://box.tail1234.ts.net"));
        // Not installed, or failing (tailscaled down): quietly nothing.
        assert_eq!(
            probe_funnel("/nonexistent/tailscale".as_ref(), 8787).await,
            None
        );
        std::fs::write(
            &program,
            "#!/bin/sh\necho 'failed to connect to local tailscaled' >&2\nexit 1\n",
        )
        .unwrap();
        assert_eq!(probe_funnel(program.as_os_str(), 8787).await, None);
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
        let sources = Sources {
            ngrok_api: api,
            tailscale: "/nonexistent/tailscale".into(),
        };
        tokio::spawn(watch(sources, 8787, Duration::from_millis(50), |u| u, tx));
        assert_eq!(
            rx.recv().await,
            Some(Some("https://f00d.ngrok-free.app".to_string()))
        );
    }
}
