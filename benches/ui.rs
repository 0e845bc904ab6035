//! Frame cost with 100 vs 100,000 deliveries held: drawing must only touch visible rows, and
//! moving the selection must not scan the list. Run: `cargo bench --bench ui`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hookscope::app::{Action, App, Info};
use hookscope::testing::{Builder, event};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::hint::black_box;
use std::sync::Arc;
use time::macros::datetime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// An app holding `n` deliveries, each body padded to at least `body_bytes`.
fn app_with(n: usize, body_bytes: usize) -> App {
    let mut app = App::new(
        Info {
            listen: "http://127.0.0.1:8787".into(),
            secrets: vec!["whsec_MfKQ…aSw".into()],
            tunnel: None,
            forward: None,
            files_short: None,
        },
        true,
        time::UtcOffset::UTC,
    );
    app.update(Action::Resize(160, 48));
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
    let ds: Vec<_> = (0..n)
        .map(|i| {
            b.advance(10);
            let mut body = event(
                if i % 2 == 0 {
                    "customer.created"
                } else {
                    "task.completed"
                },
                &format!("evt_{i}"),
            );
            if body.len() < body_bytes {
                // {"id":…,"note":"xxxx…"}: the same event with a long field at the end.
                body.pop();
                let pad = body_bytes - body.len() - 12;
                body.extend_from_slice(format!(r#","note":"{}"}}"#, "x".repeat(pad)).as_bytes());
            }
            Arc::new(b.signed(SECRET, &format!("msg_{i}"), &body))
        })
        .collect();
    app.update(Action::Deliveries(ds));
    // Open the detail on the body tab, the most expensive view.
    for code in [
        KeyCode::Char('j'),
        KeyCode::Enter,
        KeyCode::Tab,
        KeyCode::Tab,
    ] {
        app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
    app
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    for n in [100usize, 100_000] {
        let mut app = app_with(n, 0);
        let mut term = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
        group.bench_with_input(BenchmarkId::new("draw", n), &n, |b, _| {
            b.iter(|| {
                term.draw(|f| hookscope::ui::draw(f, black_box(&app)))
                    .expect("draw");
            })
        });
        group.bench_with_input(BenchmarkId::new("move_and_draw", n), &n, |b, _| {
            let mut down = true;
            b.iter(|| {
                let code = if down {
                    KeyCode::Char('j')
                } else {
                    KeyCode::Char('k')
                };
                down = !down;
                app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
                term.draw(|f| hookscope::ui::draw(f, &app)).expect("draw");
            })
        });
    }
    // A 5 MiB payload open in the Body tab: prepared once, then each frame draws only the
    // visible lines.
    let mut app = app_with(100, 0);
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 11:00:00 UTC));
    let items: Vec<String> = (0..110_000)
        .map(|i| {
            format!(
                "{{\"sku\":\"SKU-{i:06}\",\"qty\":{},\"note\":\"line item\"}}",
                i % 9
            )
        })
        .collect();
    let body = format!(
        "{{\"id\":\"evt_big\",\"type\":\"invoice.finalized\",\"lines\":[{}]}}",
        items.join(",")
    );
    assert!(body.len() > 5 << 20, "{} bytes", body.len());
    app.update(Action::Deliveries(vec![Arc::new(b.signed(
        SECRET,
        "msg_big",
        body.as_bytes(),
    ))]));
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('g'),
        KeyModifiers::NONE,
    )));
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("test backend");
    group.bench_function("draw/5MiB_body_open", |bench| {
        bench.iter(|| {
            term.draw(|f| hookscope::ui::draw(f, black_box(&app)))
                .expect("draw");
        })
    });
    group.finish();
}

/// Typing in the filter with 100,000 deliveries of 1 KiB held, bodies in memory (store off):
/// a key that widens the filter checks every delivery, one that narrows it only those shown.
fn filter(c: &mut Criterion) {
    let mut group = c.benchmark_group("filter");
    let key = |app: &mut App, code| {
        app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    };
    for n in [100usize, 100_000] {
        let mut app = app_with(n, 1024);
        key(&mut app, KeyCode::Esc);
        key(&mut app, KeyCode::Char('/'));
        for c in "cust".chars() {
            key(&mut app, KeyCode::Char(c));
        }
        // Backspace re-checks every delivery against "cus"; the 't' then narrows.
        group.bench_with_input(BenchmarkId::new("widen_then_narrow", n), &n, |b, _| {
            b.iter(|| {
                key(&mut app, KeyCode::Backspace);
                key(&mut app, KeyCode::Char('t'));
                black_box(app.view.len())
            })
        });
        // A query that matches nothing but must look through every body.
        for c in "zq".chars() {
            key(&mut app, KeyCode::Char(c));
        }
        group.bench_with_input(BenchmarkId::new("widen_no_match", n), &n, |b, _| {
            b.iter(|| {
                key(&mut app, KeyCode::Backspace);
                key(&mut app, KeyCode::Char('q'));
                black_box(app.view.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, frames, filter);
criterion_main!(benches);
