//! Rendering with ratatui's TestBackend: insta snapshots of the screens a user sees, and checks
//! that hostile payloads never reach the terminal raw.

use hookscope::app::{Action, App, Info};
use hookscope::delivery::Delivery;
use hookscope::testing::{Builder, event, signed_headers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};
use std::sync::Arc;
use time::UtcOffset;
use time::macros::datetime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn app(w: u16, h: u16, color: bool) -> App {
    let mut app = App::new(
        Info {
            listen: "http://127.0.0.1:8787".into(),
            secrets: vec!["whsec_MfKQ…aSw".into()],
            tunnel: Some("https://f00d-cafe.ngrok-free.app".into()),
            forward: None,
            files_short: None,
        },
        color,
        UtcOffset::UTC,
    );
    app.update(Action::Resize(w, h));
    app.update(Action::Tick(
        datetime!(2026-11-27 10:00:00 UTC).unix_timestamp() * 1000,
    ));
    app
}

fn builder() -> Builder {
    Builder::new(&[SECRET], datetime!(2026-11-27 09:59:50 UTC))
}

fn keys(app: &mut App, codes: &[KeyCode]) {
    for c in codes {
        app.update(Action::Key(KeyEvent::new(*c, KeyModifiers::NONE)));
    }
}

/// Each character of `text` as a key press: `/inv` opens the filter and types `inv`.
fn typed(app: &mut App, text: &str) {
    let codes: Vec<KeyCode> = text.chars().map(KeyCode::Char).collect();
    keys(app, &codes);
}

fn render(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).unwrap();
    t.draw(|f| hookscope::ui::draw(f, app)).unwrap();
    t
}

fn screen(app: &App) -> String {
    render(app).backend().to_string()
}

/// A realistic session: verified events, a wrong-secret failure, a 405.
fn session(app: &mut App) {
    let mut b = builder();
    let mut ds = Vec::new();
    for (i, kind) in ["customer.created", "task.completed", "customer.updated"]
        .iter()
        .enumerate()
    {
        b.advance(1_500);
        ds.push(b.signed(
            SECRET,
            &format!("msg_2KWPBgLlAfxdpx2AI54pPJ85f{i}"),
            &event(kind, &format!("evt_1a2b3c{i}")),
        ));
    }
    b.advance(700);
    ds.push(b.signed(
        OTHER,
        "msg_2KWPBgLlAfxdpx2AI54pPJ85fX",
        &event("invoice.paid", "evt_9z8y7x"),
    ));
    b.advance(300);
    ds.push(b.request("GET", "/favicon.ico", vec![], b""));
    app.update(Action::Deliveries(ds.into_iter().map(Arc::new).collect()));
}

#[test]
fn a_stored_delivery_no_secret_verified_names_the_command_that_tries_one() {
    let hint = |d: Delivery| {
        let mut app = app(100, 30, false);
        app.update(Action::Deliveries(vec![Arc::new(d)]));
        keys(&mut app, &[KeyCode::Enter]);
        let flat = screen(&app).replace('"', "");
        let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
        flat.contains("→ to try a secret on it: hookscope show 812 --secret whsec_…")
    };
    let mut b = builder();
    let stored = |mut d: Delivery| {
        d.seq = 812;
        d.stored = true;
        d
    };
    let wrong = b.signed(OTHER, "msg_w", &event("a.b", "evt_w"));
    assert!(hint(stored(wrong.clone())), "bad_signature");
    let mut unchecked = Builder::new(&[], datetime!(2026-11-27 09:59:50 UTC));
    let unverified = unchecked.signed(SECRET, "msg_u", &event("a.b", "evt_u"));
    assert!(hint(stored(unverified)), "no secret");
    // Not in a store (--no-store): there is nothing for `show` to find.
    let mut unstored = wrong;
    unstored.seq = 812;
    assert!(!hint(unstored));
    // Nor where a secret would not help: verified, or the mismatch has another cause (a
    // newline added on the way).
    assert!(!hint(stored(b.signed(SECRET, "msg_v", b"{}"))));
    let body = event("a.b", "evt_n");
    let headers = signed_headers(SECRET, "msg_n", b.at.unix_timestamp(), &body);
    let newline = b.request("POST", "/webhooks", headers, &[&body[..], b"\n"].concat());
    assert_eq!(newline.verdict.failure_code(), Some("bad_signature"));
    assert!(!hint(stored(newline)));
}

#[test]
fn empty_state() {
    insta::assert_snapshot!(screen(&app(100, 16, true)));
}

#[test]
fn the_empty_state_names_the_port_listened_on() {
    let mut app = app(100, 16, false);
    app.info.listen = "http://127.0.0.1:9000".into();
    let s = screen(&app);
    assert!(s.contains("      ngrok http 9000 "), "{s}");
    assert!(
        s.contains("      hookscope send --to http://127.0.0.1:9000/ "),
        "{s}"
    );
}

#[test]
fn in_a_narrow_pane_the_empty_state_wraps_and_keeps_its_commands_whole() {
    for width in [32, 40, 50, 60] {
        let mut app = app(width, 24, false);
        app.info.listen = "http://127.0.0.1:9000".into();
        let s = screen(&app);
        assert!(s.contains("      ngrok http 9000 "), "{s}");
        // The command does not fit in 40 columns whole: it ends in `…` where it is cut.
        if width >= 50 {
            assert!(
                s.contains("      hookscope send --to http://127.0.0.1:9000/ "),
                "{s}"
            );
        } else {
            let row = s
                .lines()
                .find(|r| r.contains("      hookscope send --to http"));
            assert!(
                row.is_some_and(|r| r.trim_matches('"').trim_end().ends_with('…')),
                "{s}"
            );
        }
        // No prose is lost at the pane's edge: every word is on the screen.
        let words: Vec<&str> = s
            .lines()
            .flat_map(|l| l.trim_matches('"').split_whitespace())
            .collect();
        for word in "Point your tunnel here and register its URL with the provider: or fire a \
                     signed test event from another terminal:"
            .split_whitespace()
        {
            assert!(words.contains(&word), "{word:?} at width {width}: {s}");
        }
    }
    // A filter that matches nothing says how to get out of it, whole.
    let mut app = app(40, 24, false);
    session(&mut app);
    typed(&mut app, "/qq");
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app);
    // Beside the counts, which stay whole, how many secrets there are when none fits.
    assert!(s.contains(" 1 secret  ✓ 3  ✗ 1  Σ 5 "), "{s}");
    let words: Vec<&str> = s
        .lines()
        .flat_map(|l| l.trim_matches('"').split_whitespace())
        .collect();
    for word in ["Esc", "clears", "toggles", "failures", "only."] {
        assert!(words.contains(&word), "{word:?}: {s}");
    }
}

#[test]
fn listening_beyond_loopback_is_flagged_in_the_header() {
    let mut app = app(100, 16, false);
    assert!(!screen(&app).contains("open to other machines"));
    app.info.listen = "http://0.0.0.0:8787".into();
    let s = screen(&app);
    let first = s.lines().next().unwrap_or_default();
    assert!(
        first.contains("http://0.0.0.0:8787  ⚠ open to other machines "),
        "{s}"
    );
}

#[test]
fn serving_fewer_connections_than_asked_is_flagged_in_the_header() {
    // Start-up's warning went to stderr, under the inspector: the header says it where it shows.
    let mut app = app(100, 16, false);
    assert!(!screen(&app).contains("ulimit"));
    app.info.files_short = Some((36, 100));
    let s = screen(&app);
    let first = s.lines().next().unwrap_or_default();
    assert!(
        first.contains("http://127.0.0.1:8787  ⚠ 36 connections at once (ulimit -n 100) "),
        "{s}"
    );
}

#[test]
fn list_with_verified_detail() {
    let mut app = app(100, 28, true);
    session(&mut app);
    keys(
        &mut app,
        &[KeyCode::Char('j'), KeyCode::Char('j'), KeyCode::Enter],
    );
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn signature_failure_says_why() {
    let mut app = app(110, 30, true);
    session(&mut app);
    keys(&mut app, &[KeyCode::Char('j'), KeyCode::Enter]);
    let s = screen(&app);
    assert!(s.contains("✗ bad_signature"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn long_json_body_scrolls() {
    let mut app = app(90, 24, true);
    let mut b = builder();
    let items: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"sku":"SKU-{i:04}","qty":{}}}"#, i % 5 + 1))
        .collect();
    let body = format!(
        r#"{{"id":"evt_big","type":"invoice.finalized","data":{{"lines":[{}]}}}}"#,
        items.join(",")
    );
    let d = b.signed(SECRET, "msg_big", body.as_bytes());
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(
        &mut app,
        &[
            KeyCode::Enter,
            KeyCode::Tab,
            KeyCode::Tab,
            KeyCode::PageDown,
        ],
    );
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn a_long_json_string_wraps_under_its_key_and_the_end_is_still_reachable() {
    let mut app = app(60, 24, false);
    let note = "word ".repeat(60);
    let body = format!(r#"{{"id":"evt_1","type":"a.b","data":{{"note":"{note}","last":true}}}}"#);
    let d = builder().signed(SECRET, "msg_wrap", body.as_bytes());
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter, KeyCode::Tab, KeyCode::Tab]);
    let s = screen(&app);
    // "note" sits four in (two levels); its string goes on at six, after the margin.
    assert!(s.contains("\"     \"note\": \"word word"), "{s}");
    assert!(s.contains("\"       word word"), "{s}");
    // The end of the detail shows the last line at the pane's bottom, its wrapped rows
    // counted as drawn.
    keys(&mut app, &[KeyCode::Char('>')]);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().collect();
    let bottom = rows.len() - 2; // above the hint bar
    assert_eq!(rows[bottom].trim_matches('"').trim_end(), " }", "{s}");
    assert!(rows[bottom - 1].contains("   }"), "{s}");
}

#[test]
fn a_long_body_heading_wraps_under_the_margin_and_the_end_is_still_reachable() {
    use hookscope::verify::{Unchecked, Verdict};
    let mut app = app(60, 24, false);
    // Forty lines of an object cut short: shown raw, with the parser's note, as a part.
    let body = format!("{{\n{}", "  \"k\": 1,\n".repeat(39)) + "  \"last\": 2";
    let mut d = builder().request("POST", "/cut", vec![], body.as_bytes());
    d.verdict = Verdict::Unchecked(Unchecked::BodyIncomplete {
        error: "closed by the client".into(),
        received: body.len() as u64,
    });
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter, KeyCode::Tab, KeyCode::Tab]);
    let s = screen(&app);
    // The heading's rows go on after the margin, not at the pane's edge.
    assert!(
        s.contains("\" only the part that came: the body never came whole"),
        "{s}"
    );
    assert!(s.contains("\" not pretty-printed"), "{s}");
    keys(&mut app, &[KeyCode::Char('>')]);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().collect();
    let bottom = rows.len() - 2; // above the hint bar
    assert_eq!(
        rows[bottom].trim_matches('"').trim_end(),
        "   \"last\": 2",
        "{s}"
    );
}

#[test]
fn narrow_80x24_with_filter_and_failure() {
    let mut app = app(80, 24, true);
    session(&mut app);
    typed(&mut app, "/inv");
    keys(&mut app, &[KeyCode::Enter, KeyCode::Enter]);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn help_overlay() {
    let mut app = app(80, 30, true);
    session(&mut app);
    keys(&mut app, &[KeyCode::Char('?')]);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn help_overlay_scrolls_in_a_24_row_terminal() {
    let mut app = app(80, 24, true);
    session(&mut app);
    keys(&mut app, &[KeyCode::Char('?')]);
    let top = screen(&app);
    assert!(top.contains("j/k scroll · any other key closes"), "{top}");
    assert!(!top.contains("marks: ✓ verified"), "{top}");
    keys(&mut app, &[KeyCode::End]);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn in_a_narrow_pane_the_help_wraps_every_description_and_scrolls_to_the_end() {
    let mut app = app(40, 24, false);
    session(&mut app);
    keys(&mut app, &[KeyCode::Char('?')]);
    // Every word of every description, gathered from the top of the help to its end.
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..60 {
        let s = screen(&app);
        for row in s.lines() {
            let inside = row.trim_matches('"');
            // Inside the box only: a word cut at its border is not the word.
            if let Some(text) = inside.strip_prefix('│') {
                let text = text.strip_suffix('│').unwrap_or(text);
                seen.extend(text.split_whitespace().map(String::from));
            }
        }
        keys(&mut app, &[KeyCode::Char('j')]);
    }
    let s = screen(&app);
    assert!(s.contains("│ marks:"), "the end is reachable: {s}");
    assert!(
        s.contains(" of ") && s.contains('…'),
        "the title is cut with an ellipsis: {s}"
    );
    for (_, _, _, what) in hookscope::app::keymap::DEFAULT {
        for word in what.split_whitespace() {
            assert!(seen.iter().any(|w| w == word), "{word:?} of {what:?}: {s}");
        }
    }
}

#[test]
fn without_colour_nothing_is_coloured_and_marks_remain() {
    let mut app = app(100, 28, false);
    session(&mut app);
    keys(&mut app, &[KeyCode::Char('j'), KeyCode::Enter]);
    let t = render(&app);
    let buf = t.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    let s = t.backend().to_string();
    assert!(s.contains('✓') && s.contains('✗') && s.contains('!'));
}

#[test]
fn hostile_payloads_render_escaped() {
    let mut app = app(120, 30, true);
    let mut b = builder();
    let body =
        "{\"id\":\"evt_\\u001b]52;c;aGk=\\u0007\",\"type\":\"x\\u001b[2J\",\"rtl\":\"a\u{202e}b\"}";
    let mut headers = signed_headers(SECRET, "msg_\u{1b}[31m", 1, body.as_bytes());
    headers.push(("x-evil".into(), b"\x1b]0;title\x07\xff".to_vec()));
    let d = b.request("POST", "/p\u{1b}ath", headers, body.as_bytes());
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    for tab in 0..4 {
        keys(
            &mut app,
            &[if tab == 0 {
                KeyCode::Enter
            } else {
                KeyCode::Tab
            }],
        );
        for raw in [false, true] {
            if raw {
                keys(&mut app, &[KeyCode::Char('v')]);
            }
            let t = render(&app);
            for cell in t.backend().buffer().content() {
                assert!(
                    !cell.symbol().chars().any(hookscope::sanitize::is_unsafe),
                    "unsafe {:?} on tab {tab}",
                    cell.symbol()
                );
            }
        }
    }
    let s = screen(&app);
    assert!(s.contains("\\x1b"), "{s}");
}

#[test]
fn a_body_let_go_for_the_memory_budget_says_so() {
    let mut app = app(110, 24, true);
    app.body_budget = 64 * 1024;
    let mut b = builder();
    let ds = (0..3)
        .map(|i| {
            let body = format!(
                r#"{{"id":"evt_{i}","type":"file.uploaded","data":"{}"}}"#,
                "x".repeat(40_000)
            );
            Arc::new(b.signed(SECRET, &format!("msg_{i}"), body.as_bytes()))
        })
        .collect();
    app.update(Action::Deliveries(ds));
    // The oldest (bottom row), Body tab.
    keys(
        &mut app,
        &[
            KeyCode::Char('G'),
            KeyCode::Enter,
            KeyCode::Tab,
            KeyCode::Tab,
        ],
    );
    let s = screen(&app);
    assert!(
        s.contains("body (39.1 KiB) no longer held: with the store off, the newest 64 KiB"),
        "{s}"
    );
}

#[test]
fn the_body_tab_says_what_the_body_is() {
    for (body, head) in [
        (
            &br#"{"id":"evt_1"}"#[..],
            " pretty JSON (v: raw bytes) · 3 lines",
        ),
        (
            b"plain=text&a=b",
            " text, not pretty-printed (v: raw bytes) · 1 line",
        ),
        (
            b"\xff\xfe\x00",
            " binary (v: raw bytes) · 1 line · not UTF-8: shown as hex",
        ),
        (b"", " no body"),
    ] {
        let mut app = app(100, 20, false);
        let d = builder().request("POST", "/hooks", vec![], body);
        app.update(Action::Deliveries(vec![Arc::new(d)]));
        keys(&mut app, &[KeyCode::Enter, KeyCode::Tab, KeyCode::Tab]);
        let s = screen(&app);
        assert!(s.contains(&format!("\"{head}  ")), "{head:?} in\n{s}");
    }
}

#[test]
fn a_body_not_kept_whole_says_so_beside_its_size_and_over_the_body() {
    use hookscope::verify::{Unchecked, Verdict};
    let cases = [
        (
            Unchecked::BodyTooLarge {
                limit: 16 << 20,
                size: 1 << 30,
                declared: true,
            },
            &b""[..],
            " body      1 GiB announced, none read",
            " no body kept: it was over --max-body and refused unread",
        ),
        (
            Unchecked::BodyTooLarge {
                limit: 16 << 20,
                size: (16 << 20) + 100,
                declared: false,
            },
            b"",
            " body      over 16 MiB, none kept",
            " no body kept: it was over --max-body and refused unread",
        ),
        (
            Unchecked::NoRoom {
                limit: 256 << 20,
                size: 100,
                declared: true,
            },
            b"",
            " body      100 B announced, none read",
            " no body kept: other bodies held all of --max-body-memory, so it was refused unread",
        ),
        (
            Unchecked::NoRoom {
                limit: 256 << 20,
                size: 60,
                declared: false,
            },
            b"",
            " body      60 B read, none kept",
            " no body kept: other bodies held all of --max-body-memory, so it was refused unread",
        ),
        (
            Unchecked::BodyIncomplete {
                error: "closed by the client".into(),
                received: 11,
            },
            b"{\"partial\":",
            " body      11 B of 100 B announced, incomplete",
            " only the part that came: the body never came whole · text, not pretty-printed (v: raw bytes) · 1 line",
        ),
        (
            Unchecked::BodyIncomplete {
                error: "closed by the client".into(),
                received: 0,
            },
            b"",
            " body      0 B, incomplete",
            " no body: none of it came",
        ),
    ];
    for (verdict, body, overview, body_head) in cases {
        let mut app = app(120, 24, false);
        let mut d = builder().request("POST", "/uploads", vec![], body);
        if !body.is_empty() {
            // What the client announced, of which only `body` came.
            d.headers.push(("content-length".into(), b"100".to_vec()));
        }
        d.verdict = Verdict::Unchecked(verdict);
        app.update(Action::Deliveries(vec![Arc::new(d)]));
        keys(&mut app, &[KeyCode::Enter]);
        let s = screen(&app);
        assert!(s.contains(overview), "{overview:?} in\n{s}");
        keys(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
        let s = screen(&app);
        assert!(s.contains(body_head), "{body_head:?} in\n{s}");
    }
}

/// The record of a request the receiver never handled: `head` as far as it came, `verdict`
/// saying why, `status` what was answered (0: nothing).
fn from_head(head: &[u8], verdict: hookscope::verify::Unchecked, status: u16) -> Delivery {
    let mut d = builder().request("GET", "/", vec![], b"");
    let r = hookscope::malformed::request(Some(head), "127.0.0.1:5000".parse().unwrap());
    (d.method, d.path, d.version, d.headers) = (r.method, r.path, r.version, r.headers);
    d.verdict = hookscope::verify::Verdict::Unchecked(verdict);
    d.response = hookscope::delivery::ResponseRecord {
        status,
        body: "".into(),
    };
    d
}

#[test]
fn a_refused_head_says_which_line_was_wrong_wrapped_to_the_pane() {
    let mut app = app(80, 24, true);
    let head = b"POST /evil HTTP/1.1\r\nhost: x\r\nsvix-id: msg\x1b]52;c;aGk=\x07\r\n\r\n";
    let reason = "the header `svix-id` holds byte 0x1b, which HTTP forbids in a value".into();
    let d = from_head(
        head,
        hookscope::verify::Unchecked::Malformed { reason },
        400,
    );
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app);
    assert!(s.contains("! POST /evil"), "{s}");
    // The reason and the hint wrap inside the pane instead of running off its edge.
    assert!(
        s.contains("malformed request: the header `svix-id` holds byte 0x1b, which HTTP forbids"),
        "{s}"
    );
    assert!(s.contains("    in a value"), "{s}");
    assert!(s.contains("broke HTTP's rules"), "{s}");
    // hyper's answer has no body: its status's reason stands in for it.
    assert!(s.contains(" answered  400 Bad Request"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn a_tls_handshake_says_where_to_point_the_tunnel() {
    let mut app = app(100, 24, false);
    let hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03q\xcdi\x85";
    let reason = hookscope::malformed::TLS.into();
    let d = from_head(
        hello,
        hookscope::verify::Unchecked::Malformed { reason },
        400,
    );
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app);
    assert!(
        s.contains("malformed request: a TLS handshake, not HTTP"),
        "{s}"
    );
    assert!(
        s.contains("→ hookscope listens on http://127.0.0.1:8787: point the tunnel there (`ngrok http 8787`,"),
        "{s}"
    );
    assert!(!s.contains("broke HTTP's rules"), "{s}");
    // The list row and the request line name it, rather than a request line never seen.
    assert!(s.contains("! (TLS handshake)"), "{s}");
    assert!(
        s.contains(" request   (TLS handshake)  from 127.0.0.1:5000"),
        "{s}"
    );
    assert!(!s.contains("request line not seen"), "{s}");
}

#[test]
fn a_head_that_never_ended_shows_that_nothing_was_answered() {
    let mut app = app(100, 24, true);
    let head = b"POST /hooks HTTP/1.1\r\nhost: x\r\nsvix-id: msg_stalled\r\nx-slo";
    let received = head.len() as u64;
    let stalled = hookscope::verify::Unchecked::HeadIncomplete {
        received,
        ms: 30_000,
    };
    let mut d = from_head(head, stalled, 0);
    d.msg_id = Some("msg_stalled".into());
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app);
    let row = s
        .lines()
        .find(|l| l.contains("POST /hooks"))
        .expect("its row");
    assert!(
        row.contains('!') && row.trim_end_matches('"').trim_end().ends_with(" —"),
        "{row}"
    );
    let said = format!(
        "request head incomplete: the client sent at least {} B of it, then not",
        head.len()
    );
    assert!(s.contains(&said), "{s}");
    assert!(
        s.contains(" answered  none: the connection was closed without one"),
        "{s}"
    );
    keys(&mut app, &[KeyCode::BackTab]);
    let s = screen(&app);
    assert!(
        s.contains(" no answer: the connection was closed without one"),
        "{s}"
    );
}

#[test]
fn a_status_too_long_for_the_hint_bar_covers_the_rows_above_instead_of_being_cut() {
    let mut app = app(80, 24, false);
    session(&mut app);
    let before = screen(&app);
    let said = "copied event id evt_nLElg9xNtZV65lBztLQoDp4XMJc via the terminal (OSC 52; system clipboard: no display)";
    app.update(Action::Copied(said.into()));
    let s = screen(&app);
    let rows: Vec<String> = s
        .lines()
        .map(|l| l.trim_matches('"').trim().to_string())
        .collect();
    // The last two rows hold the whole text, wrapped at a space.
    assert_eq!(rows[rows.len() - 2..].join(" "), said, "{s}");
    // The list did not move to make room: its rows are where they were.
    assert_eq!(
        s.lines().take(9).collect::<Vec<_>>(),
        before.lines().take(9).collect::<Vec<_>>()
    );
    // Beyond three rows, the end is cut with an ellipsis rather than run off the screen.
    app.update(Action::Copied("word ".repeat(60)));
    let s = screen(&app);
    let rows: Vec<String> = s
        .lines()
        .map(|l| l.trim_matches('"').trim().to_string())
        .collect();
    assert!(rows[rows.len() - 4].is_empty(), "{s}");
    assert!(rows[rows.len() - 3].starts_with("word word"), "{s}");
    assert!(rows[rows.len() - 1].ends_with('…'), "{s}");
}

#[test]
fn every_screen_draws_at_every_small_size_without_panicking() {
    // The detail on each tab, the help over it, a long status, a typed filter: at sizes from
    // nothing to 39x13, drawing must not panic (a terminal can be resized to anything).
    let keys_for: [&[KeyCode]; 6] = [
        &[],
        &[KeyCode::Enter],
        &[KeyCode::Enter, KeyCode::Tab],
        &[KeyCode::Enter, KeyCode::Tab, KeyCode::Tab],
        &[KeyCode::Enter, KeyCode::Char('?')],
        &[KeyCode::Char('/'), KeyCode::Char('x')],
    ];
    for keys_now in keys_for {
        for w in [0, 1, 2, 3, 5, 8, 13, 21, 30, 39] {
            for h in 0..14 {
                let mut app = app(w, h, true);
                session(&mut app);
                keys(&mut app, keys_now);
                app.update(Action::Copied("word ".repeat(40)));
                let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
                t.draw(|f| hookscope::ui::draw(f, &app)).unwrap();
            }
        }
    }
}

#[test]
fn the_list_says_when_deliveries_are_waiting_for_the_app() {
    use hookscope::forward::Pending;
    // Beside long URLs in the header, at 80 columns, with deliveries held and none yet.
    for held in [false, true] {
        let mut app = app(80, 12, false);
        app.info.forward = Some("http://localhost:3000/webhooks".into());
        if held {
            session(&mut app);
        }
        let title = |app: &App| screen(app).lines().nth(2).unwrap_or("").to_string();
        assert!(!title(&app).contains("⧗"), "{}", title(&app));
        app.update(Action::Unanswered(Pending {
            app: Some((2, 12)),
            delay: None,
        }));
        let line = title(&app);
        assert!(line.contains("· ⧗ 2 waiting for the app (12s)"), "{line}");
        assert!(!line.contains("delay"), "{line}");
        app.update(Action::Unanswered(Pending::default()));
        assert!(!title(&app).contains("⧗"));
    }
    // The app answered one, and the answer mode's delay holds it: each phase named apart.
    let mut both = app(120, 12, false);
    both.info.forward = Some("http://localhost:3000/webhooks".into());
    both.update(Action::Unanswered(Pending {
        app: Some((1, 0)),
        delay: Some((1, 3)),
    }));
    let line = screen(&both).lines().nth(2).unwrap_or("").to_string();
    assert!(
        line.contains("· ⧗ 1 waiting for the app · ⧗ 1 held by the answer mode's delay (3s)"),
        "{line}"
    );
    both.update(Action::Unanswered(Pending {
        app: None,
        delay: Some((2, 5)),
    }));
    let line = screen(&both).lines().nth(2).unwrap_or("").to_string();
    assert!(
        line.contains("· ⧗ 2 held by the answer mode's delay (5s)") && !line.contains("app"),
        "{line}"
    );
    // Without forwarding, only the answer mode's delay holds deliveries back.
    let mut app = app(100, 12, false);
    app.update(Action::Unanswered(Pending {
        app: None,
        delay: Some((1, 3)),
    }));
    let line = screen(&app).lines().nth(2).unwrap_or("").to_string();
    assert!(
        line.contains("· ⧗ 1 held by the answer mode's delay (3s)"),
        "{line}"
    );
}

#[test]
fn a_delivery_whose_sender_hung_up_says_so_where_the_answer_would_be() {
    let mut app = app(100, 24, false);
    let mut d = builder().signed(SECRET, "msg_gone", br#"{"id":"evt_1","type":"a.b"}"#);
    d.response = hookscope::delivery::ResponseRecord {
        status: 0,
        body: "the sender hung up after 15 s, during the answer mode's delay".into(),
    };
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app);
    assert!(
        s.contains(
            " answered  none: the sender hung up after 15 s, during the answer mode's delay"
        ),
        "{s}"
    );
    keys(&mut app, &[KeyCode::BackTab]);
    let s = screen(&app);
    assert!(
        s.contains(" no answer: the sender hung up after 15 s, during the answer mode's delay"),
        "{s}"
    );
}

#[test]
fn a_type_or_an_id_too_long_for_its_column_ends_in_an_ellipsis() {
    let mut app = app(60, 12, false);
    let mut b = builder();
    let d = b.signed(
        SECRET,
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f0",
        &event(
            "customer.subscription.trial_will_end",
            "evt_2KWPBgLlAfxdpx2AI54pPJ85fKq",
        ),
    );
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    let s = screen(&app);
    let row = s.lines().nth(4).unwrap_or_default();
    // Cut where the column ends, and said to be cut: `customer.subscription.tr` alone would
    // read as a type of its own.
    assert!(
        row.contains("✓ customer.subscription.… evt_2KWPBgL…  "),
        "{s}"
    );
    // With room, nothing is cut and nothing added.
    app.update(Action::Resize(120, 12));
    let s = screen(&app);
    assert!(s.contains("customer.subscription.trial_will_end"), "{s}");
    assert!(s.contains("evt_2KWPBgLlAfxdpx2AI54pPJ85fKq "), "{s}");
    let row = s.lines().nth(4).unwrap_or_default();
    assert!(!row.contains('…'), "{s}");
}

#[test]
fn a_narrow_list_leaves_columns_out_rather_than_cut_its_numbers() {
    // The list's rows at every width; the number-like words (times, sizes, statuses) each
    // row shows when there is room for everything.
    let rows = |w: u16| -> Vec<Vec<String>> {
        let mut app = app(w, 12, false);
        session(&mut app);
        let t = render(&app);
        let buffer = t.backend().buffer();
        (4..9)
            .map(|y| {
                (0..w)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    .split_whitespace()
                    .filter(|word| word.chars().all(|c| c.is_ascii_digit() || ":.".contains(c)))
                    .map(String::from)
                    .collect()
            })
            .collect()
    };
    let full = rows(200);
    assert!(
        full.iter().all(|r| r.len() == 3),
        "time, size, status: {full:?}"
    );
    for w in 1..200 {
        for (row, (got, all)) in rows(w).iter().zip(&full).enumerate() {
            // What is shown is whole and in order: a subsequence of the full row's.
            let mut rest = all.iter();
            assert!(
                got.iter().all(|g| rest.any(|a| a == g)),
                "width {w}, row {row}: {got:?} is not part of {all:?}"
            );
        }
    }
    // The status stays longest: at 6 columns and more every row still says it.
    for w in 6..200 {
        assert!(
            rows(w)
                .iter()
                .zip(&full)
                .all(|(got, all)| got.last() == all.last()),
            "width {w}"
        );
    }
}

mod any_sequence {
    use super::*;
    use hookscope::delivery::{Delivery, ResponseRecord};
    use hookscope::verify::{Unchecked, Verdict};
    use proptest::prelude::*;
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

    /// Deliveries of every kind the inspector shows: verified, rejected, 405, a refused head
    /// without a request line, a body that is not UTF-8, hostile text, deep and wide JSON.
    fn pool() -> Vec<Arc<Delivery>> {
        let mut b = builder();
        let mut out = vec![
            b.signed(SECRET, "msg_ok", &event("customer.created", "evt_ok")),
            b.signed(OTHER, "msg_bad", &event("invoice.paid", "evt_bad")),
            b.request("GET", "/favicon.ico", vec![], b""),
            b.signed(SECRET, "msg_bin", b"\xff\x00\x1b[2J\xfe"),
            b.signed(
                SECRET,
                "msg_evil",
                br#"{"type":"a\u001b]52;c;aGk=\u0007","id":"\u202eevt","data":{"x":"\u0000"}}"#,
            ),
            b.signed(SECRET, "msg_deep", "[".repeat(5000).as_bytes()),
            b.signed(
                SECRET,
                "msg_wide",
                format!("{{\"type\":\"w\",\"data\":\"{}\"}}", "x".repeat(200_000)).as_bytes(),
            ),
        ];
        let mut refused = b.request("", "", vec![], b"");
        refused.verdict = Verdict::Unchecked(Unchecked::Malformed {
            reason: "invalid HTTP header parsed".into(),
        });
        refused.response = ResponseRecord {
            status: 400,
            body: "".into(),
        };
        out.push(refused);
        // A head that never ended: nothing answered (status 0).
        let mut stalled = b.request(
            "POST",
            "/half",
            vec![("svix-id".into(), b"msg_1".to_vec())],
            b"",
        );
        stalled.verdict = Verdict::Unchecked(Unchecked::HeadIncomplete {
            received: 40,
            ms: 30_000,
        });
        stalled.response = ResponseRecord {
            status: 0,
            body: "".into(),
        };
        out.push(stalled);
        // Characters of several code points, and ones terminals count differently.
        out.push(b.signed(
            SECRET,
            "msg_wide_chars",
            "{\"type\":\"🇯🇵❤\u{fe0f}\",\"id\":\"evt_👍🏽\",\"data\":\"नमस्ते ﾀﾞ น้ำ\"}".as_bytes(),
        ));
        out.into_iter().map(Arc::new).collect()
    }

    fn key_code() -> impl Strategy<Value = KeyCode> {
        prop_oneof![
            proptest::sample::select("jkgGfvyYcrRm?/x0 ".chars().collect::<Vec<_>>())
                .prop_map(KeyCode::Char),
            proptest::sample::select(vec![
                KeyCode::Enter,
                KeyCode::Esc,
                KeyCode::Tab,
                KeyCode::BackTab,
                KeyCode::Up,
                KeyCode::Down,
                KeyCode::PageUp,
                KeyCode::PageDown,
                KeyCode::Home,
                KeyCode::End,
                KeyCode::Backspace,
            ]),
        ]
    }

    /// A pool delivery as the store hands it to the inspector: its id, no body or headers.
    fn light(d: &Delivery, id: u64) -> Arc<Delivery> {
        let mut d = d.clone();
        d.seq = id;
        d.stored = true;
        d.body = Default::default();
        d.headers = Vec::new();
        Arc::new(d)
    }

    #[derive(Debug, Clone)]
    enum Step {
        Key(KeyCode),
        Deliver(Vec<usize>),
        /// Stored deliveries (ids from 1): from earlier sessions, or new.
        Stored(bool, Vec<(usize, u64)>),
        /// The store answers a load: the delivery in full, or gone; or fails (`true`).
        Loaded(u64, Option<usize>, bool),
        /// The store answers a search, for the filter being typed or a stale one; or fails.
        Found(bool, Vec<u64>, bool),
        Resize(u16, u16),
        Tick(i64),
        Mouse(u8, u16, u16),
        Copied(usize),
    }

    /// A store's error, shown in the status line and the detail; with escapes and a bidi
    /// override, as text from outside may hold.
    const STORE_ERROR: &str = "disk I/O error \x1b]52;c;cHduZWQ=\x07 in /tmp/s\u{202e}.sqlite3";

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => key_code().prop_map(Step::Key),
            2 => proptest::collection::vec(0usize..10, 1..4).prop_map(Step::Deliver),
            1 => (any::<bool>(), proptest::collection::vec((0usize..10, 1u64..40), 1..4))
                .prop_map(|(earlier, ds)| Step::Stored(earlier, ds)),
            1 => (1u64..40, proptest::option::of(0usize..10), proptest::bool::weighted(0.2))
                .prop_map(|(id, d, failed)| Step::Loaded(id, d, failed)),
            1 => (any::<bool>(), proptest::collection::vec(1u64..40, 0..5), proptest::bool::weighted(0.2))
                .prop_map(|(current, ids, failed)| Step::Found(current, ids, failed)),
            1 => (0u16..130, 0u16..45).prop_map(|(w, h)| Step::Resize(w, h)),
            1 => (0i64..600_000).prop_map(Step::Tick),
            1 => (0u8..3, 0u16..130, 0u16..45).prop_map(|(k, x, y)| Step::Mouse(k, x, y)),
            1 => (0usize..200).prop_map(Step::Copied),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Whatever happens in whatever order (keys, deliveries of every kind, resizes down to
        /// nothing, clicks anywhere, time passing), the state stays consistent and every frame
        /// draws, with nothing on screen that could drive the terminal.
        #[test]
        fn any_sequence_of_events_keeps_the_inspector_drawable(
            steps in proptest::collection::vec(step(), 1..60),
            retain in proptest::option::of(1usize..6),
            bodies_in_store in any::<bool>(),
        ) {
            let pool = pool();
            let mut app = app(100, 30, true);
            // A small --retain makes deliveries leave while they are selected or open.
            if let Some(n) = retain {
                app.retain = n;
            }
            app.bodies_in_store = bodies_in_store;
            let start = datetime!(2026-11-27 10:00:00 UTC).unix_timestamp() * 1000;
            for s in steps {
                match s {
                    Step::Key(c) => {
                        app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)));
                    }
                    Step::Deliver(picks) => {
                        app.update(Action::Deliveries(picks.iter().map(|&i| pool[i].clone()).collect()));
                    }
                    Step::Stored(earlier, ds) => {
                        let ds = ds.iter().map(|&(i, id)| light(&pool[i], id)).collect();
                        app.update(if earlier { Action::Earlier(ds) } else { Action::Deliveries(ds) });
                    }
                    Step::Loaded(id, d, failed) => {
                        let delivery = d.map(|i| {
                            let mut full = Delivery::clone(&pool[i]);
                            full.seq = id;
                            full.stored = true;
                            Arc::new(full)
                        });
                        let delivery = if failed { Err(STORE_ERROR.into()) } else { Ok(delivery) };
                        app.update(Action::Loaded { id, delivery });
                    }
                    Step::Found(current, ids, failed) => {
                        let query = if current { app.filter.to_lowercase() } else { "stale".into() };
                        let ids = if failed { Err(STORE_ERROR.into()) } else { Ok(ids) };
                        app.update(Action::SearchResults { query, ids });
                    }
                    Step::Resize(w, h) => {
                        app.update(Action::Resize(w, h));
                    }
                    Step::Tick(ms) => {
                        app.update(Action::Tick(start + ms));
                    }
                    Step::Mouse(k, x, y) => {
                        let kind = match k {
                            0 => MouseEventKind::ScrollDown,
                            1 => MouseEventKind::ScrollUp,
                            _ => MouseEventKind::Down(MouseButton::Left),
                        };
                        app.update(Action::Mouse(MouseEvent { kind, column: x, row: y, modifiers: KeyModifiers::NONE }));
                    }
                    Step::Copied(n) => {
                        app.update(Action::Copied("copied ".repeat(n / 7 + 1)));
                    }
                }
                if app.quit {
                    break;
                }
                prop_assert!(app.view.iter().all(|&i| i < app.entries.len()));
                prop_assert!(app.entries.len() <= app.retain.max(1));
                if let Some(row) = app.selected_row() {
                    prop_assert!(row < app.view.len());
                }
                let (w, h) = app.size;
                let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
                t.draw(|f| hookscope::ui::draw(f, &app)).unwrap();
                let shown = t.backend().buffer().content().iter().map(|c| c.symbol()).collect::<String>();
                prop_assert!(!shown.chars().any(hookscope::sanitize::is_unsafe), "{shown:?}");
            }
        }
    }
}

#[test]
fn a_long_value_in_the_overview_wraps_under_itself() {
    let mut app = app(60, 30, false);
    let mut b = builder();
    let path = format!("/hooks/{}", "segment/".repeat(12));
    let d = b.request("POST", &path, vec![], b"{}");
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().map(|l| l.trim_matches('"')).collect();
    let at = rows
        .iter()
        .position(|r| r.starts_with(" request   POST"))
        .unwrap_or_else(|| panic!("{s}"));
    // The path goes on in the value's column, not from the pane's left edge.
    assert!(
        rows[at + 1].starts_with("           /hooks/segment/"),
        "{s}"
    );
    assert!(rows[at + 2].starts_with("           gment/segment/"), "{s}");
}

#[test]
fn the_response_tab_wraps_a_long_answer_under_itself() {
    let mut app = app(60, 30, false);
    let mut b = builder();
    let mut d = b.signed(SECRET, "msg_fwd", &event("customer.created", "evt_fwd"));
    d.response = hookscope::delivery::ResponseRecord {
        status: 502,
        body: "hookscope could not reach the app at http://127.0.0.1:3000/api/webhooks: connection refused: is the app running?".into(),
    };
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter, KeyCode::BackTab]);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().map(|l| l.trim_matches('"')).collect();
    let at = rows
        .iter()
        .position(|r| r.starts_with(" 502 hookscope could not reach the app at"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(
        rows[at + 1].starts_with("     http://127.0.0.1:3000/api/webhooks:"),
        "{s}"
    );
}

#[test]
fn an_app_answer_too_long_to_relay_shows_its_beginning_and_says_what_the_sender_got() {
    let mut app = app(70, 30, false);
    let mut b = builder();
    let mut d = b.signed(SECRET, "msg_big", &event("customer.created", "evt_big"));
    let f = hookscope::forward::ForwardResult {
        url: "http://127.0.0.1:3000/hooks".into(),
        status: Some(500),
        headers: vec![("content-type".into(), "text/html".into())],
        body: format!(
            "<h1>KeyError at /hooks</h1>\n<pre>Traceback{}",
            "\n  frame".repeat(300)
        )
        .into(),
        ms: 40,
        error: None,
        body_cut: true,
    };
    d.response = hookscope::delivery::ResponseRecord {
        status: 500,
        body: f.cut_note().into(),
    };
    d.forward = Some(f);
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter]);
    let s = screen(&app);
    assert!(
        s.contains("app       500 in 40 ms, body over 1 MiB not relayed"),
        "{s}"
    );
    keys(&mut app, &[KeyCode::BackTab]);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().map(|l| l.trim_matches('"').trim_end()).collect();
    let at = rows
        .iter()
        .position(|r| r.starts_with(" 500 from the app in 40 ms"))
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(
        &rows[at + 1..at + 7],
        [
            " content-type: text/html",
            "",
            " the body's first 1 MiB: the app sent more, and the sender got the",
            " status with hookscope's note instead of a body cut short",
            " <h1>KeyError at /hooks</h1>",
            " <pre>Traceback",
        ],
        "{s}"
    );
    // A pane shows its first 200 lines, and says how much more there is.
    typed(&mut app, ">");
    let s = screen(&app);
    assert!(s.contains(" … 816 B more of it not shown here"), "{s}");
}

/// The Overview of a delivery the app failed says which keys re-send it once the app is
/// fixed; one the app took says nothing of the kind.
#[test]
fn an_app_failure_names_the_keys_that_re_send_it() {
    let hint = "→ once the app is fixed: r re-sends this one, F every message still failing";
    for (status, error, hinted) in [
        (None, Some(hookscope::forward::ForwardError::Refused), true),
        (Some(500), None, true),
        (Some(404), None, true),
        (Some(200), None, false),
    ] {
        let mut app = app(100, 30, false);
        let mut d = builder().signed(SECRET, "msg_app", &event("customer.created", "evt_app"));
        d.forward = Some(hookscope::forward::ForwardResult {
            url: "http://127.0.0.1:3000/hooks".into(),
            status,
            headers: vec![],
            body: bytes::Bytes::new(),
            ms: 3,
            error,
            body_cut: false,
        });
        app.update(Action::Deliveries(vec![Arc::new(d)]));
        keys(&mut app, &[KeyCode::Enter]);
        let s = screen(&app);
        assert_eq!(s.contains(hint), hinted, "{status:?}: {s}");
    }
}

#[test]
fn the_filters_text_is_marked_in_the_body_and_n_goes_to_it() {
    let mut app = app(60, 20, true);
    let mut b = builder();
    let fields: Vec<String> = (0..40).map(|i| format!("\"f{i}\":{i}")).collect();
    let body = format!("{{\"id\":\"evt_n\",{},\"Amount\":1}}", fields.join(","));
    let d = b.signed(SECRET, "msg_n", body.as_bytes());
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    typed(&mut app, "/amount");
    assert!(screen(&app).contains("Enter keep (then n finds it in a body)"));
    keys(&mut app, &[KeyCode::Enter]);
    typed(&mut app, "n");
    let t = render(&app);
    let buf = t.backend().buffer();
    let s = t.backend().to_string();
    let row = (0..buf.area.height)
        .find(|&y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .starts_with(r#"   "Amount": 1"#)
        })
        .unwrap_or_else(|| panic!("{s}"));
    let reversed = |x: u16| buf[(x, row)].modifier.contains(Modifier::REVERSED);
    // `   "Amount"`: the quote at column 3 is not the text, columns 4 to 9 are.
    assert!(!reversed(3) && !reversed(10), "{s}");
    assert!((4..10).all(reversed), "{s}");
    assert!(s.contains("“amount” at line 43 · match 1 of 1"), "{s}");
}

#[test]
fn a_re_sent_delivery_says_whether_it_was_replayed_or_edited() {
    let mut app = app(80, 30, false);
    let mut b = builder();
    let mut original = b.signed(SECRET, "msg_orig", &event("order.paid", "evt_o"));
    original.seq = 7;
    let mut replayed = b.signed(SECRET, "msg_orig", &event("order.paid", "evt_o"));
    replayed.seq = 8;
    replayed.replay_of = Some(7);
    // An edit (a new message).
    let mut edited = b.signed(SECRET, "msg_edit", &event("order.paid", "evt_e"));
    edited.seq = 9;
    edited.replay_of = Some(7);
    edited.edited = true;
    // The record tells, whether or not the original is still listed.
    let mut of_gone = b.signed(SECRET, "msg_new", &event("order.paid", "evt_n"));
    of_gone.seq = 10;
    of_gone.replay_of = Some(3);
    of_gone.edited = true;
    app.update(Action::Deliveries(
        [original, replayed, edited, of_gone]
            .into_iter()
            .map(Arc::new)
            .collect(),
    ));
    keys(&mut app, &[KeyCode::Enter]);
    assert!(screen(&app).contains(" edit of   #3"), "{}", screen(&app));
    keys(&mut app, &[KeyCode::Down]);
    assert!(screen(&app).contains(" edit of   #7"), "{}", screen(&app));
    keys(&mut app, &[KeyCode::Down]);
    assert!(screen(&app).contains(" replay of #7"), "{}", screen(&app));
}

#[test]
fn the_counts_and_the_answer_mode_stay_on_screen_beside_many_secrets_and_long_urls() {
    let mut app = App::new(
        Info {
            listen: "http://127.0.0.1:8787".into(),
            secrets: vec![
                "whsec_MfKQ…aSw".into(),
                "/billing=whsec_C2FV…7oD".into(),
                "/billing/eu=whsec_dGVz…dA==".into(),
            ],
            tunnel: Some("https://a-rather-long-name-for-a-tunnel.ngrok-free.app".into()),
            forward: Some("http://localhost:3000/api/webhooks/incoming".into()),
            files_short: None,
        },
        false,
        UtcOffset::UTC,
    );
    app.update(Action::Resize(80, 24));
    session(&mut app);
    // What does not fit ends in an ellipsis, never at the edge where it reads as another URL;
    // the labels go first, then the longer URL gives way, so both stay in sight.
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().collect();
    assert_eq!(
        rows[0].trim_matches('"').trim_end(),
        " http://127.0.0.1:8787  ⇄ https://a-rather-long-…  → app http://localhost:3000/…",
        "{s}"
    );
    keys(&mut app, &[KeyCode::Char('m')]);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().collect();
    let row = rows[0].trim_matches('"').trim_end();
    assert!(
        row.starts_with(" http://127.0.0.1:8787   answering status:500 (m)   ⇄ https://"),
        "{s}"
    );
    assert!(row.ends_with("…"), "{s}");
    assert!(
        rows[1].contains("whsec_MfKQ…aSw, +2 more  ✓ 3  ✗ 1  Σ 5"),
        "{s}"
    );
}

#[test]
fn a_long_header_value_wraps_under_itself() {
    let mut app = app(60, 30, false);
    let mut b = builder();
    let sigs = (0..4)
        .map(|i| format!("v1,{i}{}", "A".repeat(43)))
        .collect::<Vec<_>>()
        .join(" ");
    let d = b.request(
        "POST",
        "/",
        vec![("svix-signature".into(), sigs.into_bytes())],
        b"{}",
    );
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(&mut app, &[KeyCode::Enter, KeyCode::Tab]);
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().map(|l| l.trim_matches('"')).collect();
    let at = rows
        .iter()
        .position(|r| r.starts_with(" svix-signature: v1,0AAA"))
        .unwrap_or_else(|| panic!("{s}"));
    // Each entry is longer than the room left, so it is cut and goes on in the value's column.
    assert!(rows[at + 1].starts_with("                 AAAA"), "{s}");
    assert!(rows[at + 2].starts_with("                 v1,1AAA"), "{s}");
}

#[test]
fn a_header_name_too_long_to_hang_its_value_beside_takes_rows_of_its_own() {
    // 40 columns: a name over half the pane would leave its value a sliver.
    let mut app = app(40, 24, false);
    let mut headers: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| (format!("x-h{i}"), b"v".to_vec()))
        .collect();
    headers.push((
        "x-a-rather-long-header-name-from-a-proxy".into(),
        "word ".repeat(20).into_bytes(),
    ));
    let d = builder().request("POST", "/", headers, b"{}");
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    keys(
        &mut app,
        &[KeyCode::Enter, KeyCode::Tab, KeyCode::Char('>')],
    );
    let s = screen(&app);
    let rows: Vec<&str> = s.lines().map(|l| l.trim_matches('"')).collect();
    let at = rows
        .iter()
        .position(|r| r.starts_with(" x-a-rather-long-header-name-from-a-pro"))
        .unwrap_or_else(|| panic!("{s}"));
    // The name goes on at the margin where it is cut.
    assert_eq!(rows[at + 1].trim_end(), " y:", "{s}");
    // The value goes on under the name, three in; the end shows its last row at the bottom.
    let bottom = rows.len() - 2; // above the hint bar
    assert!(rows[bottom].starts_with("   word"), "{s}");
    assert!(rows[at + 1..=bottom].iter().all(|r| r.len() <= 40), "{s}");
}

#[test]
fn a_delivery_the_store_could_not_keep_is_flagged_until_one_is_kept() {
    let mut app = app(100, 20, false);
    app.bodies_in_store = true;
    let mut b = builder();
    let mut refused = b.signed(SECRET, "msg_full", &event("customer.created", "evt_full"));
    // What the receiver publishes when committing failed: unstored, answered 503.
    refused.response.status = 503;
    refused.response.body =
        "could not store the delivery: the disk holding s.sqlite3 is full: free some space".into();
    app.update(Action::Deliveries(vec![Arc::new(refused)]));
    let s = screen(&app);
    let second = s.lines().nth(1).unwrap_or_default();
    assert!(
        second.contains("⚠ not stored, answering 503: the disk holding s.sqlite3 ")
            && second.contains("…  ✓ 1  ✗ 0  Σ 1"),
        "{s}"
    );
    assert!(
        s.contains("f00d-cafe.ngrok-free.app"),
        "the tunnel stays: {s}"
    );
    // A refused head the store could not keep either: hyper answered it, so its answer is not
    // the store's error, and the warning stays as it was.
    let mut head = b.request("POST", "/", vec![], b"");
    head.response.status = 400;
    app.update(Action::Deliveries(vec![Arc::new(head)]));
    assert!(
        screen(&app).contains("answering 503: the disk holding s.sqlite3"),
        "{}",
        screen(&app)
    );
    let mut kept = b.signed(SECRET, "msg_ok", &event("customer.created", "evt_ok"));
    kept.stored = true;
    app.update(Action::Deliveries(vec![Arc::new(kept)]));
    assert!(!screen(&app).contains("answering 503"), "{}", screen(&app));
    // With the store off nothing is stored, and nothing is wrong.
    app.bodies_in_store = false;
    app.update(Action::Deliveries(vec![Arc::new(b.signed(
        SECRET,
        "msg_mem",
        &event("customer.created", "evt_mem"),
    ))]));
    assert!(!screen(&app).contains("answering 503"));
}

#[test]
fn a_body_the_store_cannot_give_says_why_where_it_would_be() {
    let mut app = app(100, 20, false);
    app.bodies_in_store = true;
    let mut d = builder().signed(SECRET, "msg_old", &event("customer.created", "evt_old"));
    d.seq = 9;
    d.stored = true;
    d.body = Default::default();
    d.headers = Vec::new();
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    app.update(Action::Key(KeyCode::Enter.into()));
    app.update(Action::Key(KeyCode::Tab.into()));
    assert!(screen(&app).contains(" loading from the store…"));
    app.update(Action::Loaded {
        id: 9,
        delivery: Ok(None),
    });
    let s = screen(&app);
    assert!(
        s.contains(
            " headers not shown: this delivery is no longer in the store (pruned by retention)"
        ),
        "{s}"
    );
    app.update(Action::Key(KeyCode::Tab.into()));
    let s = screen(&app);
    assert!(
        s.contains(
            " body not shown: this delivery is no longer in the store (pruned by retention)"
        ),
        "{s}"
    );
    assert!(!s.contains("preparing"), "{s}");
}
