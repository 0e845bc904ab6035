//! Finds the public URL of a tunnel that forwards to our port: from ngrok's local agent API
//! (`http://127.0.0.1:4040/api/tunnels`), else Tailscale Funnel's configuration (`tailscale
//! funnel status --json`), else cloudflared's metrics server (`/config`, `/quicktunnel`). Each
//! says which local port a tunnel leads to, so a tunnel to another app is never shown. Quiet by
//! design: no agent, no URL, no noise.

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
    let body = get(&format!("{}/api/tunnels", api.trim_end_matches('/'))).await?;
    pick(&body, port)
}

/// The body of a 2xx answer to a GET of `url`, within 2 s; `None` on any failure.
async fn get(url: &str) -> Option<Bytes> {
    let uri: Uri = url.parse().ok()?;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let fetch = async {
        let resp = client.get(uri).await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        // These local APIs answer a few KiB; a 1 MiB cap keeps a wrong port serving something
        // else from costing more.
        Some(
            http_body_util::Limited::new(resp.into_body(), 1 << 20)
                .collect()
                .await
                .ok()?
                .to_bytes(),
        )
    };
    tokio::time::timeout(Duration::from_secs(2), fetch)
        .await
        .ok()
        .flatten()
}

/// Where cloudflared serves its metrics by default (the first of these it can bind).
pub const CLOUDFLARED_METRICS: [u16; 5] = [20241, 20242, 20243, 20244, 20245];

/// The public URL a cloudflared tunnel gives `port`, from its metrics server's `/config` (the
/// ingress rules, each with the local service it leads to) and, for a quick tunnel (a rule
/// without a hostname), `/quicktunnel`'s `{"hostname": …}`. A tunnel to another service is
/// not ours, so it is not picked.
pub fn pick_cloudflared(config: &[u8], quick: Option<&[u8]>, port: u16) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(config).ok()?;
    let rule = v.pointer("/config/ingress")?.as_array()?.iter().find(|r| {
        r.get("service")
            .and_then(|s| s.as_str())
            .is_some_and(|s| local(s, port))
    })?;
    let host = match rule
        .get("hostname")
        .and_then(|h| h.as_str())
        .filter(|h| !h.is_empty())
    {
        Some(named) => named.to_string(),
        None => {
            let q: serde_json::Value = serde_json::from_slice(quick?).ok()?;
            q.get("hostname")?.as_str()?.to_string()
        }
    };
    // A wildcard names no one address.
    (!host.is_empty() && !host.contains('*')).then(|| format!("https://{host}"))
}

/// Whether a tunnel's target (`http://localhost:8787`, `127.0.0.1:8787`, a bare `8787`) is
/// `port` on this machine.
fn local(target: &str, port: u16) -> bool {
    // A bare port would parse as a host without one.
    if target == port.to_string() {
        return true;
    }
    target.parse::<Uri>().is_ok_and(|uri| {
        uri.port_u16() == Some(port)
            && uri
                .host()
                .is_some_and(|h| ["127.0.0.1", "localhost", "[::1]"].contains(&h))
    })
}

/// Asks a cloudflared metrics server once; `None` on any failure.
pub async fn probe_cloudflared(base: &str, port: u16) -> Option<String> {
    let config = get(&format!("{base}/config")).await?;
    let quick = get(&format!("{base}/quicktunnel")).await;
    pick_cloudflared(&config, quick.as_deref(), port)
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
                .filter(|(_, h)| {
                    h.get("Proxy")
                        .and_then(|p| p.as_str())
                        .is_some_and(|p| local(p, port))
                })
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

/// Where [`watch`] looks for a tunnel, in this order.
#[derive(Debug, Clone)]
pub struct Sources {
    /// ngrok's agent API.
    pub ngrok_api: String,
    /// The `tailscale` program.
    pub tailscale: std::ffi::OsString,
    /// cloudflared's metrics servers (`http://127.0.0.1:20241`, …).
    pub cloudflared: Vec<String>,
}

impl Sources {
    /// ngrok's API at `ngrok_api`, `tailscale` on the PATH, cloudflared's default metrics ports.
    pub fn new(ngrok_api: String) -> Sources {
        Sources {
            ngrok_api,
            tailscale: TAILSCALE.into(),
            cloudflared: CLOUDFLARED_METRICS
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}"))
                .collect(),
        }
    }

    /// The first public URL one of them gives `port`.
    pub async fn probe(&self, port: u16) -> Option<String> {
        if let Some(url) = probe(&self.ngrok_api, port).await {
            return Some(url);
        }
        if let Some(url) = probe_funnel(&self.tailscale, port).await {
            return Some(url);
        }
        for base in &self.cloudflared {
            if let Some(url) = probe_cloudflared(base, port).await {
                return Some(url);
            }
        }
        None
    }
}

/// Polls every `every` and sends the URL whenever it changes, until `tx` closes. The first
/// source with an answer wins: ngrok, Tailscale Funnel, cloudflared.
pub async fn watch<T>(
    sources: Sources,
    port: u16,
    every: Duration,
    wrap: fn(Option<String>) -> T,
    tx: mpsc::UnboundedSender<T>,
) {
    let mut last: Option<Option<String>> = None;
    loop {
        let now = sources.probe(port).await;
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

    // The stand-in program is a shell script.
    #[cfg(unix)]
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

    /// cloudflared's `/config` for `cloudflared tunnel --url http://localhost:8787` (a quick
    /// tunnel: one rule, no hostname).
    pub(super) const QUICK_CONFIG: &str = r#"{"version":0,"config":{"ingress":[{"hostname":"","path":null,"service":"http://localhost:8787","originRequest":{}}],"warp-routing":{"enabled":false},"originRequest":{}}}"#;

    #[test]
    fn picks_the_cloudflared_tunnel_for_our_port() {
        let quick = Some(&br#"{"hostname":"calm-river-1234.trycloudflare.com"}"#[..]);
        let config = QUICK_CONFIG.as_bytes();
        assert_eq!(
            pick_cloudflared(config, quick, 8787).as_deref(),
            Some("https://calm-river-1234.trycloudflare.com")
        );
        // A quick tunnel to another port is not ours; nor is one not up yet.
        assert_eq!(pick_cloudflared(config, quick, 3000), None);
        assert_eq!(pick_cloudflared(config, None, 8787), None);
        assert_eq!(
            pick_cloudflared(config, Some(br#"{"hostname":""}"#), 8787),
            None
        );
        // A named tunnel: the rule for our port has its public name.
        let named = br#"{"version":3,"config":{"ingress":[
            {"hostname":"app.example.com","service":"http://localhost:3000"},
            {"hostname":"hooks.example.com","service":"http://127.0.0.1:8787"},
            {"hostname":"*.example.com","service":"http://localhost:9000"},
            {"service":"http_status:404"}]}}"#;
        assert_eq!(
            pick_cloudflared(named, None, 8787).as_deref(),
            Some("https://hooks.example.com")
        );
        assert_eq!(pick_cloudflared(named, None, 9000), None, "a wildcard");
        // A cloudflared that writes services as objects says nothing we can match.
        let opaque = br#"{"config":{"ingress":[{"hostname":"","service":{}}]}}"#;
        assert_eq!(pick_cloudflared(opaque, quick, 8787), None);
        assert_eq!(pick_cloudflared(b"not json", quick, 8787), None);
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

    /// A stand-in HTTP server answering each GET by its path from `routes`, 404 otherwise.
    async fn stand_in(routes: Vec<(&'static str, String)>) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let resp = match routes.iter().find(|(p, _)| *p == path) {
                    Some((_, body)) => format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => {
                        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            .into()
                    }
                };
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        addr
    }

    /// A stand-in for cloudflared's metrics server, and the order the sources are asked in.
    #[tokio::test]
    async fn reads_a_quick_tunnels_url_from_cloudflared() {
        let metrics = stand_in(vec![
            ("/config", super::tests::QUICK_CONFIG.to_string()),
            (
                "/quicktunnel",
                r#"{"hostname":"calm-river-1234.trycloudflare.com"}"#.to_string(),
            ),
        ])
        .await;
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let sources = Sources {
            ngrok_api: format!("http://{closed}"),
            tailscale: "/nonexistent/tailscale".into(),
            // The first metrics port is not cloudflared's (another cloudflared took it).
            cloudflared: vec![format!("http://{closed}"), format!("http://{metrics}")],
        };
        assert_eq!(
            sources.probe(8787).await.as_deref(),
            Some("https://calm-river-1234.trycloudflare.com")
        );
        assert_eq!(sources.probe(3000).await, None);
    }

    /// A stand-in for ngrok's agent API on a real socket.
    #[tokio::test]
    async fn reads_the_url_from_a_running_agent() {
        // Any other path is answered 404: the tunnels must be asked for where ngrok has them.
        let body = r#"{"tunnels":[{"public_url":"https://f00d.ngrok-free.app","config":{"addr":"http://localhost:8787"}}]}"#;
        let addr = stand_in(vec![("/api/tunnels", body.to_string())]).await;
        let api = format!("http://{addr}");
        assert_eq!(
            probe(&api, 8787).await.as_deref(),
            Some("https://f00d.ngrok-free.app")
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sources = Sources {
            ngrok_api: api,
            tailscale: "/nonexistent/tailscale".into(),
            cloudflared: Vec::new(),
        };
        tokio::spawn(watch(sources, 8787, Duration::from_millis(50), |u| u, tx));
        assert_eq!(
            rx.recv().await,
            Some(Some("https://f00d.ngrok-free.app".to_string()))
        );
    }
}
