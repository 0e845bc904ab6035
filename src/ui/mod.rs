//! Drawing: a pure function of [`App`] state. Only visible rows and lines are built each frame.
//!
//! ```text
//! ┌ header: product, listen address, tunnel · secrets, counts, sparkline ┐  2 rows
//! │ list: newest first (time, mark, type, id, size, status)              │  rest, or ~40% with detail
//! │ detail: tabs Overview | Headers | Body | Response                     │  when open
//! └ hint bar: keys, or the filter being typed, or a status message        ┘  1 row
//! ```
//!
//! A status message too long for the hint bar covers up to two rows above it while it shows.

pub mod clusters;
mod detail;
pub use detail::max_scroll as detail_max_scroll;
pub mod help;
mod list;
pub mod theme;

use crate::app::{App, Tab};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Sparkline};
use theme::Theme;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// Two-row header bar.
    pub header: Rect,
    /// The delivery list, with its border and column header.
    pub list: Rect,
    /// The detail view, when open.
    pub detail: Option<Rect>,
    /// One-row hint bar.
    pub hints: Rect,
}

/// Splits the screen; shared by drawing and mouse hit-testing so they always agree.
pub fn layout(area: Rect, detail: bool) -> Areas {
    let [header, middle, hints] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    if detail {
        // Two fifths for the list, at least five rows; but the detail was asked for, so in a
        // short terminal (a split pane) the list gives way, down to its title, the column
        // heads and the selected row, before the detail gets fewer than DETAIL_ROWS.
        const DETAIL_ROWS: u16 = 6;
        let list_height = (middle.height * 2 / 5)
            .max(5)
            .min(middle.height.saturating_sub(DETAIL_ROWS))
            .max(3)
            .min(middle.height);
        let [list, detail] =
            Layout::vertical([Constraint::Length(list_height), Constraint::Min(0)]).areas(middle);
        Areas {
            header,
            list,
            detail: Some(detail),
            hints,
        }
    } else {
        Areas {
            header,
            list: middle,
            detail: None,
            hints,
        }
    }
}

/// The tab titles' columns on the detail's top border: `(tab, title, first column, past-last
/// column)`. A pane too narrow for the titles in full gets them shortened (`Resp`, then `R`)
/// rather than lose the last ones: the selected tab must always be named.
pub fn tab_spans(detail: Rect) -> Vec<(Tab, &'static str, u16, u16)> {
    let titles = |t: Tab| -> [&'static str; 3] {
        match t {
            Tab::Overview => ["Overview", "Over", "O"],
            Tab::Headers => ["Headers", "Head", "H"],
            Tab::Body => ["Body", "Body", "B"],
            Tab::Response => ["Response", "Resp", "R"],
        }
    };
    // Each title takes its length and a space either side, one column apart, after the
    // border's first column.
    let needed = |form: usize| -> u16 {
        Tab::ALL
            .iter()
            .map(|t| titles(*t)[form].len() as u16 + 3)
            .sum()
    };
    let form = (0..3).find(|&f| needed(f) <= detail.width).unwrap_or(2);
    let mut x = detail.x + 1;
    Tab::ALL
        .iter()
        .map(|t| {
            let title = titles(*t)[form];
            let w = title.len() as u16 + 2;
            let span = (*t, title, x, x + w);
            x += w + 1;
            span
        })
        .collect()
}

/// The tab whose title covers column `x` of the detail's top border.
pub fn tab_at(detail: Rect, x: u16) -> Option<Tab> {
    tab_spans(detail)
        .into_iter()
        .find(|(_, _, a, b)| (*a..*b).contains(&x) && *b <= detail.right())
        .map(|(t, _, _, _)| t)
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme::new(app.color);
    let areas = layout(frame.area(), app.detail);
    header(frame, app, areas.header, &theme);
    list::draw(frame, app, areas.list, &theme);
    if let Some(d) = areas.detail {
        detail::draw(frame, app, d, &theme);
    }
    hints(frame, app, areas.hints, &theme);
    if app.help {
        help::draw(frame, frame.area(), app.help_scroll, &theme);
    }
}

fn header(frame: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let [top, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let mut first = vec![
        Span::styled(" hookscope ", theme.title()),
        Span::raw(" listening "),
        Span::styled(app.info.listen.clone(), theme.strong()),
    ];
    // Start-up's warning about it went to stderr, under the inspector: say it where it shows.
    if reachable_from_elsewhere(&app.info.listen) {
        first.push(Span::raw(" "));
        first.push(Span::styled(" ⚠ open to other machines ", theme.warn()));
    }
    // So was the one about serving fewer connections than asked.
    if let Some((connections, files)) = app.info.files_short {
        first.push(Span::raw(" "));
        first.push(Span::styled(
            format!(" ⚠ {connections} connections at once (ulimit -n {files}) "),
            theme.warn(),
        ));
    }
    // Before the URLs, which can be long: senders getting a made-up answer must never be
    // cut off the screen.
    if app.mode != crate::forward::RespondMode::Normal {
        first.push(Span::raw("  "));
        first.push(Span::styled(
            format!(" answering {} (m) ", app.mode),
            theme.warn(),
        ));
    }
    let mut urls = Vec::new();
    if let Some(url) = &app.info.tunnel {
        first.push(Span::raw("  ⇄ "));
        urls.push(first.len());
        first.push(Span::styled(
            crate::sanitize::line(url).into_owned(),
            theme.strong(),
        ));
    }
    if let Some(url) = &app.info.forward {
        first.push(Span::raw("  → app "));
        urls.push(first.len());
        first.push(Span::styled(
            crate::sanitize::line(url).into_owned(),
            theme.strong(),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(fit_first_row(
            first,
            &urls,
            usize::from(top.width),
        ))),
        top,
    );

    let spark_width = 24u16.min(bottom.width / 4);
    let [left, spark] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(spark_width)]).areas(bottom);
    let c = app.counts;
    let counts = [
        Span::raw("  "),
        Span::styled(format!("✓ {}", c.verified), theme.ok()),
        Span::raw("  "),
        Span::styled(
            format!("✗ {}", c.rejected),
            if c.rejected > 0 {
                theme.bad()
            } else {
                theme.dim()
            },
        ),
        Span::raw(format!("  Σ {}", c.total)),
    ];
    let mut second = Vec::new();
    let room = usize::from(left.width).saturating_sub(counts.iter().map(Span::width).sum());
    if let Some(said) = &app.store_trouble {
        // In the secrets' place: senders are being refused, which matters more now.
        let why = said
            .strip_prefix(crate::receiver::NOT_STORED)
            .unwrap_or(said);
        let text = format!(
            " ⚠ not stored, answering 503: {} ",
            crate::sanitize::line(why.lines().next().unwrap_or(""))
        );
        second.push(Span::styled(clip(&text, room).into_owned(), theme.warn()));
    } else if app.info.secrets.is_empty() {
        second.push(Span::styled(
            " ⚠ no secret: signatures not checked ",
            theme.warn(),
        ));
    } else {
        // The counts keep their place; the secrets take what room is left, and where not
        // even one fits, how many there are (or nothing: the counts come first).
        let label = " secrets ";
        let listed = fit_list(&app.info.secrets, room.saturating_sub(label.len()));
        let n = app.info.secrets.len();
        let how_many = format!(" {n} secret{}", if n == 1 { "" } else { "s" });
        if let Some(listed) = listed {
            second.push(Span::raw(label));
            second.push(Span::styled(listed, theme.dim()));
        } else if how_many.chars().count() <= room {
            second.push(Span::styled(how_many, theme.dim()));
        }
    }
    second.extend(counts);
    frame.render_widget(Paragraph::new(Line::from(second)), left);
    let data: Vec<u64> = app
        .rate
        .iter()
        .skip(app.rate.len().saturating_sub(spark_width as usize))
        .copied()
        .collect();
    frame.render_widget(Sparkline::default().data(&data).style(theme.spark()), spark);
}

/// Whether the address listened on (`http://0.0.0.0:8787`) takes connections from other
/// machines: anything but loopback.
fn reachable_from_elsewhere(listen: &str) -> bool {
    let authority = listen.split_once("://").map_or(listen, |(_, rest)| rest);
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| !ip.is_loopback())
}

/// The header's first row made to fit `room` columns without cutting anything silently: a
/// port or a tunnel URL cut at the pane's edge reads as a different one. The labels go first
/// (" listening ", then the product name), then the longest of the `urls` (indices into
/// `spans`: the tunnel's, the app's) is shortened, each ending in `…`, so both stay in sight;
/// whatever still does not fit ends in `…` at the edge.
fn fit_first_row(mut spans: Vec<Span<'static>>, urls: &[usize], room: usize) -> Vec<Span<'static>> {
    /// Enough of a URL to tell which it is: `https://f00d-cafe.…`.
    const URL_KEPT: usize = 20;
    let width = |spans: &[Span]| spans.iter().map(Span::width).sum::<usize>();
    if width(&spans) > room && spans.len() > 2 {
        spans[1] = Span::raw(" ");
    }
    if width(&spans) > room && spans.len() > 1 {
        spans[0] = Span::raw("");
    }
    let mut over = width(&spans).saturating_sub(room);
    while over > 0 {
        let Some(&longest) = urls
            .iter()
            .filter(|&&i| spans.get(i).is_some_and(|s| s.width() > URL_KEPT))
            .max_by_key(|&&i| spans[i].width())
        else {
            break;
        };
        let span = &spans[longest];
        let mut text: String = span.content.trim_end_matches('…').to_string();
        // One character off, and the ellipsis (one column) in its place on the first cut.
        let first_cut = !span.content.ends_with('…');
        text.pop();
        if first_cut {
            text.pop();
        }
        text.push('…');
        spans[longest] = Span::styled(text, span.style);
        over = width(&spans).saturating_sub(room);
    }
    let mut used = 0;
    let mut out = Vec::with_capacity(spans.len());
    let total = width(&spans);
    for span in spans {
        let w = span.width();
        if total <= room || used + w < room {
            used += w;
            out.push(span);
            continue;
        }
        // This span crosses the edge: as much of it as fits, ending in `…`.
        out.push(Span::styled(cut(&span.content, room - used), span.style));
        break;
    }
    out
}

/// `text` cut to `room` terminal columns, ending in `…` when cut: a type or an id cut at a
/// column's edge would read as another one.
pub(super) fn clip(text: &str, room: usize) -> std::borrow::Cow<'_, str> {
    use unicode_width::UnicodeWidthStr;
    if text.width() <= room {
        return text.into();
    }
    cut(text, room).into()
}

/// As much of `text` as fits in `room` columns with `…` after it, even when all of it would
/// fit: for what has more after it that does not.
fn cut(text: &str, room: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w >= room {
            break;
        }
        cut.push(c);
        used += w;
    }
    if room > 0 {
        cut.push('…');
    }
    cut
}

/// As many of `items` as fit in `room` columns, comma-separated, then `+N more` for the rest;
/// `None` when not even the first fits beside its `+N more`.
fn fit_list(items: &[String], room: usize) -> Option<String> {
    let width = |s: &str| s.chars().count();
    let all = items.join(", ");
    if width(&all) <= room {
        return Some(all);
    }
    let mut shown = String::new();
    for (i, item) in items.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let rest = items.len() - i - 1;
        // Not all fit, so what must still fit after this item is ", +N more".
        let tail = width(&format!(", +{rest} more"));
        if rest == 0 || width(&shown) + width(sep) + width(item) + tail > room {
            return (i > 0).then(|| format!("{shown}{sep}+{} more", items.len() - i));
        }
        shown.push_str(sep);
        shown.push_str(item);
    }
    Some(shown)
}

fn hints(frame: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let line = if app.editing_filter {
        Line::from(vec![
            Span::styled(" / ", theme.title()),
            Span::raw(crate::sanitize::line(&app.filter).into_owned()),
            Span::styled("▏", theme.strong()),
            Span::styled(
                "   Enter keep (then n finds it in a body) · Esc clear",
                theme.dim(),
            ),
        ])
    } else if let Some((text, _)) = &app.status {
        // What a status says past the bar's width (why a copy went the way it did, what to do
        // instead) matters: it covers the rows above for as long as it shows, rather than
        // move the list.
        let mut lines = wrap(text, usize::from(area.width.saturating_sub(1)));
        let rows = lines.len().min(STATUS_ROWS);
        if lines.len() > rows {
            lines.truncate(rows);
            if let Some(last) = lines.last_mut() {
                last.pop();
                last.push('…');
            }
        }
        let top = area.y.saturating_sub(rows as u16 - 1);
        let over = Rect::new(area.x, top, area.width, area.bottom() - top);
        let text: Vec<Line> = lines
            .into_iter()
            .map(|l| Line::from(Span::styled(format!(" {l}"), theme.strong())))
            .collect();
        frame.render_widget(Clear, over);
        frame.render_widget(Paragraph::new(text), over);
        return;
    } else {
        let mut spans = vec![Span::raw(" ")];
        for (k, what) in fitting_hints(hints_for(app), area.width as usize) {
            spans.push(Span::styled(k, theme.key()));
            spans.push(Span::styled(format!(" {what}  "), theme.dim()));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Splits text into lines of at most `width` characters at spaces (hanging indents are the
/// caller's); words longer than a line are cut.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > width {
            let head: String = line.chars().take(width).collect();
            line = line.chars().skip(width).collect();
            out.push(head);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// Rows a long status message may take, counting the hint bar's own.
const STATUS_ROWS: usize = 3;

/// The key hints over the list, most useful first.
const HINTS: &[(&str, &str)] = &[
    ("j/k", "move"),
    ("⏎", "detail"),
    ("/", "filter"),
    ("f", "failures"),
    ("y", "copy id"),
    ("Y", "payload"),
    ("c", "curl"),
    ("r/R", "replay"),
    ("m", "mode"),
];

/// The key hints with a detail open: how to move around in it and leave it come first, since
/// those are the keys a first look at a long payload needs. (The Body tab names `v` itself.)
const DETAIL_HINTS: &[(&str, &str)] = &[
    ("j/k", "move"),
    ("Tab", "tabs"),
    ("PgDn", "scroll"),
    ("Esc", "close"),
    ("y", "copy id"),
    ("Y", "payload"),
    ("c", "curl"),
    ("r/R", "replay"),
    ("/", "filter"),
];

/// The hints for what is on screen.
fn hints_for(app: &App) -> &'static [(&'static str, &'static str)] {
    if app.detail { DETAIL_HINTS } else { HINTS }
}

/// The hints that fit in `width` columns: as many of `hints` as fit, in order, then help and
/// quit, which are always shown (an 80-column terminal would otherwise cut them off, and `?`
/// lists every key).
fn fitting_hints(
    hints: &[(&'static str, &'static str)],
    width: usize,
) -> Vec<(&'static str, &'static str)> {
    let cost = |(k, what): &(&str, &str)| Span::raw(*k).width() + 1 + Span::raw(*what).width() + 2;
    let last = [("?", "help"), ("q", "quit")];
    let mut room = width.saturating_sub(1 + last.iter().map(cost).sum::<usize>());
    let mut shown = Vec::new();
    for hint in hints {
        let Some(left) = room.checked_sub(cost(hint)) else {
            break;
        };
        room = left;
        shown.push(*hint);
    }
    shown.extend(last);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 10), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("abcdefghijklmno", 10), vec!["abcdefghij", "klmno"]);
    }

    #[test]
    fn a_list_fits_its_room_and_says_how_many_more() {
        let items: Vec<String> = ["aaaa", "bbbb", "cccc"].map(String::from).to_vec();
        let fit = |room| fit_list(&items, room);
        assert_eq!(fit(100).as_deref(), Some("aaaa, bbbb, cccc"));
        assert_eq!(fit(16).as_deref(), Some("aaaa, bbbb, cccc"));
        assert_eq!(fit(15).as_deref(), Some("aaaa, +2 more"));
        assert_eq!(fit(13).as_deref(), Some("aaaa, +2 more"));
        // Not even one: the caller says how many instead.
        assert_eq!(fit(12), None);
        assert_eq!(fit_list(&["aaaa".into()], 3), None);
        assert_eq!(fit_list(&[], 5).as_deref(), Some(""));
    }

    #[test]
    fn the_first_header_row_drops_its_labels_then_ends_in_an_ellipsis_rather_than_cut() {
        let row = |room| {
            let spans = vec![
                Span::raw(" hookscope "),
                Span::raw(" listening "),
                Span::raw("http://127.0.0.1:8787"),
                Span::raw("  ⇄ "),
                Span::raw("https://f00d-cafe.ngrok-free.app"),
            ];
            let fitted = fit_first_row(spans, &[4], room);
            let text: String = fitted.iter().map(|s| s.content.as_ref()).collect();
            let width: usize = fitted.iter().map(Span::width).sum();
            assert!(width <= room, "{text:?} is wider than {room}");
            text
        };
        let all = " hookscope  listening http://127.0.0.1:8787  ⇄ https://f00d-cafe.ngrok-free.app";
        assert_eq!(row(100), all);
        assert_eq!(row(all.chars().count()), all);
        assert_eq!(
            row(70),
            " hookscope  http://127.0.0.1:8787  ⇄ https://f00d-cafe.ngrok-free.app"
        );
        assert_eq!(
            row(58),
            " http://127.0.0.1:8787  ⇄ https://f00d-cafe.ngrok-free.app"
        );
        assert_eq!(row(40), " http://127.0.0.1:8787  ⇄ https://f00d-…");
        // The port is never shown cut: a shorter number would be a different port.
        assert_eq!(row(20), " http://127.0.0.1:8…");
        // A span that ends at the edge with more after it still ends in the ellipsis.
        assert_eq!(row(26), " http://127.0.0.1:8787  ⇄…");
        assert_eq!(row(1), "…");
        assert_eq!(row(0), "");
    }

    #[test]
    fn an_address_open_to_other_machines_is_told_apart_from_loopback() {
        for open in [
            "http://0.0.0.0:8787",
            "http://[::]:8787",
            "http://192.168.1.5:9000",
        ] {
            assert!(reachable_from_elsewhere(open), "{open}");
        }
        for local in [
            "http://127.0.0.1:8787",
            "http://[::1]:8787",
            "http://127.0.0.2:1",
        ] {
            assert!(!reachable_from_elsewhere(local), "{local}");
        }
    }

    #[test]
    fn the_longest_url_gives_way_first_so_both_stay_in_sight() {
        let spans = vec![
            Span::raw(" hookscope "),
            Span::raw(" listening "),
            Span::raw("http://127.0.0.1:8787"),
            Span::raw("  ⇄ "),
            Span::raw("https://a-rather-long-name-for-a-tunnel.ngrok-free.app"),
            Span::raw("  → app "),
            Span::raw("http://localhost:3000/api/webhooks/incoming"),
        ];
        let fitted = fit_first_row(spans, &[4, 6], 100);
        let text: String = fitted.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(
            text,
            " http://127.0.0.1:8787  ⇄ https://a-rather-long-name-for-a…  → app http://localhost:3000/api/webhoo…"
        );
        assert!(fitted.iter().map(Span::width).sum::<usize>() <= 100);
    }

    #[test]
    fn layout_fits_small_terminals() {
        let a = layout(Rect::new(0, 0, 80, 24), true);
        assert_eq!(
            a.header.height + a.list.height + a.detail.unwrap().height + a.hints.height,
            24
        );
        assert!(a.list.height >= 5);
        let tiny = layout(Rect::new(0, 0, 20, 4), true);
        assert!(tiny.list.bottom() <= 4);
        // A short pane: the list shrinks to its selected row before the detail goes.
        for (height, list, detail) in [(8, 3, 2), (9, 3, 3), (12, 3, 6), (14, 5, 6), (20, 6, 11)] {
            let a = layout(Rect::new(0, 0, 60, height), true);
            assert_eq!(
                (a.list.height, a.detail.map(|d| d.height)),
                (list, Some(detail)),
                "at {height} rows"
            );
            assert_eq!(a.detail.unwrap().bottom(), a.hints.y);
        }
    }

    #[test]
    fn help_and_quit_hints_survive_any_width() {
        for hints in [HINTS, DETAIL_HINTS] {
            let keys =
                |w| -> Vec<&str> { fitting_hints(hints, w).iter().map(|(k, _)| *k).collect() };
            assert_eq!(keys(0), ["?", "q"]);
            assert_eq!(keys(80).last(), Some(&"q"));
            assert!(keys(80).contains(&"j/k") && keys(80).contains(&"?"));
            assert_eq!(keys(200).len(), hints.len() + 2);
            // What is shown fits, trailing spaces aside.
            for w in [30, 60, 80, 100, 120] {
                let used: usize = 1 + fitting_hints(hints, w)
                    .iter()
                    .map(|(k, what)| k.chars().count() + 1 + what.chars().count() + 2)
                    .sum::<usize>();
                assert!(used - 2 <= w, "{used} columns at {w}");
            }
        }
    }

    #[test]
    fn with_a_detail_open_the_hints_say_how_to_leave_it() {
        let mut app = App::new(crate::app::Info::default(), false, time::UtcOffset::UTC);
        let keys = |app: &App, width| -> Vec<&str> {
            fitting_hints(hints_for(app), width)
                .iter()
                .map(|(k, _)| *k)
                .collect()
        };
        assert!(keys(&app, 80).contains(&"⏎") && !keys(&app, 80).contains(&"Esc"));
        app.detail = true;
        // At 80 columns how to move, switch tabs, scroll and close all fit; the rest at 120.
        for key in ["j/k", "Tab", "PgDn", "Esc"] {
            assert!(
                keys(&app, 80).contains(&key),
                "{key} in {:?}",
                keys(&app, 80)
            );
        }
        for key in ["y", "Y", "c", "r/R"] {
            assert!(
                keys(&app, 120).contains(&key),
                "{key} in {:?}",
                keys(&app, 120)
            );
        }
        assert!(!keys(&app, 120).contains(&"⏎"));
    }

    #[test]
    fn tab_hit_testing_matches_titles() {
        let d = Rect::new(0, 10, 80, 10);
        assert_eq!(tab_at(d, 1), Some(Tab::Overview));
        assert_eq!(tab_at(d, 12), Some(Tab::Headers));
        assert_eq!(tab_at(d, 79), None);
    }

    #[test]
    fn a_narrow_detail_shortens_its_tab_titles_rather_than_lose_the_last() {
        let titles = |w| -> Vec<&str> {
            let spans = tab_spans(Rect::new(0, 10, w, 10));
            assert!(spans.iter().all(|(_, _, _, end)| *end <= w), "width {w}");
            spans.into_iter().map(|(_, title, _, _)| title).collect()
        };
        assert_eq!(titles(39), ["Overview", "Headers", "Body", "Response"]);
        assert_eq!(titles(38), ["Over", "Head", "Body", "Resp"]);
        assert_eq!(titles(28), ["Over", "Head", "Body", "Resp"]);
        assert_eq!(titles(27), ["O", "H", "B", "R"]);
        assert_eq!(titles(16), ["O", "H", "B", "R"]);
        // Narrower still, what does not fit is not drawn and cannot be clicked.
        let d = Rect::new(0, 10, 12, 10);
        assert_eq!(tab_at(d, 1), Some(Tab::Overview));
        assert_eq!(tab_at(d, 13), None);
        let d = Rect::new(0, 10, 34, 10);
        let (_, _, x, _) = tab_spans(d)[3];
        assert_eq!(tab_at(d, x + 1), Some(Tab::Response));
    }
}
