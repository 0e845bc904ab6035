//! What hookscope's HTTP clients share (`send`, replay, forwarding): one connector for http
//! and https, error text that names the cause, and reading only as much of an answer as is
//! shown.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use hyper_rustls::ConfigBuilderExt as _;
use hyper_util::client::legacy::connect::HttpConnector;
use std::sync::OnceLock;
use std::time::Duration;

/// Connects to `http://` and `https://` URLs alike.
pub type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Whose certificates an https client accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trust {
    /// Certificates the system's certificate authorities vouch for (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` are honoured, so a development CA such as mkcert's counts), or Mozilla's
    /// list when the system has none.
    #[default]
    System,
    /// Any certificate, for any name (`--insecure`, as curl's): a development server's
    /// self-signed one. The handshake's signatures are still checked; who the server is, is not.
    Anyone,
}

impl Trust {
    /// [`Trust::Anyone`] when `--insecure` was given.
    pub fn insecure_if(insecure: bool) -> Trust {
        if insecure {
            Trust::Anyone
        } else {
            Trust::System
        }
    }
}

/// Reads `url` as an `http://` or `https://` URL with a host, or says what is wrong with it in
/// words that follow "`url`: " (for one written without its scheme, how to write it).
pub fn http_url(url: &str) -> Result<http::Uri, String> {
    if !url.contains("://") {
        let with = format!("http://{url}");
        if with.parse::<http::Uri>().is_ok_and(|u| u.host().is_some()) {
            return Err(format!("no scheme: write {with} (or https://{url})"));
        }
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| "not a URL (e.g. http://127.0.0.1:8787/)".to_string())?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(format!(
                "{}:// is not supported: use http:// or https://",
                crate::sanitize::line(other)
            ));
        }
        None => return Err("not a URL (e.g. http://127.0.0.1:8787/)".into()),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    // The parser keeps `:99999` in the text but reads no port from it, and the request would
    // go to the scheme's default (80) instead: a port written must be one.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let host_and_port = authority.rsplit('@').next().unwrap_or(authority);
    let after_host = host_and_port.rfind(']').map_or(0, |i| i + 1);
    if let Some(colon) = host_and_port[after_host..].rfind(':') {
        let port = &host_and_port[after_host + colon + 1..];
        if !port.is_empty() && uri.port_u16().is_none_or(|p| p == 0) {
            return Err(format!(
                "`{}` is not a port: give one from 1 to 65535",
                crate::sanitize::line(port)
            ));
        }
    }
    Ok(uri)
}

/// What an answer says, in a line: the body's start, but for a tunnel's own error (ngrok
/// answers for an agent that is gone, with an HTML page) what went wrong and where to read
/// about it, and for any other HTML page its title rather than its markup.
pub fn answer_text(headers: &http::HeaderMap, body: &[u8]) -> String {
    if let Some(code) = headers
        .get("ngrok-error-code")
        .and_then(|v| v.to_str().ok())
    {
        // The caller escapes the whole line for the terminal.
        let meaning = match code {
            "ERR_NGROK_3200" => {
                ": the tunnel is offline (is the ngrok agent, `ngrok http 8787`, still running?)"
            }
            "ERR_NGROK_8012" => {
                ": the ngrok agent could not reach its local port (is hookscope listening where the tunnel points?)"
            }
            _ => "",
        };
        return format!(
            "from ngrok, not the receiver: {code}{meaning}; https://ngrok.com/docs/errors/{}/",
            code.to_ascii_lowercase()
        );
    }
    let html = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html && let Some(title) = html_title(body) {
        return format!("an HTML page: “{title}”");
    }
    let mut text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    text.truncate(text.trim_end().len());
    text
}

/// The text of an HTML page's `<title>`, whitespace collapsed.
fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title = text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then_some(title)
}

/// A connector with Nagle off and a limit on connecting, trusting `trust`'s certificates.
pub fn connector(connect_timeout: Duration, trust: Trust) -> Connector {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http.enforce_http(false);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls(trust).clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// The TLS settings for `trust`, built once per process: the system's CAs take a while to read.
fn tls(trust: Trust) -> &'static rustls::ClientConfig {
    static SYSTEM: OnceLock<rustls::ClientConfig> = OnceLock::new();
    static ANYONE: OnceLock<rustls::ClientConfig> = OnceLock::new();
    // ring is the only provider built in; installing it is a no-op when done already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match trust {
        Trust::System => {
            SYSTEM.get_or_init(
                || match rustls::ClientConfig::builder().with_native_roots() {
                    Ok(b) => b.with_no_client_auth(),
                    Err(_) => rustls::ClientConfig::builder()
                        .with_webpki_roots()
                        .with_no_client_auth(),
                },
            )
        }
        Trust::Anyone => ANYONE.get_or_init(|| {
            let provider = rustls::crypto::ring::default_provider();
            rustls::ClientConfig::builder()
                .dangerous()
                .with_custom_certificate_verifier(std::sync::Arc::new(AnyCertificate(
                    provider.signature_verification_algorithms,
                )))
                .with_no_client_auth()
        }),
    }
}

/// Accepts whatever certificate the server shows, but not a handshake forged without its key:
/// the signatures that prove the server holds the certificate's key are checked as usual.
#[derive(Debug)]
struct AnyCertificate(rustls::crypto::WebPkiSupportedAlgorithms);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// An error and each of its sources, `outer: inner: …`: hyper's top-level messages alone
/// ("client error (Connect)") do not say what went wrong. A TLS failure gets what it means
/// in brackets after it.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    if let Some(advice) = tls_advice(e) {
        text = format!("{text} ({advice})");
    }
    text
}

/// Whether `e` is a connection refused somewhere in its sources: nothing listens there.
pub fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// `nothing listens at HOST:PORT (connection refused)` for a refused connection to `uri`,
/// naming the port a URL without one went to (80 for `http://localhost`, an easy slip when
/// the server is on 8787); `None` for any other failure.
pub fn nothing_listens(e: &(dyn std::error::Error + 'static), uri: &http::Uri) -> Option<String> {
    if !refused(e) {
        return None;
    }
    let default = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let host = uri.host().unwrap_or("");
    Some(match uri.port_u16() {
        Some(port) => format!("nothing listens at {host}:{port} (connection refused)"),
        None => format!(
            "nothing listens at {host}:{default} (connection refused; with no port in the URL, {}:// goes to {default})",
            uri.scheme_str().unwrap_or("http")
        ),
    })
}

/// What a TLS failure somewhere in `e`'s sources means to someone sending a webhook.
pub fn tls_advice(e: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use rustls::{CertificateError as C, Error as R};
    let mut source = Some(e);
    while let Some(s) = source {
        let tls = s.downcast_ref::<R>().or_else(|| wrapped(s.downcast_ref()?));
        if let Some(tls) = tls {
            return Some(match tls {
                R::InvalidCertificate(C::UnknownIssuer) => {
                    "no authority this machine trusts signed the server's certificate: for a \
                     self-signed or development one (mkcert), add its CA to the system's store \
                     or point SSL_CERT_FILE at it, or pass --insecure to skip the check"
                }
                R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                    "the server's certificate is for another host name (--insecure skips the \
                     check)"
                }
                R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                    "the server's certificate has expired (--insecure skips the check)"
                }
                R::InvalidMessage(_) | R::InappropriateMessage { .. } => {
                    "the server does not speak TLS there: if it is plain http, use http://"
                }
                // A self-signed certificate made as its own CA (openssl req -x509's default)
                // lands here, as CaUsedAsEndEntity.
                R::InvalidCertificate(_) => {
                    "the server's certificate is not one this machine can trust (a self-signed \
                     one, say): add its CA to the system's store or point SSL_CERT_FILE at it, \
                     or pass --insecure to skip the check"
                }
                _ => "the TLS handshake failed",
            });
        }
        source = s.source();
    }
    None
}

/// The rustls error inside an io::Error, however deep: its source() skips the error it
/// wraps, and the TLS layers wrap rustls's in one io::Error inside another.
fn wrapped(io: &std::io::Error) -> Option<&rustls::Error> {
    let inner = io.get_ref()?;
    match inner.downcast_ref::<std::io::Error>() {
        Some(io) => wrapped(io),
        None => inner.downcast_ref(),
    }
}

/// A URL without the user and password it may carry (`https://user:pass@staging.example/`,
/// as ngrok's `--basic-auth` or a staging server asks for), and the `Authorization: Basic`
/// value they stand for. hyper sends neither part of such a URL, and a password must not be
/// shown, logged or recorded with the URL: callers keep the URL returned and send the header.
pub fn credentials(uri: http::Uri) -> (http::Uri, Option<http::HeaderValue>) {
    let Some((userinfo, host)) = uri
        .authority()
        .and_then(|a| a.as_str().rsplit_once('@'))
        .map(|(u, h)| (u.to_string(), h.to_string()))
    else {
        return (uri, None);
    };
    let mut parts = uri.clone().into_parts();
    parts.authority = host.parse().ok();
    let Ok(bare) = http::Uri::from_parts(parts) else {
        // No host after the @ (`http://user@/`): nothing to send to, as the caller will say.
        return (uri, None);
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((&userinfo, ""));
    let pair = [
        percent_decoded(user),
        b":".to_vec(),
        percent_decoded(password),
    ]
    .concat();
    let value = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pair)
    );
    (bare, http::HeaderValue::from_str(&value).ok())
}

/// `%XX` escapes decoded (RFC 3986), everything else as it is.
fn percent_decoded(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// How much of an answer is read when only its start is shown: answers up to this size are
/// read to their end, so the connection can carry the next request; a longer one costs this
/// much, not its size, and its connection is dropped.
pub const ANSWER_READ: usize = 64 * 1024;

/// The first `max` bytes of an answer's body, reading no further.
pub async fn preview<B>(mut body: B, max: usize) -> Result<Bytes, B::Error>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let mut out = BytesMut::new();
    while out.len() < max {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame?.into_data() {
            out.extend_from_slice(&data[..data.len().min(max - out.len())]);
        }
    }
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refused_certificate_is_told_about_insecure() {
        use rustls::{CertificateError as C, Error as R};
        // Wrapped as the TLS layers wrap it: an io::Error inside an io::Error.
        let said = |e: R| {
            let io = std::io::Error::other(std::io::Error::other(e));
            tls_advice(&io).unwrap_or_default()
        };
        assert!(said(R::InvalidCertificate(C::UnknownIssuer)).contains("--insecure"));
        // Any refusal not named on its own: BadSignature stands in here for the
        // Other(CaUsedAsEndEntity) that a self-signed certificate made as its own CA
        // (openssl req -x509's default) gets.
        let self_signed = said(R::InvalidCertificate(C::BadSignature));
        assert!(
            self_signed.contains("(a self-signed one, say)") && self_signed.contains("--insecure"),
            "{self_signed}"
        );
        assert_eq!(said(R::HandshakeNotComplete), "the TLS handshake failed");
    }

    #[test]
    fn an_answer_from_a_tunnel_or_an_html_page_reads_as_a_line() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = http::HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, http::HeaderValue::from_static(v));
            }
            h
        };
        let page = b"<!DOCTYPE html>\n<html><head><TITLE>\n  ngrok -  tunnel\nnot found </TITLE></head><body>ERR_NGROK_3200</body></html>";
        assert_eq!(
            answer_text(
                &headers(&[
                    ("content-type", "text/html"),
                    ("ngrok-error-code", "ERR_NGROK_3200")
                ]),
                page
            ),
            "from ngrok, not the receiver: ERR_NGROK_3200: the tunnel is offline (is the ngrok agent, `ngrok http 8787`, still running?); https://ngrok.com/docs/errors/err_ngrok_3200/"
        );
        assert_eq!(
            answer_text(&headers(&[("ngrok-error-code", "ERR_NGROK_9999")]), b""),
            "from ngrok, not the receiver: ERR_NGROK_9999; https://ngrok.com/docs/errors/err_ngrok_9999/"
        );
        // Any other HTML page (a proxy's, a framework's error page): its title, not markup.
        assert_eq!(
            answer_text(
                &headers(&[("content-type", "text/html; charset=utf-8")]),
                page
            ),
            "an HTML page: “ngrok - tunnel not found”"
        );
        // Without a title, or not HTML, the body's start as before.
        assert_eq!(
            answer_text(&headers(&[("content-type", "text/html")]), b"<p>x</p>\n"),
            "<p>x</p>"
        );
        assert_eq!(
            answer_text(&headers(&[("content-type", "text/plain")]), b"ok\n"),
            "ok"
        );
        assert_eq!(html_title(b"<title></title>"), None);
        assert_eq!(html_title(b"<title>never closed"), None);
    }

    #[test]
    fn a_url_without_its_scheme_is_told_how_to_write_it() {
        let said = |u: &str| http_url(u).unwrap_err();
        assert_eq!(
            said("localhost:3000/webhooks"),
            "no scheme: write http://localhost:3000/webhooks (or https://localhost:3000/webhooks)"
        );
        assert_eq!(
            said("f00d.ngrok-free.app"),
            "no scheme: write http://f00d.ngrok-free.app (or https://f00d.ngrok-free.app)"
        );
        assert_eq!(
            said("ftp://x/"),
            "ftp:// is not supported: use http:// or https://"
        );
        assert_eq!(said("http:///x"), "not a URL (e.g. http://127.0.0.1:8787/)");
        assert_eq!(
            said("http://x y/"),
            "not a URL (e.g. http://127.0.0.1:8787/)"
        );
        assert_eq!(said(""), "not a URL (e.g. http://127.0.0.1:8787/)");
        // A port that is none would have sent the request to port 80 instead.
        for (url, port) in [
            ("http://localhost:99999/", "99999"),
            ("http://localhost:0/", "0"),
            ("http://[::1]:70000/", "70000"),
            ("http://user:pw@localhost:99999/", "99999"),
        ] {
            assert_eq!(
                said(url),
                format!("`{port}` is not a port: give one from 1 to 65535")
            );
        }
        for ok in [
            "http://127.0.0.1:8787",
            "https://a.example/hooks?x=1",
            "http://[::1]:80/",
            "http://[::1]/",
            "http://user:pw@localhost/",
            "http://user:pw@localhost:3000/",
            "http://localhost:/",
        ] {
            assert!(http_url(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_refused_connection_says_where_nothing_listens() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let said = |url: &str| nothing_listens(&refused, &url.parse().unwrap());
        assert_eq!(
            said("http://127.0.0.1:9/x").as_deref(),
            Some("nothing listens at 127.0.0.1:9 (connection refused)")
        );
        // The slip worth naming: a URL without the port the server is on.
        assert_eq!(
            said("http://localhost/").as_deref(),
            Some(
                "nothing listens at localhost:80 (connection refused; with no port in the URL, http:// goes to 80)"
            )
        );
        assert_eq!(
            said("https://[::1]/").as_deref(),
            Some(
                "nothing listens at [::1]:443 (connection refused; with no port in the URL, https:// goes to 443)"
            )
        );
        // Found anywhere in the chain (hyper's "client error (Connect)" wraps it); anything
        // else is not this.
        #[derive(Debug)]
        struct Connect(std::io::Error);
        impl std::fmt::Display for Connect {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Connect {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Connect(refused);
        assert!(nothing_listens(&wrapped, &"http://a:1/".parse().unwrap()).is_some());
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            nothing_listens(&reset, &"http://a:1/".parse().unwrap()),
            None
        );
    }
    use hyper::body::Frame;
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    /// A body of 1 KiB chunks without end, counting the chunks pulled from it.
    struct Endless(Arc<AtomicUsize>);

    impl hyper::body::Body for Endless {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'x'; 1024])))))
        }
    }

    #[tokio::test]
    async fn preview_stops_reading_once_it_has_enough() {
        let pulled = Arc::new(AtomicUsize::new(0));
        let got = preview(Endless(pulled.clone()), 2_500).await.unwrap();
        assert_eq!(got.len(), 2_500);
        assert_eq!(
            pulled.load(Ordering::Relaxed),
            3,
            "read past what was needed"
        );
    }

    #[tokio::test]
    async fn preview_of_a_short_body_is_all_of_it() {
        let body = http_body_util::Full::new(Bytes::from_static(b"ok"));
        assert_eq!(&preview(body, 200).await.unwrap()[..], b"ok");
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn credentials_in_a_url_become_basic_authorization_and_leave_it() {
        let split = |url: &str| {
            let (bare, auth) = credentials(url.parse().unwrap());
            (
                bare.to_string(),
                auth.map(|v| v.to_str().unwrap().to_string()),
            )
        };
        // "Aladdin:open sesame" is RFC 7617's example.
        assert_eq!(
            split("https://Aladdin:open%20sesame@staging.example:8443/hooks?x=1"),
            (
                "https://staging.example:8443/hooks?x=1".into(),
                Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==".into())
            )
        );
        // An @ in the password is written %40; the host is what follows the last @.
        assert_eq!(
            split("http://u:p%40ss@[::1]:3000/"),
            ("http://[::1]:3000/".into(), Some("Basic dTpwQHNz".into()))
        );
        assert_eq!(split("http://user@h/").1, Some("Basic dXNlcjo=".into()));
        assert_eq!(split("http://h:1/a"), ("http://h:1/a".into(), None));
    }

    #[test]
    fn error_chain_names_every_cause() {
        let e = Wrapped(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        ));
        assert_eq!(
            error_chain(&e),
            "client error (Connect): connection refused"
        );
    }
}
