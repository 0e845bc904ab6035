//! The detail view of the selected delivery: Overview, Headers, Body, Response.

use super::theme::Theme;
use crate::app::{App, Entry, Tab};
use crate::delivery::Delivery;
use crate::highlight::BodyKind;
use crate::sanitize;
use crate::verify::{FailureKind, Finding, Unchecked, Verdict, human_bytes, human_duration};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

/// Draws the detail into `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    // A terminal can be resized to no rows at all; the tab titles below write straight into
    // the buffer, which has no row for them then.
    if area.is_empty() {
        return;
    }
    frame.render_widget(Block::default().borders(Borders::TOP), area);
    let buf = frame.buffer_mut();
    for (tab, title, x, end) in super::tab_spans(area) {
        let style = if tab == app.tab {
            theme.title()
        } else {
            theme.dim()
        };
        if end <= area.right() {
            buf.set_string(x, area.y, format!(" {title} "), style);
        }
    }
    let body = pane(area);
    let Some(entry) = app.selected_entry() else {
        return;
    };
    let (width, height) = (body.width as usize, body.height as usize);
    // The scroll is clamped here too: what was scrolled before the body came from the store
    // or the pane grew may be past the end now.
    let visible: Vec<Line> = if app.tab == Tab::Body {
        // The body tab slices its own lines (it can be huge).
        let scroll = app.scroll.min(body_end(app, entry, width, height));
        body_lines(app, theme, width, height, scroll)
    } else {
        let lines = tab_lines(entry, app, theme, width);
        let scroll = app.scroll.min(last_start(rows(&lines, width), height));
        lines.into_iter().skip(scroll).take(height * 4).collect()
    };
    frame.render_widget(Paragraph::new(visible).wrap(Wrap { trim: false }), body);
}

/// The lines of the Overview, Headers or Response tab, wrapped to `width`.
fn tab_lines<'a>(entry: &'a Entry, app: &'a App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    match app.tab {
        Tab::Overview => overview(entry, app, theme, width),
        Tab::Headers => match (app.full_of(entry), app.unloadable(entry)) {
            (Some(full), _) => headers(full, theme, width),
            (None, Some(why)) => vec![Line::from(Span::styled(
                format!(" headers not shown: this delivery {why}"),
                theme.warn(),
            ))],
            (None, None) => vec![Line::from(Span::styled(
                " loading from the store…",
                theme.dim(),
            ))],
        },
        // The Body tab slices its own lines (body_lines) and never comes here.
        Tab::Body | Tab::Response => response(&entry.delivery, theme, width),
    }
}

/// The furthest the Body tab can be scrolled in a pane `width` × `height`.
fn body_end(app: &App, entry: &Entry, width: usize, height: usize) -> usize {
    match app.body_view().filter(|_| !entry.body_dropped) {
        // Below the line that says what the body is shown as; each line is indented by one.
        Some(view) => last_start(
            view.lines
                .iter()
                .map(|l| row_breaks(&l.text, width, hangs(app, view)).len()),
            height.saturating_sub(head_rows(app, view, width).len()),
        ),
        None => 0,
    }
}

/// Where a tab's lines go: the detail's area below its tab titles.
fn pane(detail: Rect) -> Rect {
    Rect {
        y: detail.y + 1,
        height: detail.height.saturating_sub(1),
        ..detail
    }
}

/// The furthest the detail's lines can be scrolled (`App::scroll`): where the last line
/// reaches the pane's bottom, as in a pager. A line is counted as its width over the pane's in
/// rows, which word wrapping can only exceed: the end is always reachable.
pub fn max_scroll(app: &App) -> usize {
    let size = Rect::new(0, 0, app.size.0, app.size.1);
    let Some(body) = super::layout(size, true).detail.map(pane) else {
        return 0;
    };
    let Some(entry) = app.selected_entry() else {
        return 0;
    };
    let (width, height) = (body.width as usize, body.height as usize);
    if app.tab == Tab::Body {
        return body_end(app, entry, width, height);
    }
    let lines = tab_lines(entry, app, &Theme::new(false), width);
    last_start(rows(&lines, width), height)
}

/// The rows each of `lines` takes in `width` columns, counted as its width over the pane's,
/// which word wrapping can only exceed: the end is always reachable.
fn rows<'a>(
    lines: &'a [Line<'_>],
    width: usize,
) -> impl DoubleEndedIterator<Item = usize> + ExactSizeIterator + 'a {
    lines
        .iter()
        .map(move |l| l.width().div_ceil(width.max(1)).max(1))
}

/// The first of lines taking `rows` rows each from which the rest fill `height` rows (the last
/// line alone when it takes more).
fn last_start(
    rows: impl DoubleEndedIterator<Item = usize> + ExactSizeIterator,
    height: usize,
) -> usize {
    let n = rows.len();
    let (mut start, mut used) = (n, 0);
    for rows in rows.rev() {
        if used + rows > height {
            break;
        }
        used += rows;
        start -= 1;
    }
    start.min(n.saturating_sub(1))
}

/// `key` in a dim column, then `value`, wrapped to `width` under itself (a long path or an
/// app's error would otherwise run on from the pane's left edge).
fn kv(lines: &mut Vec<Line<'_>>, key: &str, value: String, theme: &Theme, width: usize) {
    headline(lines, format!(" {key:<10}"), theme.dim(), &value, width);
}

/// `lead` then `text` (escaped), wrapped to `width` under `lead`.
fn headline(lines: &mut Vec<Line<'_>>, lead: String, style: Style, text: &str, width: usize) {
    let indent = lead.chars().count();
    let text = sanitize::line(text);
    let mut lead = Some(Span::styled(lead, style));
    for part in super::wrap(&text, width.saturating_sub(indent)) {
        let first = lead.take().unwrap_or_else(|| Span::raw(" ".repeat(indent)));
        lines.push(Line::from(vec![first, Span::raw(part)]));
    }
}

/// An arrowed hint (escaped), wrapped to `width`.
fn hint_lines(lines: &mut Vec<Line<'_>>, hint: &str, theme: &Theme, width: usize) {
    let hint = sanitize::line(hint);
    for (i, part) in super::wrap(&hint, width.saturating_sub(5))
        .into_iter()
        .enumerate()
    {
        let lead = if i == 0 { "   → " } else { "     " };
        lines.push(Line::from(vec![
            Span::styled(lead, theme.key()),
            Span::raw(part),
        ]));
    }
}

/// For a stored delivery no secret verified: the command that tries one on it, as of when it
/// came, without firing another event.
fn try_a_secret(lines: &mut Vec<Line<'_>>, d: &Delivery, theme: &Theme, width: usize) {
    if d.stored {
        let hint = format!(
            "to try a secret on it: hookscope show {} --secret whsec_…",
            d.seq
        );
        hint_lines(lines, &hint, theme, width);
    }
}

fn overview<'a>(e: &'a Entry, app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let d = &e.delivery;
    let mut lines = Vec::new();
    match &d.verdict {
        Verdict::Verified(v) => lines.push(Line::from(vec![
            Span::styled(" ✓ verified ", theme.ok()),
            Span::raw(format!("with {} ({})", v.secret, v.scheme)),
        ])),
        Verdict::Failed(f) => {
            let code = format!(" ✗ {} ", f.kind.code());
            headline(&mut lines, code, theme.bad(), &f.kind.to_string(), width);
            for hint in &f.hints {
                hint_lines(&mut lines, hint, theme, width);
            }
            if let FailureKind::BadSignature(r) = &f.kind {
                // Only where nothing else explains the mismatch: a newline added on the way
                // or a signature in the wrong form would not be mended by another secret.
                let secret_is_likely = r.findings.iter().all(|f| {
                    matches!(
                        f,
                        Finding::DuplicateHeader { .. } | Finding::OnlyV1NoHmacSecret
                    )
                });
                if secret_is_likely {
                    try_a_secret(&mut lines, d, theme, width);
                }
                lines.push(Line::from(""));
                for (secret, sig) in &r.expected {
                    kv(
                        &mut lines,
                        "expected",
                        format!("{sig}  (with {secret})"),
                        theme,
                        width,
                    );
                }
                for sig in &r.received {
                    kv(&mut lines, "received", format!("{sig}…"), theme, width);
                }
                if let Some(full) = app.full_of(e).filter(|_| !e.body_dropped) {
                    kv(
                        &mut lines,
                        "signed",
                        signed_preview(full, width.saturating_sub(12)),
                        theme,
                        width,
                    );
                }
            }
        }
        Verdict::Unchecked(u) => {
            let mark = format!(" {}  ", e.mark.symbol());
            headline(&mut lines, mark, theme.warn(), &u.to_string(), width);
            if matches!(u, Unchecked::NoSecret | Unchecked::NoSecretForPath { .. }) {
                try_a_secret(&mut lines, d, theme, width);
            }
            if let Unchecked::Malformed { reason } = u {
                let hint = if reason.starts_with(crate::malformed::TLS) {
                    // The port is this run's; the record may be older, but a tunnel
                    // is pointed at the hookscope that is running.
                    let listen = &app.info.listen;
                    let port = listen.rsplit(':').next().unwrap_or_default();
                    format!(
                        "hookscope listens on {listen}: point the tunnel there (`ngrok http {port}`, `cloudflared tunnel --url http://localhost:{port}`); its public URL stays https"
                    )
                } else {
                    let why = if d.response.status == 400 {
                        "whatever wrote it (the sender's HTTP client, a proxy or the tunnel on the way) broke HTTP's rules"
                    } else {
                        "it went over the limit above"
                    };
                    format!(
                        "the HTTP layer answered {} and closed the connection before hookscope read the request: {why}",
                        d.response.status
                    )
                };
                hint_lines(&mut lines, &hint, theme, width);
            }
        }
    }
    lines.push(Line::from(""));
    let show = |v: &Option<String>| {
        v.as_deref()
            .map(|s| sanitize::line(s).into_owned())
            .unwrap_or_else(|| "—".into())
    };
    kv(&mut lines, "message", show(&d.msg_id), theme, width);
    // One dash where the body names neither (not JSON, or no `id` and `type`), not two.
    let event = match (&d.event_id, &d.event_type) {
        (None, None) => "—".to_string(),
        (id, ty) => format!("{}  {}", show(id), show(ty)),
    };
    kv(&mut lines, "event", event, theme, width);
    let local = d.received_at.to_offset(app.offset);
    let mut received = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        local.year(),
        local.month() as u8,
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.millisecond()
    );
    let signed = match &d.verdict {
        Verdict::Verified(v) => Some(v.timestamp),
        Verdict::Failed(f) => match &f.kind {
            FailureKind::TimestampTooOld { timestamp, .. }
            | FailureKind::TimestampTooNew { timestamp, .. } => Some(*timestamp),
            _ => None,
        },
        Verdict::Unchecked(_) => None,
    };
    if let Some(ts) = signed {
        let gap = d.received_at.unix_timestamp() - ts;
        let rel = if gap >= 0 {
            format!("{} after signing", human_duration(gap as u64))
        } else {
            format!(
                "{} before its signed time",
                human_duration(gap.unsigned_abs())
            )
        };
        received.push_str(&format!("  ·  {rel} (timestamp {ts})"));
    }
    if e.earlier {
        received.push_str("  ·  from an earlier session");
    }
    kv(&mut lines, "received", received, theme, width);
    kv(&mut lines, "request", d.request_line(), theme, width);
    let ctype = app
        .full_of(e)
        .and_then(|full| full.header("content-type"))
        .map(|v| sanitize::bytes_line(v).into_owned())
        .unwrap_or_else(|| "no content-type".into());
    let announced = app
        .full_of(e)
        .and_then(|full| full.header("content-length"))
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok());
    kv(
        &mut lines,
        "body",
        format!("{}  {ctype}", body_size_said(d, announced)),
        theme,
        width,
    );
    let answered = match d.response.status {
        0 => format!("none: {}", crate::sanitize::line(d.response.unanswered())),
        status => format!("{status} {}", answer_text(d)),
    };
    kv(&mut lines, "answered", answered, theme, width);
    if let Some(f) = &d.forward {
        let app_said = match (&f.status, &f.error) {
            (Some(s), _) => format!("{s} in {}{}", f.took(), f.cut_said()),
            (None, Some(e)) => format!("no answer: {e}"),
            (None, None) => "no answer".into(),
        };
        kv(
            &mut lines,
            "app",
            format!("{app_said}  ({})", sanitize::line(&f.url)),
            theme,
            width,
        );
        // What to do about it, once the app is fixed: the keys are not otherwise in sight.
        if f.status.is_none_or(|s| s >= 400) && crate::replay::unrepeatable(d).is_none() {
            hint_lines(
                &mut lines,
                "once the app is fixed: r re-sends this one, F every message still failing",
                theme,
                width,
            );
        }
    }
    if let Some(of) = d.replay_of {
        let key = if d.edited { "edit of" } else { "replay of" };
        kv(&mut lines, key, format!("#{of}"), theme, width);
    }
    let attempts = app.attempts_of(e);
    if attempts.len() > 1 {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            format!(" {} attempts of this message", attempts.len()),
            theme.strong(),
        )));
        let mut previous: Option<time::OffsetDateTime> = None;
        for (i, a) in attempts.iter().enumerate() {
            let t = a.delivery.received_at;
            let gap = previous.map_or_else(String::new, |p| {
                format!("+{}", human_duration((t - p).whole_seconds().max(0) as u64))
            });
            previous = Some(t);
            let here = if a.key == e.key { " ◀" } else { "" };
            let replay = if a.delivery.replay_of.is_some() {
                " (replay)"
            } else {
                ""
            };
            let answered = match a.delivery.response.status {
                0 => "no answer".to_string(),
                status => format!("answered {status}"),
            };
            lines.push(Line::from(format!(
                "   {:>2}. {}  {:>8}  {answered}{replay}{here}",
                i + 1,
                a.time(app.offset, app.today()),
                gap,
            )));
        }
    }
    lines
}

/// The first line of what hookscope answered (escaped), or the status's reason for no body.
fn answer_text(d: &Delivery) -> String {
    sanitize::line(&first_line(d.response.said())).into_owned()
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(119).collect::<String>())
    } else {
        line.to_string()
    }
}

/// `{id}.{timestamp}.{body…}` as the verifier signed it, cut to `width` characters.
fn signed_preview(d: &Delivery, width: usize) -> String {
    let id = d.msg_id.as_deref().unwrap_or("");
    let ts = ["svix-timestamp", "webhook-timestamp"]
        .iter()
        .find_map(|h| d.header(h))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    let body = &d.body[..d.body.len().min(width * 4)];
    let full = format!(
        "{}.{}.{}",
        sanitize::line(id),
        sanitize::line(&ts),
        sanitize::bytes_line(body)
    );
    if full.chars().count() > width.max(8) {
        let cut: String = full.chars().take(width.max(8) - 1).collect();
        format!("{cut}…")
    } else {
        full
    }
}

fn headers<'a>(d: &'a Delivery, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled(
        format!(" {} headers, in the order received", d.headers.len()),
        theme.dim(),
    ))];
    for (name, value) in &d.headers {
        let lead = format!(" {}: ", sanitize::line(name));
        let value = sanitize::bytes_line(value);
        if lead.chars().count() <= width / 2 {
            // A long value (a signature list, a cookie) goes on under itself.
            headline(&mut lines, lead, theme.key(), &value, width);
        } else {
            // A name too long to hang its value beside: the name on rows of its own, the
            // value under it, both wrapped here (the scroll limit counts the rows drawn).
            for part in super::wrap(lead.trim(), width.saturating_sub(1)) {
                lines.push(Line::from(Span::styled(format!(" {part}"), theme.key())));
            }
            headline(&mut lines, "   ".into(), theme.key(), &value, width);
        }
    }
    lines
}

/// The body's size, and whether it is all there (of `announced`, the request's content-length,
/// when it had one): a size alone would pass an announced size for bytes held, or a part for
/// the whole.
fn body_size_said(d: &Delivery, announced: Option<u64>) -> String {
    match &d.verdict {
        Verdict::Unchecked(
            Unchecked::BodyTooLarge {
                size,
                declared: true,
                ..
            }
            | Unchecked::NoRoom {
                size,
                declared: true,
                ..
            },
        ) => format!("{} announced, none read", human_bytes(*size)),
        Verdict::Unchecked(Unchecked::BodyTooLarge { limit, .. }) => {
            format!("over {}, none kept", human_bytes(*limit))
        }
        Verdict::Unchecked(Unchecked::NoRoom { size, .. }) => {
            format!("{} read, none kept", human_bytes(*size))
        }
        Verdict::Unchecked(Unchecked::BodyIncomplete { received, .. }) => match announced {
            Some(n) => format!(
                "{} of {} announced, incomplete",
                human_bytes(*received),
                human_bytes(n)
            ),
            None => format!("{}, incomplete", human_bytes(*received)),
        },
        _ => human_bytes(d.body_size),
    }
}

fn body_lines<'a>(
    app: &'a App,
    theme: &Theme,
    width: usize,
    height: usize,
    scroll: usize,
) -> Vec<Line<'a>> {
    if let Some(e) = app.selected_entry().filter(|e| e.body_dropped) {
        return vec![Line::from(Span::styled(
            format!(
                " body ({}) no longer held: {}",
                human_bytes(e.delivery.body_size),
                app.budget_hint()
            ),
            theme.warn(),
        ))];
    }
    let Some(view) = app.body_view() else {
        if let Some(why) = app.selected_entry().and_then(|e| app.unloadable(e)) {
            return vec![Line::from(Span::styled(
                format!(" body not shown: this delivery {why}"),
                theme.warn(),
            ))];
        }
        return vec![Line::from(Span::styled(" preparing…", theme.dim()))];
    };
    let mut lines = Vec::with_capacity(height + 1);
    for part in head_rows(app, view, width) {
        lines.push(Line::from(Span::styled(format!(" {part}"), theme.dim())));
    }
    let start = scroll.min(view.lines.len().saturating_sub(1));
    let query = app.filter.to_lowercase();
    for l in view.lines.iter().skip(start) {
        if lines.len() > height {
            break;
        }
        let found = crate::app::found_in(&l.text, &query);
        wrap_body_line(l, width, hangs(app, view), &found, theme, &mut lines);
    }
    lines
}

/// The Body tab's first line, what the view made of the body, wrapped to `width` after the
/// margin: a row count the scroll limit shares (a long note takes more than one).
fn head_rows(app: &App, view: &crate::highlight::BodyView, width: usize) -> Vec<String> {
    // Say what the default view made of the body: a text or binary body is shown as it came,
    // and "pretty" over it would suggest it is JSON.
    let mode = match (app.raw, view.kind) {
        (true, _) => "raw bytes (v: pretty)",
        (false, BodyKind::Json) => "pretty JSON (v: raw bytes)",
        (false, BodyKind::Text) => "text, not pretty-printed (v: raw bytes)",
        (false, BodyKind::Binary) => "binary (v: raw bytes)",
        (false, BodyKind::Empty) => "",
    };
    let note = view
        .note
        .as_deref()
        .map(|n| format!(" · {n}"))
        .unwrap_or_default();
    let count = match view.lines.len() {
        1 => "1 line".to_owned(),
        n => format!("{n} lines"),
    };
    // A body not kept whole says so first: a part would otherwise pass for the whole.
    let verdict = app.selected_entry().map(|e| &e.delivery.verdict);
    let head = if let Some(refused) = verdict.and_then(crate::delivery::body_refused) {
        refused.to_owned()
    } else {
        match (view.kind, verdict) {
            (BodyKind::Empty, Some(Verdict::Unchecked(Unchecked::BodyIncomplete { .. }))) => {
                "no body: none of it came".to_owned()
            }
            (_, Some(Verdict::Unchecked(Unchecked::BodyIncomplete { .. }))) => {
                format!("{} · {mode} · {count}{note}", crate::delivery::BODY_PARTIAL)
            }
            (BodyKind::Empty, _) => "no body".to_owned(),
            _ => format!("{mode} · {count}{note}"),
        }
    };
    super::wrap(&head, width.saturating_sub(1))
}

/// Whether the body's long lines go on under their indentation: in pretty JSON, whose shape
/// that keeps. Raw bytes and text go on at the margin: spaces that are not there would be
/// read (and copied from the screen) as part of them.
fn hangs(app: &App, view: &crate::highlight::BodyView) -> bool {
    !app.raw && view.kind == BodyKind::Json
}

/// Adds `line` as rows of at most `width` columns, each led by the pane's one-column margin:
/// with `hang`, a line longer than the pane goes on under its own indentation plus two, so a
/// long string in a pretty-printed payload does not run back to the edge and break its shape.
fn wrap_body_line<'a>(
    line: &'a crate::highlight::StyledLine,
    width: usize,
    hang: bool,
    found: &[(usize, usize)],
    theme: &Theme,
    out: &mut Vec<Line<'a>>,
) {
    let breaks = row_breaks(&line.text, width, hang);
    let indent = continuation_indent(&line.text, width, hang);
    for (i, &(from, to)) in breaks.iter().enumerate() {
        let lead = if i == 0 {
            Span::raw(" ")
        } else {
            Span::raw(" ".repeat(1 + indent))
        };
        let mut spans = vec![lead];
        let mut at = 0;
        for (text, tok) in line.spans() {
            let (start, end) = (at, at + text.len());
            at = end;
            let (a, b) = (start.max(from), end.min(to));
            if a >= b {
                continue;
            }
            // Split where the filter's text begins or ends inside this token.
            let mut cuts = vec![a, b];
            for &(s, e) in found {
                cuts.extend([s, e].into_iter().filter(|c| a < *c && *c < b));
            }
            cuts.sort_unstable();
            for w in cuts.windows(2) {
                let (x, y) = (w[0], w[1]);
                let style = if found.iter().any(|&(s, e)| s <= x && y <= e) {
                    theme.token(tok).patch(theme.found())
                } else {
                    theme.token(tok)
                };
                spans.push(Span::styled(&line.text[x..y], style));
            }
        }
        out.push(Line::from(spans));
    }
}

/// Columns a body line's continuation rows are indented by (after the margin): with `hang`,
/// its own indentation plus two, but never more than half the pane, so every row still holds
/// text.
fn continuation_indent(text: &str, width: usize, hang: bool) -> usize {
    if !hang {
        return 0;
    }
    let own = text.len() - text.trim_start_matches(' ').len();
    (own + 2).min(width.saturating_sub(1) / 2)
}

/// Where a body line's rows begin and end (byte ranges of `text`) in a pane `width` columns
/// wide, as [`wrap_body_line`] lays them out: a row ends after its last space when that space
/// is in the row's second half, else where the next character would not fit. Zero-width
/// characters (combining marks) never start a row, so they stay with what they mark.
fn row_breaks(text: &str, width: usize, hang: bool) -> Vec<(usize, usize)> {
    use unicode_width::UnicodeWidthChar as _;
    let indent = continuation_indent(text, width, hang);
    let mut rows = Vec::new();
    let (mut from, mut used) = (0, 0);
    // The byte just past the row's last space, and the columns up to it.
    let mut space: Option<(usize, usize)> = None;
    let room = |rows: &Vec<(usize, usize)>| {
        let lead = if rows.is_empty() { 1 } else { 1 + indent };
        width.saturating_sub(lead).max(1)
    };
    for (i, c) in text.char_indices() {
        let w = c.width().unwrap_or(0);
        let avail = room(&rows);
        if used + w > avail && used > 0 {
            // What followed the space moves down with the rest of the word, when it fits there.
            let next = width.saturating_sub(1 + indent).max(1);
            let (end, carried) = match space {
                Some((after, cols)) if cols * 2 >= avail && used - cols + w <= next => {
                    (after, used - cols)
                }
                _ => (i, 0),
            };
            rows.push((from, end));
            (from, used, space) = (end, carried, None);
        }
        used += w;
        if c == ' ' {
            space = Some((i + 1, used));
        }
    }
    rows.push((from, text.len()));
    rows
}

fn response<'a>(d: &'a Delivery, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let status_style = |s: u16| if s >= 400 { theme.bad() } else { theme.ok() };
    if d.response.status == 0 {
        return vec![Line::from(Span::styled(
            format!(
                " no answer: {}",
                crate::sanitize::line(d.response.unanswered())
            ),
            theme.dim(),
        ))];
    }
    let mut lines = vec![Line::from(Span::styled(
        " hookscope answered the sender",
        theme.dim(),
    ))];
    headline(
        &mut lines,
        format!(" {} ", d.response.status),
        status_style(d.response.status),
        &answer_text(d),
        width,
    );
    let Some(f) = &d.forward else {
        return lines;
    };
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!(" forwarded to {}", sanitize::line(&f.url)),
        theme.dim(),
    )));
    match (&f.status, &f.error) {
        (Some(s), _) => {
            lines.push(Line::from(vec![
                Span::styled(format!(" {s} "), status_style(*s)),
                Span::raw(format!("from the app in {}", f.took())),
            ]));
            for (n, v) in &f.headers {
                lines.push(Line::from(vec![
                    Span::styled(format!(" {}", sanitize::line(n)), theme.key()),
                    Span::styled(": ", theme.dim()),
                    Span::raw(sanitize::line(v).into_owned()),
                ]));
            }
            lines.push(Line::from(""));
            if f.body_cut {
                let note = format!(
                    "the body's first {}: the app sent more, and the sender got the status with \
                     hookscope's note instead of a body cut short",
                    crate::verify::human_bytes(crate::forward::MAX_ANSWER as u64)
                );
                for part in super::wrap(&note, width.saturating_sub(1)) {
                    lines.push(Line::from(Span::styled(format!(" {part}"), theme.dim())));
                }
            }
            let shown = shown_answer(&f.body);
            for l in sanitize::bytes_multiline(shown).lines() {
                lines.push(Line::from(format!(" {l}")));
            }
            let rest = f.body.len() - shown.len();
            if rest > 0 {
                lines.push(Line::from(Span::styled(
                    format!(" … {} more of it not shown here", human_bytes(rest as u64)),
                    theme.dim(),
                )));
            }
        }
        (None, Some(e)) => headline(
            &mut lines,
            " ✗ ".into(),
            theme.bad(),
            &format!("the app did not answer after {}: {e}", f.took()),
            width,
        ),
        (None, None) => {}
    }
    lines
}

/// Of the app's body, what the Response tab shows: up to 200 lines and 64 KiB, ending on a
/// whole character. Nobody reads more in a pane, and a megabyte wrapped on every frame
/// slows each key press.
fn shown_answer(body: &[u8]) -> &[u8] {
    const LINES: usize = 200;
    const BYTES: usize = 64 << 10;
    let mut end = body.len().min(BYTES);
    if let Some(newline) = memchr::memchr_iter(b'\n', &body[..end]).nth(LINES - 1) {
        end = newline;
    }
    // A continuation byte there means a character began before it (at most three bytes
    // before): end before that one.
    for _ in 0..3 {
        if end == 0 || end == body.len() || body[end] & 0xC0 != 0x80 {
            break;
        }
        end -= 1;
    }
    &body[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_width::UnicodeWidthStr as _;

    /// The rows' texts, as laid out.
    fn laid_out(text: &str, width: usize) -> Vec<&str> {
        row_breaks(text, width, true)
            .into_iter()
            .map(|(a, b)| &text[a..b])
            .collect()
    }

    #[test]
    fn the_apps_answer_is_shown_up_to_200_lines_or_64_kib_ending_on_a_whole_character() {
        assert_eq!(shown_answer(b"short\nanswer"), b"short\nanswer");
        let many = "line\n".repeat(300);
        let shown = shown_answer(many.as_bytes());
        assert_eq!(
            shown.len(),
            200 * 5 - 1,
            "200 lines, the last without its newline"
        );
        // 'é' is two bytes: 64 KiB of them ends between a character's bytes only if cut there.
        let wide = "é".repeat(40_000);
        let shown = shown_answer(wide.as_bytes());
        assert_eq!(shown.len(), 64 << 10);
        let odd = format!("x{wide}");
        let shown = shown_answer(odd.as_bytes());
        assert_eq!(shown.len(), (64 << 10) - 1, "not half of an é");
        assert!(std::str::from_utf8(shown).is_ok());
        let emoji = "😀".repeat(20_000);
        for lead in ["", "a", "ab", "abc"] {
            let text = format!("{lead}{emoji}");
            assert!(
                std::str::from_utf8(shown_answer(text.as_bytes())).is_ok(),
                "{lead:?}"
            );
        }
    }

    #[test]
    fn a_line_that_fits_is_one_row() {
        assert_eq!(laid_out("  \"id\": 1", 20), ["  \"id\": 1"]);
        assert_eq!(laid_out("", 20), [""]);
    }

    #[test]
    fn a_long_line_breaks_after_a_space_in_the_rows_second_half_else_where_it_must() {
        // 20 columns: 19 after the margin on the first row; continuation rows are indented
        // by the line's own two spaces plus two, leaving 15.
        let text = "  \"note\": \"aaaa bbbbbbbbbb cccccccccc\"";
        assert_eq!(
            laid_out(text, 20),
            ["  \"note\": \"aaaa ", "bbbbbbbbbb ", "cccccccccc\""]
        );
        // No space at all: cut where the next character would not fit.
        let text = "  \"k\": \"ABCDEFGHIJKLMNOPQRSTUVWXYZ\"";
        assert_eq!(
            laid_out(text, 20),
            ["  \"k\": \"ABCDEFGHIJK", "LMNOPQRSTUVWXYZ", "\""]
        );
    }

    #[test]
    fn wide_characters_never_overflow_and_combining_marks_stay_with_their_letter() {
        // Each 漢 takes two columns: nine fit in the first row's 19.
        let rows = laid_out("漢漢漢漢漢漢漢漢漢漢漢漢", 20);
        assert_eq!(rows[0].width(), 18);
        // e + U+0301 at the cut: the mark is zero-width and goes with its e.
        let text = format!("{}e\u{301}xyz", "a".repeat(18));
        let rows = laid_out(&text, 20);
        assert_eq!(rows[0], format!("{}e\u{301}", "a".repeat(18)));
    }

    #[test]
    fn continuation_rows_start_under_the_lines_indentation() {
        let view = crate::highlight::pretty(
            format!(r#"{{"a":{{"note":"{}"}}}}"#, "word ".repeat(30)).as_bytes(),
            crate::highlight::Limits::default(),
        );
        let long = view.lines.iter().find(|l| l.text.contains("note")).unwrap();
        let mut out = Vec::new();
        wrap_body_line(long, 40, true, &[], &Theme::new(false), &mut out);
        assert!(out.len() > 3, "{out:?}");
        let text = |l: &Line| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        };
        // The line is indented by four ("note" is two levels in): its rows go on at six, after
        // the margin.
        assert!(
            text(&out[0]).starts_with("     \"note\""),
            "{:?}",
            text(&out[0])
        );
        for row in &out[1..] {
            assert!(text(row).starts_with("       word"), "{:?}", text(row));
            assert!(row.width() <= 40, "{:?}", text(row));
        }
        // The rows counted for scrolling are the rows drawn.
        assert_eq!(row_breaks(&long.text, 40, true).len(), out.len());
        // Without the hang (raw bytes, text) rows go on at the margin.
        let mut flat = Vec::new();
        wrap_body_line(long, 40, false, &[], &Theme::new(false), &mut flat);
        assert!(text(&flat[1]).starts_with(" word"), "{:?}", text(&flat[1]));
        assert_eq!(row_breaks(&long.text, 40, false).len(), flat.len());
    }

    proptest! {
        #[test]
        fn rows_hold_the_whole_line_in_order_and_fit_the_pane(
            text in "[ a-z漢\u{301}]{0,200}",
            width in 1usize..60,
            hang: bool,
        ) {
            let breaks = row_breaks(&text, width, hang);
            prop_assert!(!breaks.is_empty());
            prop_assert_eq!(breaks[0].0, 0);
            prop_assert_eq!(breaks[breaks.len() - 1].1, text.len());
            let indent = continuation_indent(&text, width, hang);
            for (i, pair) in breaks.iter().enumerate() {
                if let Some(next) = breaks.get(i + 1) {
                    prop_assert_eq!(pair.1, next.0);
                    // Every row but the last holds something: no endless empty rows.
                    prop_assert!(pair.1 > pair.0);
                }
                let lead = if i == 0 { 1 } else { 1 + indent };
                let row = &text[pair.0..pair.1];
                // A row fits, unless one character alone is wider than the room left.
                prop_assert!(
                    lead + row.width() <= width.max(lead + 2) || row.chars().count() == 1,
                    "{:?} at {} in {}", row, lead, width
                );
            }
        }
    }
}
