//! Forwarding to an app, replays and response modes, over real sockets with a small app server.

mod common;

use bytes::Bytes;
use common::*;
use hookscope::client::Trust;
use hookscope::delivery::Delivery;
use hookscope::forward::{Control, ForwardError, Forwarder, RespondMode, Waiting};
use hookscope::receiver::{Config, Receiver};
use hookscope::replay::Resend;
use hookscope::verify::{Secret, Verdict, Verifier};
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the app saw.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
}

/// A small app: /ok → 200, /fail → 500, /slow → 200 after 3 s, /huge → 200 with 2 MiB.
async fn app() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let path = req
                            .uri()
                            .path_and_query()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                            .collect();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        log.lock().unwrap().push(Seen {
                            path: path.clone(),
                            headers,
                            body,
                        });
                        let (status, text) = if path.contains("/huge") {
                            (200, Bytes::from(vec![b'x'; 2 << 20]))
                        } else if path.contains("/fail") {
                            (500, Bytes::from_static(b"boom"))
                        } else if path.contains("/slow") {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            (200, Bytes::from_static(b"late"))
                        } else {
                            (200, Bytes::from_static(b"app ok"))
                        };
                        let mut resp = http::Response::new(Full::new(text));
                        *resp.status_mut() = http::StatusCode::from_u16(status).unwrap();
                        resp.headers_mut()
                            .insert("x-app", http::HeaderValue::from_static("yes"));
                        // Latin-1, as old frameworks write a header: legal (obs-text), not UTF-8.
                        resp.headers_mut()
                            .insert("x-name", http::HeaderValue::from_bytes(b"caf\xe9").unwrap());
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

async fn receiver(
    forward: Option<Forwarder>,
    mode: RespondMode,
) -> (Receiver, mpsc::Receiver<Box<Delivery>>) {
    let (server, rx, _) = receiver_waiting(forward, mode).await;
    (server, rx)
}

/// A receiver, with its count of deliveries still waiting for their answer.
async fn receiver_waiting(
    forward: Option<Forwarder>,
    mode: RespondMode,
) -> (Receiver, mpsc::Receiver<Box<Delivery>>, Waiting) {
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    config.forward = forward;
    config.control = Control::new(mode);
    let waiting = config.waiting.clone();
    let (tx, rx) = mpsc::channel(64);
    (Receiver::start(config, tx).await.unwrap(), rx, waiting)
}

async fn next(rx: &mut mpsc::Receiver<Box<Delivery>>) -> Delivery {
    *tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap()
}

fn forwarder(app: SocketAddr, base: &str, timeout: Duration, verified_only: bool) -> Forwarder {
    Forwarder::new(
        &format!("http://{app}{base}"),
        timeout,
        verified_only,
        Trust::System,
    )
    .unwrap()
}

/// One signed `{}` sent through a new receiver relaying to `app`: the sender's reply and the
/// delivery recorded.
async fn through(app: SocketAddr, msg_id: &str) -> (Reply, Delivery) {
    let (server, mut rx) = receiver(
        Some(forwarder(app, "", Duration::from_secs(5), false)),
        RespondMode::Normal,
    )
    .await;
    let body = b"{}";
    let reply = post(
        server.local_addr(),
        "/",
        &signed(SECRET, msg_id, body),
        body,
    )
    .await;
    (reply, next(&mut rx).await)
}

#[tokio::test]
async fn the_sender_gets_the_apps_answer_and_both_sides_are_recorded() {
    let (app_addr, seen) = app().await;
    let (server, mut rx) = receiver(
        Some(forwarder(
            app_addr,
            "/webhooks",
            Duration::from_secs(5),
            false,
        )),
        RespondMode::Normal,
    )
    .await;
    let body = br#"{"type":"customer.created","id":"evt_f"}"#;
    let mut headers = signed(SECRET, "msg_f", body);
    headers.push(("connection", "close".into()));
    let reply = post(server.local_addr(), "/ok?src=x", &headers, body).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "app ok"));
    assert!(
        reply.headers.contains(&("x-app".into(), "yes".into())),
        "{:?}",
        reply.headers
    );

    let got = seen.lock().unwrap()[0].clone();
    assert_eq!(
        got.path, "/webhooks/ok?src=x",
        "original path and query appended"
    );
    assert_eq!(&got.body[..], &body[..], "byte for byte");
    let has = |n: &str| got.headers.iter().any(|(h, _)| h == n);
    assert!(has("svix-signature") && has("svix-id") && has("x-forwarded-for"));
    assert!(
        got.headers
            .iter()
            .all(|(h, v)| h != "connection" || v != b"close"),
        "hop-by-hop dropped"
    );

    let d = next(&mut rx).await;
    assert_eq!(d.verdict.verified(), Some(true));
    let f = d.forward.expect("forward recorded");
    assert_eq!((f.status, &f.body[..]), (Some(200), &b"app ok"[..]));
    assert!(f.headers.iter().any(|(n, v)| n == "x-app" && v == "yes"));
    assert_eq!(d.response.status, 200);
    assert_eq!(d.response.body, "app ok");
}

#[tokio::test]
async fn app_errors_and_rejected_deliveries_are_relayed_as_they_are() {
    let (app_addr, seen) = app().await;
    let (server, mut rx) = receiver(
        Some(forwarder(app_addr, "", Duration::from_secs(5), false)),
        RespondMode::Normal,
    )
    .await;
    let body = b"{}";
    let reply = post(
        server.local_addr(),
        "/fail",
        &signed(OTHER_SECRET, "msg_x", body),
        body,
    )
    .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (500, "boom"),
        "the app's answer, not hookscope's 401"
    );
    let d = next(&mut rx).await;
    assert_eq!(
        d.verdict.failure_code(),
        Some("bad_signature"),
        "the verdict still shows"
    );
    assert_eq!(d.forward.unwrap().status, Some(500));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn verified_only_keeps_rejected_deliveries_from_the_app() {
    let (app_addr, seen) = app().await;
    let (server, mut rx) = receiver(
        Some(forwarder(app_addr, "", Duration::from_secs(5), true)),
        RespondMode::Normal,
    )
    .await;
    let body = b"{}";
    let reply = post(
        server.local_addr(),
        "/ok",
        &signed(OTHER_SECRET, "msg_v", body),
        body,
    )
    .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (401, "invalid signature")
    );
    assert!(next(&mut rx).await.forward.is_none());
    let reply = post(
        server.local_addr(),
        "/ok",
        &signed(SECRET, "msg_w", body),
        body,
    )
    .await;
    assert_eq!(reply.body, "app ok");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_closed_port_gives_502_and_a_slow_app_504() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (reply, d) = through(closed, "msg_c").await;
    assert_eq!(reply.status, 502);
    assert!(reply.body.contains("connection refused"), "{}", reply.body);
    assert_eq!(d.forward.unwrap().error, Some(ForwardError::Refused));
    let body = b"{}";

    let (app_addr, _) = app().await;
    let (server, mut rx) = receiver(
        Some(forwarder(app_addr, "", Duration::from_millis(300), false)),
        RespondMode::Normal,
    )
    .await;
    let reply = post(
        server.local_addr(),
        "/slow",
        &signed(SECRET, "msg_s", body),
        body,
    )
    .await;
    assert_eq!(reply.status, 504);
    let d = next(&mut rx).await;
    assert!(matches!(
        d.forward.unwrap().error,
        Some(ForwardError::Timeout { .. })
    ));
    assert_eq!(d.response.status, 504);
    // Nothing else is affected.
    assert_eq!(
        post(
            server.local_addr(),
            "/ok",
            &signed(SECRET, "msg_t", body),
            body
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn an_answer_too_long_to_relay_relays_its_status_and_keeps_its_beginning() {
    // The app took the delivery (200) with a body over 1 MiB: a 502 would have the provider
    // deliver it again, and a body cut short would say what the app never said.
    let (app_addr, _) = app().await;
    let f = forwarder(app_addr, "", Duration::from_secs(10), false);
    let (server, mut rx) = receiver(Some(f), RespondMode::Normal).await;
    let body = b"{}";
    let reply = post(
        server.local_addr(),
        "/huge",
        &signed(SECRET, "msg_h", body),
        body,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        "the app answered 200 with a body over 1 MiB: hookscope relays its status, not that body"
    );
    // Its headers describe the body not relayed (its length, type, encoding): none goes.
    assert!(!reply.headers.iter().any(|(n, _)| n == "x-app"));
    let d = next(&mut rx).await;
    assert_eq!(d.response.status, 200);
    assert_eq!(d.response.body, reply.body);
    let f = d.forward.unwrap();
    assert_eq!((f.status, f.error, f.body_cut), (Some(200), None, true));
    assert_eq!(f.body.len(), 1 << 20, "its first MiB is kept to show");
    assert!(f.body.iter().all(|&b| b == b'x'));
    assert!(f.headers.iter().any(|(n, v)| n == "x-app" && v == "yes"));
    // The connection the rest was left on is not reused: the next goes through whole.
    let reply = post(
        server.local_addr(),
        "/ok",
        &signed(SECRET, "msg_o", body),
        body,
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "app ok"));
    assert!(!next(&mut rx).await.forward.unwrap().body_cut);
}

#[tokio::test]
async fn a_delivery_waiting_for_the_app_is_counted_until_it_answers() {
    // The record (and the inspector's row) comes once the app has answered: meanwhile the
    // forwarder says one is on its way, and since when.
    let (app_addr, _) = app().await;
    let f = forwarder(app_addr, "", Duration::from_secs(10), false);
    let (server, mut rx, waiting) = receiver_waiting(Some(f), RespondMode::Normal).await;
    assert!(waiting.now().is_empty());
    let body = b"{}";
    let addr = server.local_addr();
    let sent =
        tokio::spawn(
            async move { post(addr, "/slow", &signed(SECRET, "msg_w", body), body).await },
        );
    counted(&waiting).await;
    let (n, _) = waiting.now().app.expect("waiting for the app");
    assert_eq!(n, 1);
    assert_eq!(waiting.now().delay, None);
    assert!(
        rx.try_recv().is_err(),
        "not recorded before the app answers"
    );
    assert_eq!(sent.await.unwrap().status, 200);
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_w"));
    assert!(waiting.now().is_empty(), "no longer waiting once answered");
}

#[tokio::test]
async fn after_the_app_answers_a_delay_holds_the_delivery_counted_as_the_delay() {
    // Forwarding with the answer mode's delay: first the app is waited for (3 s), then the
    // delay runs on the app's answer. The inspector names what holds it at each moment.
    let (app_addr, _) = app().await;
    let f = forwarder(app_addr, "", Duration::from_secs(10), false);
    let (server, mut rx, waiting) =
        receiver_waiting(Some(f), RespondMode::Delay(Duration::from_secs(2))).await;
    let addr = server.local_addr();
    let body = b"{}";
    let sent =
        tokio::spawn(
            async move { post(addr, "/slow", &signed(SECRET, "msg_d", body), body).await },
        );
    counted(&waiting).await;
    assert_eq!(waiting.now().app.map(|(n, _)| n), Some(1));
    assert_eq!(waiting.now().delay, None, "the app has not answered yet");
    let start = Instant::now();
    while waiting.now().app.is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the app never answered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        waiting.now().delay.map(|(n, _)| n),
        Some(1),
        "held by the delay once the app answered"
    );
    assert!(rx.try_recv().is_err(), "not recorded before it is answered");
    assert_eq!(sent.await.unwrap().status, 200);
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_d"));
    assert!(waiting.now().is_empty());
}

/// Waits until `waiting` counts a delivery (the receiver holds it until it is answered).
async fn counted(waiting: &Waiting) {
    let start = Instant::now();
    while waiting.now().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10), "never counted");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_sender_that_hangs_up_before_the_app_answers_is_recorded_not_lost() {
    // A provider's timeout (Svix: 15 s) shorter than the app takes: the provider gives up and
    // retries, and hookscope must show that attempt, not drop it with the handler.
    let (app_addr, seen) = app().await;
    let f = forwarder(app_addr, "", Duration::from_secs(10), false);
    let (server, mut rx, waiting) = receiver_waiting(Some(f), RespondMode::Normal).await;
    let addr = server.local_addr();
    hang_up_after(addr, "/slow", "msg_gone", Duration::from_millis(300)).await;
    let d = next(&mut rx).await;
    assert_eq!(d.msg_id.as_deref(), Some("msg_gone"));
    assert_eq!(d.verdict.verified(), Some(true));
    assert_eq!(d.response.status, 0, "nothing was answered");
    assert!(
        d.response
            .unanswered()
            .starts_with("the sender hung up after "),
        "{}",
        d.response.unanswered()
    );
    assert!(
        d.response
            .unanswered()
            .ends_with(", before the app answered")
    );
    let f = d.forward.as_ref().expect("the relay is recorded");
    assert_eq!(f.url, format!("http://{app_addr}/slow"));
    assert!(
        matches!(f.error, Some(ForwardError::Abandoned { .. })),
        "{:?}",
        f.error
    );
    let line = hookscope::headless::human_line(&d);
    assert!(
        line.contains(" → app failed: given up: the sender hung up after ")
            && line.ends_with(", before the app answered (nothing answered)"),
        "{line}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "the app did get it");
    assert!(waiting.now().is_empty(), "no longer counted as waiting");
    // The next delivery is the next record.
    let body = b"{}";
    let reply = post(addr, "/", &signed(SECRET, "msg_after", body), body).await;
    assert_eq!(reply.status, 200);
    assert_eq!(next(&mut rx).await.msg_id.as_deref(), Some("msg_after"));
}

#[tokio::test]
async fn a_sender_that_hangs_up_during_a_delay_is_recorded_as_unanswered() {
    let (server, mut rx, waiting) =
        receiver_waiting(None, RespondMode::Delay(Duration::from_secs(5))).await;
    let addr = server.local_addr();
    let gone = tokio::spawn(hang_up_after(
        addr,
        "/",
        "msg_gave_up",
        Duration::from_millis(300),
    ));
    // Held back while the delay runs, and counted for the inspector.
    counted(&waiting).await;
    assert!(rx.try_recv().is_err(), "not recorded before it is answered");
    gone.await.unwrap();
    let d = next(&mut rx).await;
    assert_eq!(d.msg_id.as_deref(), Some("msg_gave_up"));
    assert_eq!(d.response.status, 0, "the 200 never went out");
    assert!(
        d.response
            .unanswered()
            .ends_with(", during the answer mode's delay"),
        "{}",
        d.response.unanswered()
    );
    let line = hookscope::headless::human_line(&d);
    assert!(
        line.contains(" · no answer: the sender hung up after "),
        "{line}"
    );
    assert!(waiting.now().is_empty());
}

#[tokio::test]
async fn stopping_ends_the_waits_and_keeps_what_waited() {
    // Forwarding to an app that takes 3 s: hookscope stops meanwhile (Ctrl-C). The sender is
    // told to retry, and the delivery is recorded with why the app was not waited for.
    let (app_addr, _) = app().await;
    let f = forwarder(app_addr, "", Duration::from_secs(10), false);
    let (server, mut rx, waiting) = receiver_waiting(Some(f), RespondMode::Normal).await;
    let addr = server.local_addr();
    let body = b"{}";
    let sent =
        tokio::spawn(
            async move { post(addr, "/slow", &signed(SECRET, "msg_stop", body), body).await },
        );
    counted(&waiting).await;
    server.shutdown().await;
    let reply = sent.await.unwrap();
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (503, "hookscope is shutting down")
    );
    let d = next(&mut rx).await;
    assert_eq!(d.msg_id.as_deref(), Some("msg_stop"));
    assert_eq!(d.response.status, 503);
    let f = d.forward.as_ref().unwrap();
    assert!(
        matches!(f.error, Some(ForwardError::Stopped { .. })),
        "{:?}",
        f.error
    );
    assert_eq!(f.answer_status(), 503);
    assert!(
        hookscope::headless::human_line(&d)
            .contains("→ app failed: given up: hookscope was stopping after "),
        "{}",
        hookscope::headless::human_line(&d)
    );

    // The answer mode's delay: stopping cuts it short, and the answer is given and recorded.
    let (server, mut rx, waiting) =
        receiver_waiting(None, RespondMode::Delay(Duration::from_secs(30))).await;
    let addr = server.local_addr();
    let sent =
        tokio::spawn(
            async move { post(addr, "/", &signed(SECRET, "msg_delayed", body), body).await },
        );
    counted(&waiting).await;
    server.shutdown().await;
    let reply = tokio::time::timeout(Duration::from_secs(10), sent)
        .await
        .expect("answered when stopping, not after the 30 s delay");
    assert_eq!(reply.unwrap().status, 200);
    let d = next(&mut rx).await;
    assert_eq!(
        (d.msg_id.as_deref(), d.response.status),
        (Some("msg_delayed"), 200)
    );
}

#[tokio::test]
async fn response_modes_do_what_they_say() {
    let body = b"{}";
    let (server, mut rx) = receiver(None, RespondMode::Status(410)).await;
    let reply = post(server.local_addr(), "/", &signed(SECRET, "m1", body), body).await;
    assert_eq!(reply.status, 410);
    let d = next(&mut rx).await;
    assert_eq!(d.response.status, 410);
    assert_eq!(d.verdict.verified(), Some(true), "the verdict is kept");

    let (server, _rx) = receiver(None, RespondMode::Flaky(1.0)).await;
    assert_eq!(
        post(server.local_addr(), "/", &signed(SECRET, "m2", body), body)
            .await
            .status,
        500
    );
    let (server, _rx) = receiver(None, RespondMode::Flaky(0.0)).await;
    assert_eq!(
        post(server.local_addr(), "/", &signed(SECRET, "m3", body), body)
            .await
            .status,
        200
    );

    let (server, _rx) = receiver(None, RespondMode::Delay(Duration::from_millis(400))).await;
    let started = Instant::now();
    assert_eq!(
        post(server.local_addr(), "/", &signed(SECRET, "m4", body), body)
            .await
            .status,
        200
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "answered only after the delay"
    );

    // Switched at run time.
    let verifier = Verifier::new(vec![Secret::parse(SECRET).unwrap()], 300);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), verifier);
    let control = Control::new(RespondMode::Normal);
    config.control = control.clone();
    let (tx, _rx) = mpsc::channel(8);
    let server = Receiver::start(config, tx).await.unwrap();
    assert_eq!(
        post(server.local_addr(), "/", &signed(SECRET, "m5", body), body)
            .await
            .status,
        200
    );
    control.set(RespondMode::Status(503));
    assert_eq!(
        post(server.local_addr(), "/", &signed(SECRET, "m6", body), body)
            .await
            .status,
        503
    );
}

#[tokio::test]
async fn replays_are_linked_and_resigned_replays_pass_the_tolerance() {
    let (server, mut rx) = receiver(None, RespondMode::Normal).await;
    let base = format!("http://{}", server.local_addr());
    let body = br#"{"type":"a.b","id":"evt_r"}"#;
    let stale = time::OffsetDateTime::now_utc().unix_timestamp() - 900;
    // A delivery signed 15 minutes ago: rejected as too old.
    let reply = post(
        server.local_addr(),
        "/r",
        &signed_at(SECRET, "msg_r", body, stale),
        body,
    )
    .await;
    assert_eq!(reply.status, 401);
    let original = next(&mut rx).await;
    assert_eq!(original.verdict.failure_code(), Some("timestamp_too_old"));

    // As received: still too old, now linked to the original.
    let (status, _) = resend(&base, &original, &original.headers, Resend::Replay).await;
    assert_eq!(status, 401);
    let again = next(&mut rx).await;
    assert_eq!(again.replay_of, Some(original.seq));
    assert_eq!(again.verdict.failure_code(), Some("timestamp_too_old"));
    assert_eq!(&again.body[..], &body[..]);

    // Re-signed: fresh timestamp, same message id, verified.
    let secrets = vec![Secret::parse(SECRET).unwrap()];
    let headers = hookscope::replay::resign(
        &original,
        &secrets,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .unwrap();
    let (status, text) = resend(&base, &original, &headers, Resend::Replay).await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    let resigned = next(&mut rx).await;
    assert!(matches!(resigned.verdict, Verdict::Verified(_)));
    assert_eq!(resigned.msg_id.as_deref(), Some("msg_r"));
    assert_eq!(resigned.replay_of, Some(original.seq));
    assert!(!again.edited && !resigned.edited);

    // Edited: a new message, linked to the original and marked as an edit.
    let edit = hookscope::replay::edited(
        &original,
        Bytes::from_static(br#"{"type":"a.b","id":"evt_r2"}"#),
        "msg_r2",
        &secrets,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .unwrap();
    let (status, _) = resend(&base, &edit, &edit.headers, Resend::Edit).await;
    assert_eq!(status, 200);
    let edited = next(&mut rx).await;
    assert_eq!(edited.msg_id.as_deref(), Some("msg_r2"));
    assert_eq!(edited.replay_of, Some(original.seq));
    assert!(edited.edited);
    assert_eq!(
        hookscope::headless::human_line(&edited),
        format!("✓ a.b · evt_r2 (msg_r2) [edit of #{}]", original.seq)
    );
    // A replay of that edit is a replay: the edit's mark does not go along.
    let (status, _) = resend(&base, &edited, &edited.headers, Resend::Replay).await;
    assert_eq!(status, 200);
    let replayed = next(&mut rx).await;
    assert_eq!(replayed.replay_of, Some(edited.seq));
    assert!(!replayed.edited);
}

/// `d` with `headers` re-sent to `base` as `what`: the status and text answered.
async fn resend(
    base: &str,
    d: &Delivery,
    headers: &[(String, Vec<u8>)],
    what: Resend,
) -> (u16, String) {
    hookscope::replay::send(base, d, headers, what, Trust::System)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_delivery_to_the_root_reaches_the_apps_route_as_written() {
    // The dashboard holds the tunnel's bare URL, so deliveries come to /.
    let (app_addr, seen) = app().await;
    let (server, mut rx) = receiver(
        Some(forwarder(
            app_addr,
            "/api/webhooks",
            Duration::from_secs(5),
            false,
        )),
        RespondMode::Normal,
    )
    .await;
    let body = br#"{"type":"customer.created","id":"evt_root"}"#;
    let reply = post(
        server.local_addr(),
        "/",
        &signed(SECRET, "msg_root", body),
        body,
    )
    .await;
    assert_eq!(reply.status, 200);
    let d = next(&mut rx).await;
    // Replayed straight at the app, the same rule.
    let (status, _) = resend(
        &format!("http://{app_addr}/api/webhooks"),
        &d,
        &d.headers,
        Resend::Replay,
    )
    .await;
    assert_eq!(status, 200);
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    assert_eq!(paths, ["/api/webhooks", "/api/webhooks"]);
}

/// `hookscope replay ARGS --store STORE` with `visual` as the editor and no secret from the
/// environment: its exit code, stdout and stderr.
fn replay_cli(
    args: &[&str],
    store: &std::path::Path,
    visual: &str,
) -> (Option<i32>, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hookscope"))
        .arg("replay")
        .args(args)
        .arg("--store")
        .arg(store)
        .env("VISUAL", visual)
        .env_remove("HOOKSCOPE_SECRET")
        .env_remove("PIVOTAL_WEBHOOK_SECRET")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn replay_from_the_command_line() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("r.sqlite3");
    let mut b = hookscope::testing::Builder::new(
        &[SECRET],
        time::OffsetDateTime::now_utc() - time::Duration::minutes(20),
    );
    let d = b.signed(
        SECRET,
        "msg_cli",
        &hookscope::testing::event("a.b", "evt_cli"),
    );
    // And a GET with no message id, as a browser's favicon request is recorded.
    let get = b.request("GET", "/favicon.ico", vec![], b"");
    let ids = hookscope::store::Store::open(&store)
        .unwrap()
        .insert(&[&d, &get], "t")
        .unwrap();
    let id = ids[0];

    let (mut server, url) = common::spawn_listening(&mut common::headless_json(&["--no-store"]));
    let mut out = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    // `replay ARGS`, with `visual` as the editor for --edit.
    let replay =
        |args: &[&str], visual: &str| replay_cli(&[args, &["--to", &url]].concat(), &store, visual);
    // An empty key leaves the id out: the newest is replayed.
    let run_id = |key: &str, extra: &[&str]| {
        let key = (!key.is_empty()).then_some(key);
        replay(&[key.as_slice(), extra].concat(), "false")
    };
    let run = |extra: &[&str]| run_id("evt_cli", extra);
    let (code, text, err) = run(&[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.starts_with("401 invalid signature · replayed #"),
        "{text}"
    );
    // Refused as it was signed 20 minutes ago: the likely reason, and the way, are said.
    assert!(
        err.contains("hookscope: as received, it was signed 20m")
            && err.contains("past the 5m receivers allow: --resign signs it again"),
        "{err}"
    );
    let line: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["failure"], "timestamp_too_old");
    assert_eq!(line["replay_of"], id);
    assert_eq!(line["edited"], false);
    let (code, text, err) = run(&["--resign", "--secret", SECRET]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(err, "");
    assert!(
        text.starts_with("200 ok · replayed #") && text.contains("re-signed msg_cli"),
        "{text}"
    );
    let line: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["verified"], true);
    assert_eq!(line["msg_id"], "msg_cli");
    // No message id to name: the line ends at the delivery's number.
    let (code, text, err) = run_id(&ids[1].to_string(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(err, "", "no timestamp, nothing to advise");
    assert_eq!(
        text,
        format!("405 method not allowed · replayed #{}\n", ids[1])
    );
    // Without an id: the newest, named on stderr.
    let (code, again, err) = run_id("", &[]);
    assert_eq!((code, again), (Some(1), text));
    assert_eq!(
        err,
        format!(
            "hookscope: the newest delivery, #{} (give an id, msg_… or evt_… for another)\n",
            ids[1]
        )
    );

    // (The two GET replays' lines.)
    for _ in 0..2 {
        let line: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
        assert_eq!(line["method"], "GET");
    }

    // --edit: the body through the editor (sed here, in place), sent signed as a new message.
    let edit =
        |editor: &str, secret: &[&str]| replay(&[&["evt_cli", "--edit"], secret].concat(), editor);
    let sed = "sed -i -e s/evt_cli/evt_edited/";
    let (code, text, err) = edit(sed, &["--secret", SECRET]);
    assert_eq!(code, Some(0), "{text}{err}");
    assert!(
        text.starts_with(&format!("200 ok · sent #{id} as edited, msg_")),
        "{text}"
    );
    assert_eq!(
        err,
        format!(
            "hookscope: #{id}'s body is open in `{sed}`: save and close it to send it signed\n"
        )
    );
    let line: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["verified"], true);
    assert_eq!(line["event_id"], "evt_edited");
    assert_eq!(line["replay_of"], id);
    // Marked as an edit, though a headless run without a store keeps no other header.
    assert_eq!(line["edited"], true);
    assert!(
        text.trim_end().ends_with(line["msg_id"].as_str().unwrap()),
        "{text}"
    );
    assert_ne!(line["msg_id"], "msg_cli");
    // Left as it was: nothing sent, and said.
    let (code, text, err) = edit("true", &["--secret", SECRET]);
    assert_eq!((code, text.as_str()), (Some(1), ""));
    assert!(
        err.ends_with(&format!(
            "hookscope: nothing sent: #{id}'s body was not changed (--resign sends it again, re-signed)\n"
        )),
        "{err}"
    );
    // No secret to sign with: said before any editor opens.
    let (code, _, err) = edit("touch /nonexistent/never", &[]);
    assert_eq!(code, Some(2), "an error, as for --resign");
    assert!(
        err.contains("no whsec_ secret applies to /webhooks: pass --secret"),
        "{err}"
    );
    assert!(!err.contains("is open in"), "{err}");
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn headless_json_lines_carry_the_forward_result() {
    use std::io::BufRead as _;
    let bin = env!("CARGO_BIN_EXE_hookscope");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let forward_to = format!("http://{closed}/app");
    let (mut server, url) = common::spawn_listening(&mut common::headless_json(&[
        "--no-store",
        "--forward-to",
        &forward_to,
    ]));
    let out = std::process::Command::new(bin)
        .args(["send", "--to", &format!("{url}/in?x=1"), "--secret", SECRET])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("502 hookscope could not reach the app")
    );
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let line: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(line["verified"], true);
    assert_eq!(line["status"], 502);
    assert_eq!(
        line["forward"]["url"],
        format!("http://{closed}/app/in?x=1")
    );
    assert_eq!(line["forward"]["status"], serde_json::Value::Null);
    assert_eq!(
        line["forward"]["error"],
        "connection refused: is the app running?"
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test]
async fn an_app_port_that_does_not_speak_http_is_named_as_such() {
    let not_http = raw_app(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
    let (reply, d) = through(not_http, "msg_n").await;
    assert_eq!(reply.status, 502);
    assert!(
        reply.body.contains("the app's answer is not valid HTTP"),
        "{}",
        reply.body
    );
    let error = d.forward.unwrap().error.unwrap().to_string();
    assert!(error.ends_with("is that port the app's?"), "{error}");
}

/// An app that writes `answer` to every request, whatever it was.
async fn raw_app(answer: &'static [u8]) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(answer).await;
        }
    });
    addr
}

#[tokio::test]
async fn an_apps_101_is_not_relayed_and_interim_answers_are_passed_over() {
    // Nothing asked to switch protocols (Upgrade is not relayed): relayed, a 101 would tell
    // the sender's client that the connection now speaks something else.
    let app = raw_app(
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
    )
    .await;
    let (reply, d) = through(app, "msg_101").await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert!(
        reply.body.contains(
            "the app answered 101 Switching Protocols, which is no answer to a webhook: not relayed"
        ),
        "{}",
        reply.body
    );
    assert_eq!(d.forward.unwrap().status, None);
    // Early hints before the answer: the answer is what the sender gets.
    let app = raw_app(b"HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok").await;
    let (reply, _) = through(app, "msg_103").await;
    assert_eq!((reply.status, reply.body.as_str()), (202, "ok"));
}

/// A stand-in for a tunnel: relays every connection on its port to whatever address `to`
/// holds by the time one arrives.
async fn tunnel(to: Arc<Mutex<Option<SocketAddr>>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = to.lock().unwrap().expect("the tunnel's target is set");
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn forwarding_that_leads_back_to_hookscope_stops_after_one_round() {
    // --forward-to the tunnel's URL, which leads back to hookscope itself: without a check
    // each delivery came back, was forwarded again, and so on until its head outgrew hyper's
    // limits (97 records of one POST).
    let target = Arc::new(Mutex::new(None));
    let tunnel = tunnel(target.clone()).await;
    let forward = Forwarder::new(
        &format!("http://{tunnel}/"),
        Duration::from_secs(5),
        false,
        Trust::System,
    );
    let (server, mut rx) = receiver(Some(forward.unwrap()), RespondMode::Normal).await;
    *target.lock().unwrap() = Some(server.local_addr());
    let body = b"{}";
    let reply = post(
        server.local_addr(),
        "/hooks",
        &signed(SECRET, "msg_loop", body),
        body,
    )
    .await;
    // The copy that came back is not forwarded: 508, which the first relays as the app's.
    assert_eq!(reply.status, 508, "{}", reply.body);
    assert!(
        reply
            .body
            .starts_with("hookscope did not forward this delivery: ")
            && reply.body.contains("leads to this hookscope"),
        "{}",
        reply.body
    );
    let (inner, outer) = (next(&mut rx).await, next(&mut rx).await);
    assert_eq!(
        inner.forward.as_ref().and_then(|f| f.error.clone()),
        Some(ForwardError::Loop)
    );
    assert_eq!(outer.forward.as_ref().and_then(|f| f.status), Some(508));
    let more = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await;
    assert!(more.is_err(), "a third record: {more:?}");
}

#[tokio::test]
async fn the_apps_headers_reach_the_sender_byte_for_byte() {
    let (app_addr, _) = app().await;
    let (server, mut rx) = receiver(
        Some(forwarder(app_addr, "", Duration::from_secs(5), false)),
        RespondMode::Normal,
    )
    .await;
    let body = b"{}";
    let mut request = format!(
        "POST /ok HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (n, v) in signed(SECRET, "msg_latin", body) {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n{}");
    let mut conn = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut conn, request.as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut conn, &mut answer)
        .await
        .unwrap();
    // Relayed as the app wrote it, not as the record's text (where it reads `caf\u{fffd}`).
    assert!(
        answer.windows(14).any(|w| w == b"x-name: caf\xe9\r\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let d = next(&mut rx).await;
    let recorded = d.forward.unwrap().headers;
    assert!(
        recorded.contains(&("x-name".into(), "caf\u{fffd}".into())),
        "{recorded:?}"
    );
}

#[tokio::test]
async fn a_password_in_a_target_url_is_sent_as_basic_auth_and_never_recorded() {
    // A staging app or a tunnel behind basic auth (ngrok --basic-auth): the user and password
    // in the URL are what curl would send, and appear in no record, header line or result.
    let (app_addr, seen) = app().await;
    let authorization = |i: usize| -> Vec<Vec<u8>> {
        seen.lock().unwrap()[i]
            .headers
            .iter()
            .filter(|(n, _)| n == "authorization")
            .map(|(_, v)| v.clone())
            .collect()
    };
    // "ops:s3cr@t" written as the URL needs it.
    let basic = b"Basic b3BzOnMzY3JAdA==".to_vec();
    let target = format!("http://ops:s3cr%40t@{app_addr}/api");

    let f = Forwarder::new(&target, Duration::from_secs(5), false, Trust::System).unwrap();
    assert_eq!(f.target(), format!("http://{app_addr}/api"));
    let (server, mut rx) = receiver(Some(f), RespondMode::Normal).await;
    let body = b"{}";
    let mut headers = signed(SECRET, "msg_auth", body);
    // The sender's own credentials are for hookscope's side; the target's replace them.
    headers.push(("authorization", "Bearer the-providers".into()));
    let reply = post(server.local_addr(), "/in", &headers, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(authorization(0), std::slice::from_ref(&basic));
    let d = next(&mut rx).await;
    let recorded = d.forward.as_ref().unwrap().url.clone();
    assert_eq!(recorded, format!("http://{app_addr}/api/in"));

    let opts = hookscope::sender::Options {
        to: hookscope::sender::parse_target(&format!("{target}/ok")).unwrap(),
        secret: Some(Secret::parse(SECRET).unwrap()),
        event_type: "a.b".into(),
        data: None,
        count: 1,
        concurrency: 1,
        rate: None,
        headers: hookscope::sender::HeaderStyle::Svix,
        faults: Vec::new(),
        quiet: false,
        timeout: Duration::from_secs(5),
        trust: Trust::System,
    };
    let mut out = Vec::new();
    let summary = hookscope::sender::run(opts, &mut out, std::future::pending())
        .await
        .unwrap();
    assert_eq!(summary.ok, 1, "{}", String::from_utf8_lossy(&out));
    assert_eq!(authorization(1), std::slice::from_ref(&basic));

    let (status, _) = resend(&target, &d, &d.headers, Resend::Replay).await;
    assert_eq!(status, 200);
    assert_eq!(authorization(2), [basic]);
    assert!(!String::from_utf8_lossy(&out).contains("s3cr"));
}

#[test]
fn replay_failed_re_sends_each_message_still_failing() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("f.sqlite3");
    let mut b = hookscope::testing::Builder::new(
        &[SECRET],
        time::OffsetDateTime::now_utc() - time::Duration::minutes(20),
    );
    let ev = hookscope::testing::event;
    // Verified and answered: nothing to recover.
    let fine = b.signed(SECRET, "msg_fine", &ev("customer.created", "evt_fine"));
    // Rejected at first, then a retry got through: recovered already.
    let mut first_try = b.signed(SECRET, "msg_fixed", &ev("customer.created", "evt_fixed"));
    first_try.response.status = 401;
    first_try.verdict =
        hookscope::verify::Verdict::Unchecked(hookscope::verify::Unchecked::Unreadable {
            detail: "stand-in for a rejection".into(),
        });
    let retried = b.signed(SECRET, "msg_fixed", &ev("customer.created", "evt_fixed"));
    // Verified, but the app answered 500 (through forwarding): failing.
    let mut app_failed = b.signed(SECRET, "msg_app", &ev("order.paid", "evt_app"));
    app_failed.response.status = 500;
    // Signed with another secret: failing.
    let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let rejected = b.signed(other, "msg_rej", &ev("customer.updated", "evt_rej"));
    // Over --max-body, refused unread: failing, and no replay can send its body.
    let refused = b.record(
        "POST",
        "/webhooks",
        hookscope::testing::signed_headers(SECRET, "msg_big", 0, b""),
        b"",
        hookscope::verify::Verdict::Unchecked(hookscope::verify::Unchecked::BodyTooLarge {
            limit: 16,
            size: 17,
            declared: true,
        }),
    );
    let get = b.request("GET", "/favicon.ico", vec![], b"");
    let ids = hookscope::store::Store::open(&store)
        .unwrap()
        .insert(
            &[
                &fine,
                &first_try,
                &retried,
                &app_failed,
                &rejected,
                &refused,
                &get,
            ],
            "t",
        )
        .unwrap();

    let (mut server, url) = common::spawn_listening(&mut common::headless_json(&["--no-store"]));
    let mut out = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    // `replay --failed --since WHEN ARGS`.
    let replay_since = |since: &str, args: &[&str]| {
        replay_cli(
            &[&["--failed", "--since", since], args].concat(),
            &store,
            "false",
        )
    };
    let replay = |args: &[&str]| replay_since("1h", args);

    // A dry run lists them as `history` does, oldest first, and sends nothing.
    let (code, text, err) = replay(&["--dry-run", "--to", &url]);
    assert_eq!(code, Some(0), "{err}");
    let listed: Vec<&str> = text.lines().collect();
    assert_eq!(listed.len(), 3, "{text}");
    for (line, (id, msg)) in listed.iter().zip([
        (ids[3], "msg_app"),
        (ids[4], "msg_rej"),
        (ids[5], "413 POST"),
    ]) {
        assert!(
            line.starts_with(&format!("{id}  ")) && line.contains(msg),
            "{text}"
        );
    }
    assert_eq!(
        err,
        format!("hookscope: 3 messages failing: without --dry-run, each is re-sent to {url}\n")
    );
    // Narrowed to what a body holds (one customer's, an event id), as history --contains.
    let (code, text, _) = replay(&["--dry-run", "--to", &url, "--contains", "EVT_REJ"]);
    assert_eq!(code, Some(0));
    assert!(
        text.lines().count() == 1 && text.starts_with(&format!("{}  ", ids[4])),
        "{text}"
    );

    // As received: signed 20 minutes ago, so refused again; the one without its body is
    // not sent, and said.
    let (code, text, err) = replay(&["--to", &url]);
    assert_eq!(code, Some(1), "{text}{err}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with(&format!(
            "401 invalid signature · replayed #{} msg_app",
            ids[3]
        )),
        "{text}"
    );
    assert!(
        lines[1].contains(&format!("replayed #{} msg_rej", ids[4])),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("error · #{} msg_big: ", ids[5]))
            && lines[2].contains("a replay would not send the body that came"),
        "{text}"
    );
    assert!(
        err.starts_with("replayed 3 · 2xx 0 · non-2xx 2 · errors 1\n")
            && err.contains(
                "2 refused as received were signed longer ago than receivers allow: --resign"
            ),
        "{err}"
    );
    for (id, msg) in [(ids[3], "msg_app"), (ids[4], "msg_rej")] {
        let line: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
        assert_eq!(
            (&line["msg_id"], &line["replay_of"]),
            (&msg.into(), &id.into())
        );
        assert_eq!(line["verified"], false);
    }

    // Re-signed, of one type: the app's message goes through.
    let (code, text, err) = replay(&[
        "--to", &url, "--resign", "--secret", SECRET, "--type", "order.*",
    ]);
    assert_eq!(code, Some(0), "{text}{err}");
    assert_eq!(
        text,
        format!("200 ok · replayed #{} re-signed msg_app\n", ids[3])
    );
    assert_eq!(err, "replayed 1 · 2xx 1 · non-2xx 0 · errors 0\n");
    let line: serde_json::Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (&line["msg_id"], &line["verified"]),
        (&"msg_app".into(), &true.into())
    );

    // Nothing failing among them; nothing stored in the window at all.
    let (code, text, err) = replay(&["--to", &url, "--type", "customer.created"]);
    assert_eq!((code, text.as_str()), (Some(0), ""), "{err}");
    assert_eq!(
        err,
        "hookscope: no message is failing: the newest delivery of each went through\n"
    );
    let (code, text, err) = replay_since("2m", &["--to", &url]);
    assert_eq!((code, text.as_str()), (Some(0), ""), "{err}");
    assert!(
        err.starts_with("hookscope: no message is failing: none of the 7 stored"),
        "{err}"
    );
    // --resign with no secret is said once, before anything is sent.
    let (code, text, err) = replay(&["--to", &url, "--resign"]);
    assert_eq!((code, text.as_str()), (Some(2), ""), "{err}");
    assert!(
        err.contains("--resign needs the secret to sign with"),
        "{err}"
    );
    // Nothing listening: said once, with how many went.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (code, _, err) = replay(&["--to", &closed]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with(&format!(
            "hookscope: stopped after 0 of 3: {closed}/webhooks: nothing listens"
        )),
        "{err}"
    );
    // One delivery or all failing, not both; and --failed asks since when.
    for args in [&["--failed", "--since", "1h", "7"][..], &["--failed"][..]] {
        assert_eq!(replay_cli(args, &store, "false").0, Some(2), "{args:?}");
    }
    let _ = server.kill();
}
