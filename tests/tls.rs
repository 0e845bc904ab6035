//! https as a client, through the real binary: `send` to an https receiver (as to a tunnel's
//! public URL) and forwarding to an https app, against a local TLS server whose certificate a
//! test CA signs. The binary trusts that CA through `SSL_CERT_FILE`, as it would mkcert's.

mod common;

use bytes::Bytes;
use common::SECRET;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_rustls::rustls;

const BIN: &str = env!("CARGO_BIN_EXE_hookscope");

/// What the TLS server was sent.
#[derive(Debug)]
struct Seen {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// A CA written to `dir/ca.pem` and an https server on 127.0.0.1 with a certificate it signs
/// (for `localhost` and `127.0.0.1`), answering 202 and reporting each request.
struct TlsApp {
    url: String,
    ca: PathBuf,
    seen: mpsc::UnboundedReceiver<Seen>,
}

async fn tls_app(dir: &Path) -> TlsApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, ca_cert.pem()).unwrap();

    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let tx = tx.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let _ = tx.send(Seen {
                            path: parts.uri.to_string(),
                            headers: parts.headers,
                            body,
                        });
                        Ok::<_, hyper::Error>(
                            http::Response::builder()
                                .status(202)
                                .body(Full::new(Bytes::from_static(b"accepted over tls")))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    TlsApp {
        url: format!("https://localhost:{port}"),
        ca,
        seen,
    }
}

/// `cmd` trusting the test CA `ca` as the only authority, or the machine's own when none.
fn trusting(cmd: &mut Command, ca: Option<PathBuf>) -> &mut Command {
    cmd.env_remove("SSL_CERT_DIR");
    match ca {
        Some(ca) => cmd.env("SSL_CERT_FILE", ca),
        None => cmd.env_remove("SSL_CERT_FILE"),
    }
}

/// Runs the binary (off the test's runtime) and returns its exit code and what it printed.
async fn run(args: Vec<String>, ca: Option<PathBuf>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(BIN);
        cmd.args(&args)
            .env_remove("HOOKSCOPE_SECRET")
            .env_remove("PIVOTAL_WEBHOOK_SECRET");
        let out = trusting(&mut cmd, ca).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn send_signs_and_delivers_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tls_app(dir.path()).await;
    let to = format!("{}/webhooks", app.url);
    let args = |to: &str| -> Vec<String> {
        ["send", "--to", to, "--secret", SECRET]
            .map(String::from)
            .to_vec()
    };
    let (code, out) = run(args(&to), Some(app.ca.clone())).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("202 accepted over tls · msg_"), "{out}");
    let seen = app.seen.recv().await.unwrap();
    assert_eq!(seen.path, "/webhooks");
    // What arrived over TLS verifies, exactly as sent.
    let verifier = hookscope::verify::Verifier::new(
        vec![hookscope::verify::Secret::parse(SECRET).unwrap()],
        300,
    );
    let headers: Vec<(String, Vec<u8>)> = seen
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert_eq!(
        verifier
            .verify("/webhooks", &headers, &seen.body, now)
            .verified(),
        Some(true)
    );

    // Without the CA, the certificate is refused, and the error says so.
    let (code, out) = run(args(&to), None).await;
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(
            "UnknownIssuer (no authority this machine trusts signed the server's certificate"
        ) && out.contains("SSL_CERT_FILE")
            && out.contains("or pass --insecure to skip the check")
            && !out.contains("is hookscope listening there"),
        "{out}"
    );
    assert!(app.seen.try_recv().is_err(), "nothing was sent");

    // --insecure (-k) takes the certificate nobody vouches for.
    for k in ["--insecure", "-k"] {
        let mut insecure = args(&to);
        insecure.push(k.into());
        let (code, out) = run(insecure, None).await;
        assert_eq!(code, 0, "{k}: {out}");
        assert!(out.starts_with("202 accepted over tls · msg_"), "{out}");
        assert_eq!(app.seen.recv().await.unwrap().path, "/webhooks");
    }

    // https to a port that speaks plain http (hookscope's own, say).
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        let (mut conn, _) = plain.accept().unwrap();
        let _ = conn.read(&mut [0; 1024]);
        let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    });
    let (code, out) = run(args(&format!("https://127.0.0.1:{port}/")), None).await;
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("the server does not speak TLS there: if it is plain http, use http://"),
        "{out}"
    );
}

/// A headless hookscope forwarding to `target` with `extra` arguments, trusting `ca` when
/// given; its URL.
async fn forwarding(
    target: String,
    ca: Option<PathBuf>,
    extra: &'static [&'static str],
) -> (common::Running, String) {
    tokio::task::spawn_blocking(move || {
        let mut cmd =
            common::headless_json(&[&["--no-store", "--forward-to", &target], extra].concat());
        common::spawn_listening(trusting(&mut cmd, ca))
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn forwarding_relays_to_an_https_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tls_app(dir.path()).await;
    let target = format!("{}/api", app.url);
    let send = |url: String| {
        run(
            [
                "send",
                "--to",
                &format!("{url}/hooks?x=1"),
                "--secret",
                SECRET,
            ]
            .map(String::from)
            .to_vec(),
            None,
        )
    };
    let (mut server, url) = forwarding(target.clone(), Some(app.ca.clone()), &[]).await;
    let (code, out) = send(url).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, 0, "{out}");
    // The app's answer, relayed.
    assert!(out.starts_with("202 accepted over tls · "), "{out}");
    let seen = app.seen.recv().await.unwrap();
    assert_eq!(seen.path, "/api/hooks?x=1");
    assert!(seen.headers.contains_key("svix-signature"));

    // An app whose certificate nothing vouches for: 502, saying so.
    let (mut server, url) = forwarding(target.clone(), None, &[]).await;
    let (code, out) = send(url).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("502 hookscope could not reach the app at https://localhost:")
            && out.contains("UnknownIssuer (no authority this machine trusts"),
        "{out}"
    );
    assert!(app.seen.try_recv().is_err(), "nothing reached the app");

    // Unless it was told to take any certificate (a development server's self-signed one).
    let (mut server, url) = forwarding(target, None, &["--insecure"]).await;
    let (code, out) = send(url).await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("202 accepted over tls · "), "{out}");
    assert_eq!(app.seen.recv().await.unwrap().path, "/api/hooks?x=1");
}

#[tokio::test]
async fn replay_to_an_https_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = tls_app(dir.path()).await;
    let store = dir.path().join("r.sqlite3");
    let mut b = hookscope::testing::Builder::new(&[SECRET], time::OffsetDateTime::now_utc());
    let d = b.signed(
        SECRET,
        "msg_tls",
        &hookscope::testing::event("a.b", "evt_tls"),
    );
    hookscope::store::Store::open(&store)
        .unwrap()
        .insert(&[&d], "t")
        .unwrap();
    let replay = |extra: &[&str]| {
        let args: Vec<String> = [
            &[
                "replay",
                "evt_tls",
                "--to",
                &app.url,
                "--store",
                store.to_str().unwrap(),
            ],
            extra,
        ]
        .concat()
        .into_iter()
        .map(String::from)
        .collect();
        run(args, None)
    };
    let (code, out) = replay(&[]).await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("or pass --insecure"), "{out}");
    assert!(app.seen.try_recv().is_err(), "nothing reached the app");

    let (code, out) = replay(&["--insecure"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("202 accepted over tls · replayed #1"),
        "{out}"
    );
    let seen = app.seen.recv().await.unwrap();
    assert_eq!((seen.path.as_str(), &seen.body), (d.path.as_str(), &d.body));
}
