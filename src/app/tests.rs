//! `App::update` for every action.

use super::*;
use crate::testing::{Builder, event};
use bytes::Bytes;
use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use time::macros::datetime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn app() -> App {
    let mut app = App::new(
        Info {
            listen: "http://127.0.0.1:8787".into(),
            secrets: vec!["whsec_MfKQ…aSw".into()],
            tunnel: None,
            forward: None,
            files_short: None,
        },
        true,
        UtcOffset::UTC,
    );
    app.update(Action::Resize(100, 30));
    app
}

fn builder() -> Builder {
    Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC))
}

/// `n` deliveries; every third one fails verification.
fn fill(app: &mut App, b: &mut Builder, n: usize) {
    let ds = (0..n)
        .map(|i| {
            b.advance(100);
            let secret = if i % 3 == 2 { OTHER } else { SECRET };
            let kind = if i % 2 == 0 {
                "customer.created"
            } else {
                "task.completed"
            };
            Arc::new(b.signed(
                secret,
                &format!("msg_{i}"),
                &event(kind, &format!("evt_{i}")),
            ))
        })
        .collect();
    app.update(Action::Deliveries(ds));
}

/// A delivery whose body pretty-prints to 202 lines, more than any pane here holds.
fn long(b: &mut Builder) -> Arc<Delivery> {
    b.advance(100);
    let numbers: Vec<String> = (0..200).map(|n| n.to_string()).collect();
    let body = format!("[{}]", numbers.join(","));
    Arc::new(b.signed(SECRET, "msg_long", body.as_bytes()))
}

fn key(app: &mut App, code: KeyCode) -> Option<Effect> {
    let mut effects = app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    assert!(effects.len() <= 1, "{effects:?}");
    effects.pop()
}

fn ch(app: &mut App, c: char) -> Option<Effect> {
    key(app, KeyCode::Char(c))
}

fn selected_msg(app: &App) -> String {
    app.selected_entry()
        .and_then(|e| e.delivery.msg_id.clone())
        .unwrap_or_default()
}

#[test]
fn deliveries_are_counted_and_the_newest_is_followed() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 6);
    assert_eq!(
        app.counts,
        Counts {
            verified: 4,
            rejected: 2,
            total: 6
        }
    );
    assert_eq!(selected_msg(&app), "msg_5");
    assert!(app.follow);
    fill(&mut app, &mut b, 1);
    assert_eq!(
        selected_msg(&app),
        "msg_0",
        "builder restarts ids; newest selected"
    );
    assert_eq!(app.selected_row(), Some(0));
}

#[test]
fn moving_stops_following_and_counts_new_arrivals() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 5);
    ch(&mut app, 'j');
    assert_eq!(selected_msg(&app), "msg_3");
    assert!(!app.follow);
    let before = app.selected;
    fill(&mut app, &mut b, 3);
    assert_eq!(app.selected, before, "selection stays put");
    assert_eq!(app.unseen, 3);
    assert_eq!(app.selected_row(), Some(4));
    ch(&mut app, 'g');
    assert!(app.follow);
    assert_eq!(app.unseen, 0);
    assert_eq!(app.selected_row(), Some(0));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Up);
    assert!(app.follow, "back on the newest row, following again");
}

#[test]
fn first_last_and_bounds() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 4);
    ch(&mut app, 'G');
    assert_eq!(selected_msg(&app), "msg_0");
    ch(&mut app, 'j');
    assert_eq!(selected_msg(&app), "msg_0", "clamped at the oldest");
    key(&mut app, KeyCode::Home);
    assert_eq!(selected_msg(&app), "msg_3");
    ch(&mut app, 'k');
    assert_eq!(selected_msg(&app), "msg_3", "clamped at the newest");
    key(&mut app, KeyCode::End);
    assert_eq!(selected_msg(&app), "msg_0");
}

#[test]
fn list_scrolls_to_keep_the_selection_visible() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 100);
    let rows = app.list_rows();
    for _ in 0..rows + 5 {
        ch(&mut app, 'j');
    }
    let row = app.selected_row().unwrap();
    assert!(row >= app.list_offset && row < app.list_offset + rows);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.selected_row(), Some(row + rows));
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.selected_row(), Some(row));
}

#[test]
fn detail_and_tabs() {
    let (mut app, mut b) = (app(), builder());
    key(&mut app, KeyCode::Enter);
    assert!(!app.detail, "nothing to open without a delivery");
    fill(&mut app, &mut b, 2);
    key(&mut app, KeyCode::Enter);
    assert!(app.detail);
    assert_eq!(app.tab, Tab::Overview);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.tab, Tab::Headers);
    key(&mut app, KeyCode::BackTab);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab, Tab::Response);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.scroll, 0, "a tab that fits its pane does not scroll");
    app.update(Action::Deliveries(vec![long(&mut b)]));
    ch(&mut app, 'g');
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab, Tab::Body);
    key(&mut app, KeyCode::PageDown);
    assert!(app.scroll > 0);
    ch(&mut app, 'j');
    assert_eq!(app.scroll, 0, "a new selection starts at the top");
    key(&mut app, KeyCode::Enter);
    assert!(!app.detail);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    assert!(!app.detail, "Esc closes the detail");
}

#[test]
fn body_is_prepared_once_when_shown_and_raw_toggles() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 1);
    assert!(
        app.body_view().is_none(),
        "not prepared until the Body tab shows"
    );
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.tab, Tab::Body);
    let pretty = app.body_view().expect("prepared").clone();
    assert_eq!(pretty.kind, crate::highlight::BodyKind::Json);
    assert!(pretty.lines.len() > 3);
    ch(&mut app, 'v');
    assert!(app.raw);
    assert_eq!(app.body_view().expect("raw prepared").lines.len(), 1);
    ch(&mut app, 'v');
    assert_eq!(app.body_view(), Some(&pretty));
}

#[test]
fn filter_narrows_widens_keeps_and_clears() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 6);
    ch(&mut app, '/');
    assert!(app.editing_filter);
    for c in "task".chars() {
        ch(&mut app, c);
    }
    assert_eq!(app.view.len(), 3);
    assert!(
        app.view
            .iter()
            .all(|&i| app.entries[i].what() == "task.completed")
    );
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    assert_eq!(app.filter, "t");
    assert_eq!(app.view.len(), 6);
    for c in "ASK".chars() {
        ch(&mut app, c);
    }
    assert_eq!(app.view.len(), 3, "case-insensitive");
    key(&mut app, KeyCode::Enter);
    assert!(!app.editing_filter);
    assert_eq!(app.filter, "tASK");
    ch(&mut app, 'j');
    assert_eq!(app.view.len(), 3, "keys act normally again, filter kept");
    // body text matches too
    ch(&mut app, '/');
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.filter, "");
    assert_eq!(app.view.len(), 6);
    ch(&mut app, '/');
    for c in "ada@example".chars() {
        ch(&mut app, c);
    }
    assert_eq!(app.view.len(), 6);
    for c in "x".chars() {
        ch(&mut app, c);
    }
    assert!(app.view.is_empty());
    assert_eq!(app.selected, None);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    assert_eq!(
        app.view.len(),
        6,
        "Esc outside editing clears the filter too"
    );
}

#[test]
fn failures_only() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 6);
    ch(&mut app, 'f');
    assert!(app.failures_only);
    assert_eq!(app.view.len(), 2);
    assert!(app.status.as_ref().unwrap().0.contains("failures only"));
    fill(&mut app, &mut b, 3);
    assert_eq!(
        app.view.len(),
        3,
        "new failures appear, verified ones do not"
    );
    ch(&mut app, 'f');
    assert_eq!(app.view.len(), 9);
}

/// Verified but failed all the same, as `history --failed` says: the app answered 502, the
/// sender hung up before any answer, an answer mode said 500.
#[test]
fn failures_only_shows_what_the_app_or_a_mode_failed() {
    let (mut app, mut b) = (app(), builder());
    let ds = [200, 502, 0, 500, 302]
        .into_iter()
        .map(|status| {
            b.advance(100);
            let mut d = b.signed(SECRET, &format!("msg_{status}"), b"{}");
            d.response.status = status;
            Arc::new(d)
        })
        .collect();
    app.update(Action::Deliveries(ds));
    ch(&mut app, 'f');
    let shown: Vec<_> = app
        .view
        .iter()
        .map(|&i| app.entries[i].delivery.msg_id.clone().unwrap_or_default())
        .collect();
    assert_eq!(shown, ["msg_502", "msg_0", "msg_500"]);
}

#[test]
fn copy_effects() {
    let (mut app, mut b) = (app(), builder());
    assert_eq!(ch(&mut app, 'y'), None, "nothing selected");
    fill(&mut app, &mut b, 1);
    assert_eq!(
        ch(&mut app, 'y'),
        Some(Effect::Copy {
            text: "evt_0".into(),
            what: "event id evt_0".into()
        })
    );
    assert_eq!(
        ch(&mut app, 'i'),
        Some(Effect::Copy {
            text: "msg_0".into(),
            what: "message id msg_0".into()
        })
    );
    match ch(&mut app, 'Y') {
        Some(Effect::Copy { text, what }) => {
            assert_eq!(text.as_bytes(), &event("customer.created", "evt_0")[..]);
            assert!(what.starts_with("payload ("));
        }
        other => panic!("{other:?}"),
    }
    match ch(&mut app, 'c') {
        Some(Effect::Copy { text, what }) => {
            assert_eq!(what, "curl command");
            assert!(
                text.starts_with("curl 'http://127.0.0.1:8787/webhooks'"),
                "{text}"
            );
            assert!(text.contains("-H 'svix-signature: v1,"), "{text}");
            assert!(text.contains("--data-binary '{\"id\":\"evt_0\""), "{text}");
        }
        other => panic!("{other:?}"),
    }
    // No event id: the message id is copied. Non-UTF-8 payloads go as base64.
    let d = b.request(
        "POST",
        "/",
        vec![("svix-id".into(), b"msg_x".to_vec())],
        b"\xff\xfe",
    );
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    assert_eq!(
        ch(&mut app, 'y'),
        Some(Effect::Copy {
            text: "msg_x".into(),
            what: "message id msg_x".into()
        })
    );
    match ch(&mut app, 'Y') {
        Some(Effect::Copy { text, what }) => {
            assert_eq!(text, "//4=");
            assert!(what.contains("base64"));
        }
        other => panic!("{other:?}"),
    }
    // Not signed the Standard Webhooks way: no message id to copy, and it says why.
    app.update(Action::Deliveries(vec![Arc::new(b.request(
        "POST",
        "/",
        vec![],
        b"{}",
    ))]));
    assert_eq!(ch(&mut app, 'i'), None);
    assert_eq!(
        app.status.as_ref().unwrap().0,
        "this delivery has no message id (no svix-id or webhook-id header)"
    );
    app.update(Action::Copied(
        "copied event id evt_0 to the clipboard".into(),
    ));
    assert_eq!(
        app.status.as_ref().unwrap().0,
        "copied event id evt_0 to the clipboard"
    );
}

#[test]
fn in_a_short_terminal_the_moving_keys_scroll_the_help() {
    let mut app = app();
    fill(&mut app, &mut builder(), 5);
    app.update(Action::Resize(80, 24));
    // Away from the newest, so the wheel would have somewhere to move it either way.
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    let hidden = crate::ui::help::hidden_lines((80, 24));
    assert!(hidden > 0, "a 24-row terminal is too short for the help");
    ch(&mut app, '?');
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    assert!(app.help && !app.detail);
    assert_eq!(app.help_scroll, 2);
    ch(&mut app, 'k');
    assert_eq!(app.help_scroll, 1);
    // To the end and no further, and back to the top.
    ch(&mut app, 'G');
    ch(&mut app, 'j');
    assert_eq!(app.help_scroll, hidden);
    ch(&mut app, 'g');
    assert_eq!(app.help_scroll, 0);
    // Any other key still closes it, and opening it again starts at the top.
    ch(&mut app, 'j');
    ch(&mut app, 'x');
    assert!(!app.help);
    ch(&mut app, '?');
    assert_eq!(app.help_scroll, 0);
    // The wheel scrolls it rather than moving the list underneath; a click closes it.
    let selected = app.selected;
    let wheel = |kind| {
        Action::Mouse(MouseEvent {
            kind,
            column: 5,
            row: 10,
            modifiers: KeyModifiers::NONE,
        })
    };
    app.update(wheel(MouseEventKind::ScrollDown));
    app.update(wheel(MouseEventKind::ScrollDown));
    assert_eq!((app.help_scroll, app.selected), (2, selected));
    assert_eq!(selected, Some(2));
    app.update(wheel(MouseEventKind::Down(MouseButton::Left)));
    assert!(!app.help);
    assert_eq!(app.selected, selected);
    ch(&mut app, '?');
    // Where it fits, j closes it as before.
    app.update(Action::Resize(80, 40));
    ch(&mut app, 'j');
    assert!(!app.help);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut app = app();
    ch(&mut app, '?');
    assert!(app.help);
    ch(&mut app, 'j');
    assert!(!app.help);
    ch(&mut app, '?');
    key(&mut app, KeyCode::Esc);
    assert!(!app.help);
    // A key bound to nothing closes it too, and q closes it rather than quitting.
    for k in ['x', 'q'] {
        ch(&mut app, '?');
        ch(&mut app, k);
        assert!(!app.help && !app.quit, "{k}");
    }
    ch(&mut app, '?');
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.quit);
}

#[test]
fn quit_with_q_or_ctrl_c_even_while_filtering() {
    let mut a = app();
    ch(&mut a, 'q');
    assert!(a.quit);
    let mut a = app();
    ch(&mut a, '/');
    a.update(Action::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(a.quit);
    let mut a = app();
    ch(&mut a, '/');
    ch(&mut a, 'q');
    assert!(!a.quit, "q is text while typing a filter");
}

#[test]
fn ctrl_z_says_why_it_does_not_suspend() {
    let mut a = app();
    a.update(Action::Key(KeyEvent::new(
        KeyCode::Char('z'),
        KeyModifiers::CONTROL,
    )));
    assert!(!a.quit);
    let said = &a.status.as_ref().expect("a message").0;
    assert!(said.contains("would answer no deliveries"), "{said}");
    // A plain z is not Ctrl-Z.
    let mut a = app();
    ch(&mut a, 'z');
    assert!(a.status.is_none());
}

#[test]
fn key_releases_are_ignored() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 3);
    let mut release = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    app.update(Action::Key(release));
    assert_eq!(selected_msg(&app), "msg_2");
}

#[test]
fn mouse_wheel_and_click() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 10);
    let mouse = |kind, column, row| MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    app.update(Action::Mouse(mouse(MouseEventKind::ScrollDown, 10, 10)));
    assert_eq!(app.selected_row(), Some(1));
    app.update(Action::Mouse(mouse(MouseEventKind::ScrollUp, 10, 10)));
    assert_eq!(app.selected_row(), Some(0));
    // Rows start at y = 2 (header) + 1 (border) + 1 (column names).
    app.update(Action::Mouse(mouse(
        MouseEventKind::Down(MouseButton::Left),
        10,
        4 + 3,
    )));
    assert_eq!(app.selected_row(), Some(3));
    assert!(!app.follow);
    // Clicking a tab title in the open detail switches tab.
    key(&mut app, KeyCode::Enter);
    let d = crate::ui::layout(Rect::new(0, 0, 100, 30), true)
        .detail
        .unwrap();
    let (_, _, x, _) = crate::ui::tab_spans(d)[2];
    app.update(Action::Mouse(mouse(
        MouseEventKind::Down(MouseButton::Left),
        x + 1,
        d.y,
    )));
    assert_eq!(app.tab, Tab::Body);
    let wheel = |app: &mut App| {
        app.update(Action::Mouse(mouse(
            MouseEventKind::ScrollDown,
            10,
            d.y + 3,
        )))
    };
    wheel(&mut app);
    assert_eq!(app.scroll, 0, "a body that fits its pane does not scroll");
    app.update(Action::Deliveries(vec![long(&mut b)]));
    ch(&mut app, 'g');
    wheel(&mut app);
    assert_eq!(app.scroll, 3, "wheel over the detail scrolls it");
    for _ in 0..100 {
        wheel(&mut app);
    }
    let end = crate::ui::detail_max_scroll(&app);
    assert_eq!(app.scroll, end, "and stops at the end");
    app.update(Action::Mouse(mouse(MouseEventKind::ScrollUp, 10, d.y + 3)));
    assert_eq!(app.scroll, end - 3, "from where the wheel turns back");
}

#[test]
fn the_detail_scrolls_to_its_last_line_and_no_further() {
    let (mut app, mut b) = (app(), builder());
    app.update(Action::Deliveries(vec![long(&mut b)]));
    for code in [KeyCode::Enter, KeyCode::Tab, KeyCode::Tab] {
        key(&mut app, code);
    }
    assert_eq!(app.tab, Tab::Body);
    let screen = |app: &App| {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
        t.draw(|f| crate::ui::draw(f, app)).unwrap();
        let rows: Vec<String> = (0..30)
            .map(|y| {
                (0..100)
                    .map(|x| t.backend().buffer()[(x, y)].symbol())
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect();
        rows
    };
    for _ in 0..100 {
        key(&mut app, KeyCode::PageDown);
    }
    // The body's last line sits on the pane's last row, right above the key hints, and the
    // rows above it are the lines before it.
    let rows = screen(&app);
    assert_eq!(rows[28], " ]", "{rows:#?}");
    assert_eq!(rows[27], "   199", "{rows:#?}");
    // One page back is one press away, however often PgDn was pressed.
    let end = app.scroll;
    key(&mut app, KeyCode::PageUp);
    assert!(app.scroll < end);
    let rows = screen(&app);
    assert_ne!(rows[28], " ]", "{rows:#?}");
    // < and > (or Ctrl-Home and Ctrl-End) go to the top and the end at once.
    ch(&mut app, '<');
    assert_eq!(app.scroll, 0);
    ch(&mut app, '>');
    assert_eq!(app.scroll, end);
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Home,
        KeyModifiers::CONTROL,
    )));
    assert_eq!(app.scroll, 0);
    assert_eq!(app.selected_row(), Some(0));
    app.update(Action::Key(KeyEvent::new(
        KeyCode::End,
        KeyModifiers::CONTROL,
    )));
    assert_eq!(app.scroll, end);
    // A taller terminal shows more of the end, not blank rows below it.
    app.update(Action::Resize(100, 40));
    assert!(app.scroll < end);
}

#[test]
fn ticks_expire_messages_and_move_the_rate_window() {
    let (mut app, mut b) = (app(), builder());
    let t0 = b.at.unix_timestamp() * 1000;
    app.update(Action::Tick(t0));
    fill(&mut app, &mut b, 5);
    assert_eq!(app.rate.back(), Some(&5));
    ch(&mut app, 'f');
    assert!(app.status.is_some());
    app.update(Action::Tick(t0 + 1_000));
    assert_eq!(app.rate.back(), Some(&0));
    assert_eq!(app.rate[RATE_SECONDS - 2], 5);
    app.update(Action::Tick(t0 + 5_000));
    assert!(app.status.is_none());
    app.update(Action::Tick(t0 + 600_000));
    assert!(app.rate.iter().all(|&n| n == 0));
    assert_eq!(app.rate.len(), RATE_SECONDS);
}

#[test]
fn tunnel_and_resize() {
    let mut app = app();
    app.update(Action::Tunnel(Some("https://abc.ngrok.app".into())));
    assert_eq!(app.info.tunnel.as_deref(), Some("https://abc.ngrok.app"));
    app.update(Action::Resize(80, 24));
    assert_eq!(app.size, (80, 24));
    app.update(Action::Tunnel(None));
    assert_eq!(app.info.tunnel, None);
}

#[test]
fn a_hundred_thousand_deliveries_stay_cheap_to_move_through() {
    // Not a timing test: it checks the selection is found by index, not by scanning rows.
    let (mut app, mut b) = (app(), builder());
    app.retain = 200_000;
    let ds: Vec<_> = (0..100_000)
        .map(|_| Arc::new(b.request("POST", "/", vec![], b"{}")))
        .collect();
    app.update(Action::Deliveries(ds));
    key(&mut app, KeyCode::End);
    assert_eq!(app.selected_row(), Some(99_999));
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.selected_row(), Some(99_999 - app.list_rows()));
}

#[test]
fn memory_is_bounded_by_retain() {
    let (mut app, mut b) = (app(), builder());
    app.retain = 100;
    fill(&mut app, &mut b, 90);
    ch(&mut app, 'G');
    let oldest_kept = selected_msg(&app);
    fill(&mut app, &mut b, 20);
    assert_eq!(app.entries.len(), 110, "trimmed in steps, not per delivery");
    fill(&mut app, &mut b, 10);
    assert_eq!(app.entries.len(), 100);
    assert_eq!(app.view.len(), 100);
    assert_eq!(app.counts.total, 120, "counts stay totals");
    assert_eq!(app.counts.verified + app.counts.rejected, 120);
    assert!(app.selected.is_some());
    assert_ne!(
        selected_msg(&app),
        oldest_kept,
        "the selected entry was dropped; another is selected"
    );
    assert!(app.view.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn earlier_sessions_come_first_and_are_marked() {
    let (mut app, mut b) = (app(), builder());
    let old: Vec<_> = (0..3)
        .map(|i| Arc::new(b.signed(SECRET, &format!("old_{i}"), b"{}")))
        .collect();
    app.update(Action::Earlier(old));
    fill(&mut app, &mut b, 2);
    assert_eq!(app.earlier, 3);
    assert!(app.entries[..3].iter().all(|e| e.earlier));
    assert!(app.entries[3..].iter().all(|e| !e.earlier));
    assert_eq!(selected_msg(&app), "msg_1");
    ch(&mut app, 'G');
    assert_eq!(selected_msg(&app), "old_0");
}

fn stored(mut d: crate::delivery::Delivery, id: u64) -> Arc<crate::delivery::Delivery> {
    d.seq = id;
    d.stored = true;
    d.body = Bytes::new();
    d.headers = Vec::new();
    Arc::new(d)
}

#[test]
fn bodies_in_the_store_load_on_demand_and_copies_wait_for_them() {
    let (mut app, mut b) = (app(), builder());
    app.bodies_in_store = true;
    let body = event("customer.created", "evt_s");
    let d = b.signed(SECRET, "msg_s", &body);
    let full = Arc::new(crate::delivery::Delivery {
        seq: 42,
        stored: true,
        ..d.clone()
    });
    app.update(Action::Deliveries(vec![stored(d, 42)]));
    assert_eq!(
        human_bytes(app.entries[0].delivery.body_size),
        human_bytes(body.len() as u64),
        "size kept without the body"
    );
    // Y asks for the body first, then copies when it arrives.
    assert_eq!(ch(&mut app, 'Y'), Some(Effect::Load { id: 42 }));
    assert_eq!(ch(&mut app, 'Y'), None, "already loading");
    let effects = app.update(Action::Loaded {
        id: 42,
        delivery: Ok(Some(full)),
    });
    match &effects[..] {
        [Effect::Copy { text, .. }] => assert_eq!(text.as_bytes(), &body[..]),
        other => panic!("{other:?}"),
    }
    // Now at hand: the Body tab prepares it without asking again.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Tab);
    assert_eq!(key(&mut app, KeyCode::Tab), None);
    assert!(app.body_view().is_some());
    // A pruned delivery says so.
    let d = b.signed(SECRET, "msg_gone", b"{\"a\":1}");
    // It is followed into the open Body tab, so its body is asked for at once.
    assert_eq!(
        app.update(Action::Deliveries(vec![stored(d, 43)])),
        vec![Effect::Load { id: 43 }]
    );
    let effects = app.update(Action::Loaded {
        id: 43,
        delivery: Ok(None),
    });
    assert!(effects.is_empty(), "{effects:?}");
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .0
            .contains("no longer in the store")
    );
    // Not asked for again by itself: the next update (a tick, a key) reads nothing, where
    // asking on each would read the store in a loop while the detail shows it.
    assert_eq!(app.update(Action::Tick(0)), vec![]);
    assert_eq!(key(&mut app, KeyCode::Tab), None);
    // A store that cannot give it says why, not that it was pruned; nothing is copied, the
    // detail says why it is missing, and a command asks the store again.
    let d = b.signed(SECRET, "msg_bad", b"{\"a\":1}");
    assert_eq!(
        app.update(Action::Deliveries(vec![stored(d, 44)])),
        vec![Effect::Load { id: 44 }]
    );
    let effects = app.update(Action::Loaded {
        id: 44,
        delivery: Err("database disk image is malformed".into()),
    });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(
        app.status.as_ref().unwrap().0,
        "delivery 44 could not be read from the store: database disk image is malformed"
    );
    let e = app.selected_entry().unwrap();
    assert_eq!(
        app.unloadable(e),
        Some("could not be read from the store: database disk image is malformed")
    );
    assert_eq!(app.update(Action::Tick(0)), vec![]);
    assert_eq!(ch(&mut app, 'Y'), Some(Effect::Load { id: 44 }));
    let effects = app.update(Action::Loaded {
        id: 44,
        delivery: Ok(Some(Arc::new(crate::delivery::Delivery {
            seq: 44,
            stored: true,
            ..b.signed(SECRET, "msg_bad", b"{\"a\":1}")
        }))),
    });
    assert!(
        matches!(&effects[..], [Effect::Copy { text, .. }] if text == "{\"a\":1}"),
        "{effects:?}"
    );
    assert_eq!(app.unloadable(app.selected_entry().unwrap()), None);
}

#[test]
fn a_request_whose_line_was_not_seen_is_not_copied_as_curl_or_replayed() {
    let (mut app, mut b) = (app(), builder());
    let unseen = b.request("", "", vec![], b"");
    app.update(Action::Deliveries(vec![Arc::new(unseen)]));
    for c in ['c', 'C', 'r', 'R', 'e'] {
        app.status = None;
        assert!(ch(&mut app, c).is_none(), "{c}");
        assert!(
            app.status
                .as_ref()
                .is_some_and(|(s, _)| s.contains("request's line was not seen")),
            "{c}"
        );
    }
    // A request whose line was seen is copied as before.
    app.update(Action::Deliveries(vec![Arc::new(b.request(
        "GET",
        "/x",
        vec![],
        b"",
    ))]));
    key(&mut app, KeyCode::Char('g'));
    assert!(matches!(ch(&mut app, 'c'), Some(Effect::Copy { .. })));
}

#[test]
fn pasted_text_is_searched_for_never_read_as_commands() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 3);
    let mode = app.mode;
    // Every character here is a command when typed: replay, answer mode, quit, help.
    assert!(
        app.update(Action::Paste("rmq?\nsecond line".into()))
            .is_empty()
    );
    assert!(!app.quit);
    assert_eq!(app.mode, mode);
    assert!(!app.help);
    assert!(app.editing_filter);
    assert_eq!(app.filter, "rmq?");
    // While typing a filter, a paste is added to it; controls never get in.
    app.update(Action::Paste("\u{1b}[2Jx".into()));
    assert_eq!(app.filter, "rmq?[2Jx");
    // A kept filter is replaced by the next paste; an empty paste changes nothing.
    key(&mut app, KeyCode::Enter);
    app.update(Action::Paste("  evt_1  ".into()));
    assert_eq!(app.filter, "evt_1");
    app.update(Action::Paste("\n".into()));
    assert_eq!(app.filter, "evt_1");
}

#[test]
fn the_filter_finds_a_failure_kind_or_an_answered_status() {
    let (mut app, mut b) = (app(), builder());
    let ds = vec![
        b.signed(SECRET, "m1", &event("a.b", "e1")),
        b.signed(OTHER, "m2", &event("a.b", "e2")),
        b.request("GET", "/favicon.ico", vec![], b""),
    ];
    app.update(Action::Deliveries(ds.into_iter().map(Arc::new).collect()));
    let shown = |app: &App| -> Vec<u64> {
        app.view
            .iter()
            .map(|&i| app.entries[i].delivery.seq)
            .collect()
    };
    ch(&mut app, '/');
    for c in "bad_sig".chars() {
        ch(&mut app, c);
    }
    assert_eq!(shown(&app), vec![2]);
    key(&mut app, KeyCode::Esc);
    ch(&mut app, '/');
    for c in "405".chars() {
        ch(&mut app, c);
    }
    assert_eq!(shown(&app), vec![3]);
    key(&mut app, KeyCode::Backspace);
    assert_eq!(shown(&app), vec![2, 3], "40 is in 401 and 405");
}

#[test]
fn filtering_with_the_store_searches_bodies_there() {
    let (mut app, mut b) = (app(), builder());
    app.bodies_in_store = true;
    let ds: Vec<_> = (0..4)
        .map(|i| {
            stored(
                b.signed(SECRET, &format!("m{i}"), &event("a.b", &format!("e{i}"))),
                10 + i,
            )
        })
        .collect();
    app.update(Action::Deliveries(ds));
    ch(&mut app, '/');
    assert_eq!(
        ch(&mut app, 'z'),
        Some(Effect::Search { query: "z".into() })
    );
    assert!(app.view.is_empty(), "nothing in memory matches");
    app.update(Action::SearchResults {
        query: "z".into(),
        ids: Ok(vec![11, 13]),
    });
    let shown: Vec<u64> = app
        .view
        .iter()
        .map(|&i| app.entries[i].delivery.seq)
        .collect();
    assert_eq!(shown, vec![11, 13]);
    // A stale answer is ignored.
    ch(&mut app, 'q');
    app.update(Action::SearchResults {
        query: "z".into(),
        ids: Ok(vec![10]),
    });
    assert!(app.view.is_empty());
    // A store that cannot be searched says so; the list is left as the filter made it.
    assert_eq!(
        ch(&mut app, 'x'),
        Some(Effect::Search {
            query: "zqx".into()
        })
    );
    app.update(Action::SearchResults {
        query: "zqx".into(),
        ids: Err("database disk image is malformed".into()),
    });
    assert!(app.view.is_empty());
    assert_eq!(
        app.status.as_ref().unwrap().0,
        "stored bodies could not be searched: database disk image is malformed (matches by type, id and path only)"
    );
}

#[test]
fn attempts_group_by_message_id() {
    let (mut app, mut b) = (app(), builder());
    let body = event("customer.created", "evt_a");
    let mut ds = Vec::new();
    for gap in [0, 5_000, 30_000] {
        b.advance(gap);
        ds.push(Arc::new(b.signed(SECRET, "msg_same", &body)));
    }
    b.advance(1_000);
    ds.push(Arc::new(b.signed(SECRET, "msg_other", &body)));
    app.update(Action::Deliveries(ds));
    let newest_same = &app.entries[2];
    assert_eq!(app.attempt_badge(newest_same), Some(3));
    assert_eq!(
        app.attempt_badge(&app.entries[0]),
        None,
        "only the newest attempt carries the count"
    );
    assert_eq!(
        app.attempt_badge(&app.entries[3]),
        None,
        "a single attempt has no badge"
    );
    let attempts = app.attempts_of(&app.entries[0]);
    assert_eq!(
        attempts.iter().map(|e| e.key).collect::<Vec<_>>(),
        vec![app.entries[0].key, app.entries[1].key, app.entries[2].key]
    );
}

/// With the store on, a delivery (store id `id`) arrives light; `key` asks for its body, and
/// what the app does once the store has loaded it.
fn stored_then_loaded(
    app: &mut App,
    b: &mut Builder,
    id: u64,
    body: &[u8],
    key: char,
) -> Vec<Effect> {
    app.bodies_in_store = true;
    let d = b.signed(SECRET, &format!("msg_{id}"), body);
    let full = Arc::new(crate::delivery::Delivery {
        seq: id,
        stored: true,
        ..d.clone()
    });
    app.update(Action::Deliveries(vec![stored(d, id)]));
    assert_eq!(ch(app, key), Some(Effect::Load { id }));
    app.update(Action::Loaded {
        id,
        delivery: Ok(Some(full)),
    })
}

#[test]
fn replay_copy_resigned_and_mode_cycling() {
    let (mut app, mut b) = (app(), builder());
    assert_eq!(ch(&mut app, 'r'), None, "nothing selected");
    fill(&mut app, &mut b, 1);
    let seq = app.entries[0].delivery.seq;
    match ch(&mut app, 'r') {
        Some(Effect::Replay {
            delivery,
            resign: false,
        }) => assert_eq!(delivery.seq, seq),
        other => panic!("{other:?}"),
    }
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .0
            .starts_with("replaying evt_0")
    );
    match ch(&mut app, 'R') {
        Some(Effect::Replay { resign: true, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ch(&mut app, 'C'),
        Some(Effect::CopyResignedCurl { .. })
    ));
    assert_eq!(app.mode, RespondMode::Normal);
    assert_eq!(
        ch(&mut app, 'm'),
        Some(Effect::SetMode(RespondMode::Status(500)))
    );
    assert_eq!(app.mode, RespondMode::Status(500));
    assert!(app.status.as_ref().unwrap().0.contains("status:500"));
    for _ in 0..RespondMode::CYCLE.len() - 1 {
        ch(&mut app, 'm');
    }
    assert_eq!(app.mode, RespondMode::Normal);
    // With the store, a light delivery is loaded before it is replayed.
    let effects = stored_then_loaded(&mut app, &mut b, 77, b"{}", 'R');
    assert!(
        matches!(&effects[..], [Effect::Replay { resign: true, .. }]),
        "{effects:?}"
    );
}

#[test]
fn e_hands_the_whole_delivery_over_for_editing() {
    let (mut app, mut b) = (app(), builder());
    assert_eq!(ch(&mut app, 'e'), None, "nothing selected");
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .0
            .starts_with("nothing to copy or replay yet")
    );
    fill(&mut app, &mut b, 2);
    ch(&mut app, 'j');
    let seq = app.selected_entry().unwrap().delivery.seq;
    assert_eq!(seq, 1, "the older of two");
    match ch(&mut app, 'e') {
        Some(Effect::Edit { delivery }) => {
            assert_eq!(delivery.seq, seq);
            assert!(!delivery.body.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // A body that never came whole is not a request to edit: its signature and length
    // were for another.
    let cut = b.record(
        "POST",
        "/webhooks",
        vec![],
        b"{\"id\":",
        crate::verify::Verdict::Unchecked(crate::verify::Unchecked::BodyIncomplete {
            error: "closed".into(),
            received: 6,
        }),
    );
    app.update(Action::Deliveries(vec![Arc::new(cut)]));
    ch(&mut app, 'g');
    assert_eq!(ch(&mut app, 'e'), None);
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .0
            .starts_with("nothing to re-send: its body never came whole"),
        "{:?}",
        app.status
    );
    // With the store, the body is loaded first.
    let effects = stored_then_loaded(&mut app, &mut b, 78, b"{\"a\":1}", 'e');
    match &effects[..] {
        [Effect::Edit { delivery }] => assert_eq!(&delivery.body[..], b"{\"a\":1}"),
        other => panic!("{other:?}"),
    }
}

proptest::proptest! {
    #[test]
    fn body_search_agrees_with_a_window_by_window_compare(
        hay in proptest::collection::vec(proptest::sample::select(b"aAbB{}\":xX\xc3\xa9 ".to_vec()), 0..64),
        needle in proptest::collection::vec(proptest::sample::select(b"aAbBxX\":".to_vec()), 0..5),
    ) {
        let naive = needle.is_empty()
            || hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(&needle));
        proptest::prop_assert_eq!(super::contains_ignore_ascii_case(&hay, &needle), naive);
    }
}

/// `n` deliveries whose bodies are exactly `size` bytes.
fn fill_sized(app: &mut App, b: &mut Builder, n: usize, size: usize) {
    let ds = (0..n)
        .map(|i| {
            b.advance(100);
            let head = format!(r#"{{"id":"evt_{i}","type":"a","pad":""#);
            let body = format!("{head}{}\"}}", "x".repeat(size - head.len() - 2));
            assert_eq!(body.len(), size);
            Arc::new(b.signed(SECRET, &format!("msg_{i}"), body.as_bytes()))
        })
        .collect();
    app.update(Action::Deliveries(ds));
}

#[test]
fn bodies_past_the_memory_budget_are_let_go_oldest_first() {
    let (mut app, mut b) = (app(), builder());
    app.body_budget = 3_000;
    fill_sized(&mut app, &mut b, 5, 1_000);
    let dropped: Vec<bool> = app.entries.iter().map(|e| e.body_dropped).collect();
    assert_eq!(dropped, [true, true, false, false, false]);
    assert!(app.entries[..2].iter().all(|e| e.delivery.body.is_empty()));
    // The record stays: ids, size, verdict.
    assert_eq!(app.entries[0].delivery.body_size, 1_000);
    assert_eq!(app.entries[0].delivery.event_id.as_deref(), Some("evt_0"));
    assert_eq!(app.entries[0].mark, Mark::Verified);

    // More arrive: the next oldest go, in order.
    fill_sized(&mut app, &mut b, 2, 1_000);
    let dropped: Vec<bool> = app.entries.iter().map(|e| e.body_dropped).collect();
    assert_eq!(dropped, [true, true, true, true, false, false, false]);

    // A copy of a body no longer held says why instead of copying nothing.
    app.selected = Some(0);
    app.follow = false;
    assert_eq!(ch(&mut app, 'Y'), None);
    let status = app.status.clone().map(|(s, _)| s).unwrap_or_default();
    assert!(status.contains("no longer held"), "{status}");
    assert!(status.contains("2.9 KiB of bodies"), "{status}");
    assert_eq!(ch(&mut app, 'c'), None, "no curl command without the body");
}

#[test]
fn the_newest_body_is_kept_even_past_the_budget() {
    let (mut app, mut b) = (app(), builder());
    app.body_budget = 100;
    fill_sized(&mut app, &mut b, 3, 1_000);
    let dropped: Vec<bool> = app.entries.iter().map(|e| e.body_dropped).collect();
    assert_eq!(dropped, [true, true, false]);
}

#[test]
fn retention_and_the_budget_count_bodies_together() {
    let (mut app, mut b) = (app(), builder());
    app.retain = 8;
    app.body_budget = 5_000;
    for _ in 0..10 {
        fill_sized(&mut app, &mut b, 3, 1_000);
        let held: usize = app.entries.iter().map(|e| e.delivery.body.len()).sum();
        assert!(held <= 5_000, "{held} bytes held");
        let kept = app.entries.iter().filter(|e| !e.body_dropped).count();
        // Exactly the newest five bodies, whatever retention trimmed.
        assert_eq!(kept, 5.min(app.entries.len()));
        assert!(app.entries.iter().rev().take(kept).all(|e| !e.body_dropped));
    }
}

#[test]
fn a_delivery_from_an_earlier_day_shows_its_day_not_a_time_of_today() {
    let at = |when: time::OffsetDateTime| {
        let mut b = Builder::new(&[SECRET], when);
        let d = b.signed(SECRET, "msg_d", &event("a.b", "evt_d"));
        let mut app = app();
        app.update(Action::Deliveries(vec![Arc::new(d)]));
        app
    };
    let now = datetime!(2026-11-28 09:30:00 UTC);
    let shown = |when, offset: UtcOffset| {
        let mut app = at(when);
        app.offset = offset;
        app.update(Action::Tick(now.unix_timestamp() * 1000));
        app.entries[0].time(app.offset, app.today())
    };
    assert_eq!(
        shown(datetime!(2026-11-28 09:29:58 UTC), UtcOffset::UTC),
        "09:29:58"
    );
    assert_eq!(
        shown(datetime!(2026-11-25 09:29:58 UTC), UtcOffset::UTC),
        "Nov 25"
    );
    assert_eq!(
        shown(datetime!(2026-03-05 23:00:00 UTC), UtcOffset::UTC),
        "Mar  5"
    );
    assert_eq!(
        shown(datetime!(2025-11-28 09:29:58 UTC), UtcOffset::UTC),
        "2025-11"
    );
    // The day is the local one: 23:30 UTC yesterday is 08:30 today in Tokyo.
    let tokyo = UtcOffset::from_hms(9, 0, 0).unwrap();
    assert_eq!(shown(datetime!(2026-11-27 23:30:00 UTC), tokyo), "08:30:00");
    assert_eq!(
        shown(datetime!(2026-11-27 23:30:00 UTC), UtcOffset::UTC),
        "Nov 27"
    );
    // Before the first tick the day is not known: times, as before.
    let app = at(datetime!(2026-11-25 09:29:58 UTC));
    assert_eq!(app.entries[0].time(app.offset, app.today()), "09:29:58");
}

#[test]
fn acting_on_no_selection_says_why_nothing_happened() {
    let (mut app, mut b) = (app(), builder());
    for c in ['y', 'Y', 'c', 'C', 'r', 'R'] {
        assert_eq!(ch(&mut app, c), None);
        let said = app.status.as_ref().map(|(s, _)| s.as_str());
        assert_eq!(
            said,
            Some("nothing to copy or replay yet: no delivery has come"),
            "{c}"
        );
    }
    fill(&mut app, &mut b, 2);
    ch(&mut app, '/');
    for c in "nothing like it".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter);
    assert!(app.view.is_empty());
    assert_eq!(ch(&mut app, 'y'), None);
    let said = app.status.as_ref().map(|(s, _)| s.as_str()).unwrap();
    assert!(
        said.starts_with("no delivery selected: none is shown"),
        "{said}"
    );
}

/// A request with `verdict` and `status`: c, C, r and R each refuse it, saying `why`.
fn refuses_to_re_send(verdict: crate::verify::Unchecked, status: u16, why: &str) {
    let (mut app, mut b) = (app(), builder());
    let mut d = b.request(
        "POST",
        "/half",
        vec![("svix-id".into(), b"msg_1".to_vec())],
        b"",
    );
    d.verdict = crate::verify::Verdict::Unchecked(verdict);
    d.response.status = status;
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    for c in ['c', 'C', 'r', 'R'] {
        assert_eq!(ch(&mut app, c), None, "{c}");
        let said = app.status.as_ref().map(|(s, _)| s.as_str());
        assert_eq!(
            said,
            Some(format!("nothing to re-send: {why}").as_str()),
            "{c}"
        );
    }
}

#[test]
fn a_request_that_never_came_whole_is_not_offered_for_re_sending() {
    refuses_to_re_send(
        crate::verify::Unchecked::HeadCutShort {
            received: 40,
            error: "closed by the client".into(),
        },
        0,
        "a request refused as malformed or never complete cannot be re-sent as it came",
    );
}

#[test]
fn a_request_whose_body_was_not_kept_is_not_offered_for_re_sending() {
    // Refused unread: replaying it sent its signature over an empty body (a 401 of our making).
    refuses_to_re_send(
        crate::verify::Unchecked::BodyTooLarge {
            limit: 1 << 24,
            size: 1 << 30,
            declared: true,
        },
        413,
        "its body was over --max-body and refused unread: a replay would not send the body that came",
    );
}

#[test]
fn the_filter_prompt_takes_a_shells_line_editing_keys_and_no_other_chords() {
    let (mut app, mut b) = (app(), builder());
    fill(&mut app, &mut b, 3);
    let chord = |app: &mut App, c: char, m: KeyModifiers| {
        app.update(Action::Key(KeyEvent::new(KeyCode::Char(c), m)));
    };
    ch(&mut app, '/');
    for c in "customer created".chars() {
        ch(&mut app, c);
    }
    // Ctrl-W drops the last word (and the space before it stays, as in a shell).
    chord(&mut app, 'w', KeyModifiers::CONTROL);
    assert_eq!(app.filter, "customer ");
    // Ctrl and Alt chords add nothing: Ctrl-U once typed a `u`.
    chord(&mut app, 'a', KeyModifiers::CONTROL);
    chord(&mut app, 'b', KeyModifiers::ALT);
    assert_eq!(app.filter, "customer ");
    // Shifted letters are text, and so is AltGr's (Ctrl and Alt together, on Windows).
    chord(&mut app, 'X', KeyModifiers::SHIFT);
    chord(&mut app, '@', KeyModifiers::CONTROL | KeyModifiers::ALT);
    assert_eq!(app.filter, "customer X@");
    // Ctrl-U clears it, and typing goes on.
    chord(&mut app, 'u', KeyModifiers::CONTROL);
    assert_eq!(app.filter, "");
    assert!(app.editing_filter);
    ch(&mut app, 'e');
    assert_eq!(app.filter, "e");
}

#[test]
fn x_twice_clears_the_list_and_its_counts_for_a_fresh_round() {
    let mut app = app();
    let status = |app: &App| app.status.as_ref().map(|s| s.0.clone()).unwrap_or_default();
    ch(&mut app, 'x');
    assert_eq!(status(&app), "nothing to clear: the list is empty");

    let mut b = builder();
    fill(&mut app, &mut b, 3);
    app.update(Action::Tick(10_000));
    ch(&mut app, 'x');
    assert_eq!(
        status(&app),
        "x again clears 3 deliveries from the list (--no-store: they are not kept anywhere)"
    );
    assert_eq!(app.entries.len(), 3, "one x clears nothing");
    // Anything else in between, or waiting past the status, and x asks again.
    ch(&mut app, 'j');
    ch(&mut app, 'x');
    assert_eq!(app.entries.len(), 3);
    app.update(Action::Tick(10_000 + STATUS_MS + 1));
    ch(&mut app, 'x');
    assert_eq!(app.entries.len(), 3);

    app.bodies_in_store = true;
    app.update(Action::Tick(20_000));
    ch(&mut app, 'x');
    assert!(status(&app).ends_with("(the store keeps them: hookscope history)"));
    key(&mut app, KeyCode::Enter);
    assert!(app.detail);
    ch(&mut app, 'x');
    ch(&mut app, 'x');
    assert_eq!(
        status(&app),
        "cleared 3 deliveries from the list; hookscope history still lists them"
    );
    assert!(app.entries.is_empty() && app.view.is_empty());
    assert_eq!((app.selected, app.detail), (None, false));
    assert_eq!(
        (app.counts.verified, app.counts.rejected, app.counts.total),
        (0, 0, 0)
    );
    // What comes next is listed, counted and selected as on a fresh start; a retry of a
    // message cleared away is a first attempt here.
    b.advance(100);
    let retry = b.signed(SECRET, "msg_0", &event("customer.created", "evt_0"));
    app.update(Action::Deliveries(vec![Arc::new(retry)]));
    assert_eq!(app.entries.len(), 1);
    assert_eq!(app.counts.total, 1);
    assert_eq!(app.selected_row(), Some(0));
    assert_eq!(app.attempt_badge(&app.entries[0]), None);
}

/// The status line's text.
fn said(app: &App) -> &str {
    app.status.as_ref().map_or("", |(s, _)| s.as_str())
}

#[test]
fn n_and_n_shifted_go_through_the_body_lines_holding_the_filter() {
    let (mut app, mut b) = (app(), builder());
    // Pretty-printed: line 0 `{`, then one key a line; "amount" on lines 2, 4 and 6.
    let body = br#"{"id":"evt_a","amount":1,"type":"x","amount_due":2,"b":3,"AMOUNT":4}"#;
    app.update(Action::Deliveries(vec![Arc::new(
        b.signed(SECRET, "msg_a", body),
    )]));
    assert_eq!(ch(&mut app, 'n'), None);
    assert!(
        said(&app).starts_with("n and N find the filter's text"),
        "{}",
        said(&app)
    );
    ch(&mut app, '/');
    for c in "amount".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter);
    assert!(!app.detail);
    // From the list: the Body tab opens at the first line holding it.
    ch(&mut app, 'n');
    assert!(app.detail && app.tab == Tab::Body);
    let text = |app: &App| app.body_view().unwrap().lines[app.scroll].text.clone();
    assert_eq!(text(&app), r#"  "amount": 1,"#);
    assert_eq!(said(&app), "“amount” at line 3 · match 1 of 3");
    ch(&mut app, 'n');
    assert_eq!(text(&app), r#"  "amount_due": 2,"#);
    ch(&mut app, 'n');
    assert_eq!(text(&app), r#"  "AMOUNT": 4"#, "whatever its case");
    ch(&mut app, 'n');
    assert_eq!(text(&app), r#"  "amount": 1,"#);
    assert!(
        said(&app).ends_with(" · went round to the top"),
        "{}",
        said(&app)
    );
    ch(&mut app, 'N');
    assert_eq!(text(&app), r#"  "AMOUNT": 4"#);
    assert!(
        said(&app).ends_with(" · went round to the end"),
        "{}",
        said(&app)
    );
    ch(&mut app, 'N');
    assert_eq!(text(&app), r#"  "amount_due": 2,"#);
    // From another tab, N opens the body at the last.
    key(&mut app, KeyCode::Tab);
    ch(&mut app, 'N');
    assert_eq!(
        (app.tab, text(&app).as_str()),
        (Tab::Body, r#"  "AMOUNT": 4"#)
    );
}

#[test]
fn n_says_when_the_filter_matched_something_other_than_the_body() {
    let (mut app, mut b) = (app(), builder());
    let d = b.signed(SECRET, "msg_t", &event("invoice.paid", "evt_t"));
    app.update(Action::Deliveries(vec![Arc::new(d)]));
    ch(&mut app, '/');
    for c in "msg_t".chars() {
        ch(&mut app, c);
    }
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view.len(), 1, "the message id matches");
    ch(&mut app, 'n');
    assert_eq!((app.tab, app.scroll), (Tab::Body, 0));
    assert!(
        said(&app).starts_with("“msg_t” is not in this body as shown"),
        "{}",
        said(&app)
    );
}

#[test]
fn n_waits_for_a_body_in_the_store() {
    let (mut app, mut b) = (app(), builder());
    app.bodies_in_store = true;
    let body = br#"{"id":"evt_s","note":"needle"}"#;
    let d = b.signed(SECRET, "msg_s", body);
    let full = Arc::new(crate::delivery::Delivery {
        seq: 7,
        stored: true,
        ..d.clone()
    });
    app.update(Action::Deliveries(vec![stored(d, 7)]));
    app.filter = "needle".into();
    assert_eq!(ch(&mut app, 'n'), Some(Effect::Load { id: 7 }));
    app.update(Action::Loaded {
        id: 7,
        delivery: Ok(Some(full)),
    });
    assert_eq!(app.tab, Tab::Body);
    assert_eq!(
        app.body_view().unwrap().lines[app.scroll].text,
        r#"  "note": "needle""#
    );
}

#[test]
fn a_page_up_from_a_match_near_the_end_moves_a_whole_page() {
    let (mut app, mut b) = (app(), builder());
    app.update(Action::Deliveries(vec![long(&mut b)]));
    app.filter = "199".into();
    ch(&mut app, 'n');
    assert_eq!(app.body_view().unwrap().lines[app.scroll].text, "  199");
    // The pane cannot start that far down: a page up goes from where it does start.
    let max = crate::ui::detail_max_scroll(&app);
    assert!(app.scroll > max);
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.scroll, max - app.page_height());
    // And so does the wheel.
    ch(&mut app, 'n');
    app.update(Action::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: 10,
        row: app.size.1 - 3,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(app.scroll, max - 3);
}

#[test]
fn the_filters_text_is_found_in_a_body_line_as_the_filter_finds_it() {
    assert_eq!(
        found_in(r#""Amount": 1, "amount_due""#, "amount"),
        [(1, 7), (14, 20)]
    );
    assert_eq!(
        found_in("aaaa", "aa"),
        [(0, 2), (2, 4)],
        "apart, not overlapping"
    );
    assert_eq!(found_in("STRASSE Straße", "straße"), [(8, 15)]);
    assert_eq!(found_in("anything", ""), []);
    // Beyond ASCII, byte for byte, as the filter matches bodies: É is not é.
    assert_eq!(found_in("CAFÉ café", "café"), [(6, 11)]);
    // Every line n counts as holding it has a place marked, and only those.
    for text in ["x", "AMOUNT", "amoun", "é amount é", ""] {
        assert_eq!(
            contains_ignore_ascii_case(text.as_bytes(), b"amount"),
            !found_in(text, "amount").is_empty(),
            "{text:?}"
        );
    }
}

/// Sets the filter as typed (`/`, the text, Enter).
fn typed_filter(app: &mut App, text: &str) {
    key(app, KeyCode::Esc);
    ch(app, '/');
    for c in text.chars() {
        ch(app, c);
    }
    key(app, KeyCode::Enter);
}

/// The message ids a re-send of the failing messages asks for.
fn resent(effect: Option<Effect>) -> Vec<String> {
    match effect {
        Some(Effect::ResendFailing { deliveries }) => deliveries
            .iter()
            .map(|d| d.msg_id.clone().unwrap_or_default())
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn f_twice_re_sends_the_newest_delivery_of_each_message_still_failing() {
    let (mut app, mut b) = (app(), builder());
    assert_eq!(ch(&mut app, 'F'), None);
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .0
            .starts_with("no message is failing")
    );
    // msg_2 and msg_5 failed (a wrong secret); msg_2 then got through on a retry, msg_5
    // failed again. msg_app was verified, but the app answered 502. An unsigned GET has no
    // message to re-send.
    fill(&mut app, &mut b, 6);
    b.advance(100);
    let retried = b.signed(SECRET, "msg_2", &event("customer.created", "evt_2"));
    let again = b.signed(OTHER, "msg_5", &event("task.completed", "evt_5"));
    let mut app_failed = b.signed(SECRET, "msg_app", b"{}");
    app_failed.response.status = 502;
    let get = b.request("GET", "/favicon.ico", vec![], b"");
    let ds = [retried, again, app_failed, get].map(Arc::new).to_vec();
    app.update(Action::Deliveries(ds));

    assert_eq!(ch(&mut app, 'F'), None, "the first press only says what");
    let said = &app.status.as_ref().unwrap().0;
    assert!(
        said.starts_with("F again re-sends the 2 messages still failing, oldest first"),
        "{said}"
    );
    // Anything else in between asks again; so does a first press of another key asked for
    // twice.
    ch(&mut app, 'j');
    assert_eq!(ch(&mut app, 'F'), None);
    ch(&mut app, 'x');
    assert_eq!(ch(&mut app, 'F'), None);
    assert_eq!(app.entries.len(), 10, "nor does F clear what x armed");
    match ch(&mut app, 'F') {
        Some(Effect::ResendFailing { deliveries }) => {
            let sent: Vec<_> = deliveries.iter().map(|d| d.seq).collect();
            assert_eq!(
                sent,
                [8, 9],
                "oldest first, the newest attempt of each (msg_5's retry)"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(app.resending);
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .0
            .starts_with("re-sending the 2 messages")
    );

    // One run at a time: F during it says so, and a second F stops it.
    assert_eq!(ch(&mut app, 'F'), None);
    assert_eq!(
        app.status.as_ref().unwrap().0,
        "already re-sending the failing messages: F again stops it"
    );
    assert_eq!(ch(&mut app, 'F'), Some(Effect::StopResending));
    assert!(app.resending, "until the run says it has ended");
    app.update(Action::Resent("re-sent 2 messages: 2xx 2".into()));
    assert!(!app.resending);
    assert_eq!(app.status.as_ref().unwrap().0, "re-sent 2 messages: 2xx 2");

    // The filter narrows it, as it narrows the list.
    typed_filter(&mut app, "task");
    ch(&mut app, 'F');
    assert_eq!(resent(ch(&mut app, 'F')), ["msg_5"]);
    app.update(Action::Resent(String::new()));
    typed_filter(&mut app, "nothing such");
    assert_eq!(ch(&mut app, 'F'), None);
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .0
            .starts_with("no message is failing among those the filter shows")
    );
}

#[test]
fn f_twice_leaves_out_what_cannot_be_re_sent_and_warns_of_the_answer_mode() {
    let (mut app, mut b) = (app(), builder());
    let headers = crate::testing::signed_headers(SECRET, "msg_cut", 0, b"{}");
    let cut = b.record(
        "POST",
        "/webhooks",
        headers,
        b"{\"id\":",
        crate::verify::Verdict::Unchecked(crate::verify::Unchecked::BodyIncomplete {
            error: "closed".into(),
            received: 6,
        }),
    );
    app.update(Action::Deliveries(vec![Arc::new(cut)]));
    assert_eq!(ch(&mut app, 'F'), None);
    assert_eq!(
        app.status.as_ref().unwrap().0,
        "nothing to re-send: 1 message failing cannot be re-sent (never came whole, or not held)"
    );
    let failed = b.signed(OTHER, "msg_bad", b"{}");
    app.update(Action::Deliveries(vec![Arc::new(failed)]));
    ch(&mut app, 'm');
    assert_eq!(ch(&mut app, 'F'), None);
    let said = &app.status.as_ref().unwrap().0;
    assert!(
        said.contains("1 message still failing")
            && said.contains("(the answer mode, status:500, will answer them)")
            && said.ends_with("; 1 message cannot be (never came whole, or not held)"),
        "{said}"
    );
    assert_eq!(resent(ch(&mut app, 'F')), ["msg_bad"]);
}
