//! The delivery list: newest first, only the visible rows are built.

use super::theme::Theme;
use super::{clip, wrap};
use crate::app::{App, Mark};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

/// Draws the list into `area`.
pub fn draw(frame: &mut Frame, app: &App, area: Rect, theme: &Theme) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(title(app, theme));
    if app.view.is_empty() {
        let lines = empty_text(app, theme, usize::from(area.width));
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    let rows_fit = area.height.saturating_sub(2) as usize;
    let selected_row = app.selected_row();
    // Keep the selection visible even if the stored offset is stale for this size.
    let mut offset = app.list_offset.min(app.view.len().saturating_sub(1));
    if let Some(sel) = selected_row {
        if sel < offset {
            offset = sel;
        } else if rows_fit > 0 && sel >= offset + rows_fit {
            offset = sel + 1 - rows_fit;
        }
    }
    let columns = columns(area.width);
    // The widths the table will give its columns (its own layout: from the left, one apart),
    // so a type or an id too long for its column ends in `…` rather than at the edge.
    let widths: Vec<usize> = Layout::horizontal(columns.iter().map(|(_, w)| *w))
        .flex(Flex::Start)
        .spacing(COLUMN_GAP)
        .split(Rect::new(0, 0, area.width, 1))
        .iter()
        .map(|r| usize::from(r.width))
        .collect();
    let width_of = |col: Col| {
        columns
            .iter()
            .position(|(c, _)| *c == col)
            .and_then(|i| widths.get(i).copied())
            .unwrap_or(0)
    };
    let today = app.today();
    let rows: Vec<Row> = (offset..(offset + rows_fit).min(app.view.len()))
        .filter_map(|r| app.entry_at_row(r).map(|(_, e)| (r, e)))
        .map(|(r, e)| {
            let mark_style = match e.mark {
                Mark::Verified => theme.ok(),
                Mark::Rejected | Mark::Refused => theme.bad(),
                Mark::Unverified => theme.dim(),
            };
            let status = e.delivery.response.status;
            let cells = columns.iter().map(|(col, _)| match col {
                Col::Time => Cell::from(Span::styled(
                    e.time(app.offset, today),
                    if e.earlier { theme.dim() } else { Style::new() },
                )),
                Col::Mark => Cell::from(Span::styled(e.mark.symbol(), mark_style)),
                Col::What => Cell::from(match app.attempt_badge(e) {
                    Some(n) => {
                        let badge = format!(" ×{n}");
                        let room = width_of(Col::What).saturating_sub(badge.chars().count());
                        Line::from(vec![
                            Span::raw(clip(&e.what(), room).into_owned()),
                            Span::styled(badge, theme.warn()),
                        ])
                    }
                    None => Line::from(clip(&e.what(), width_of(Col::What)).into_owned()),
                }),
                Col::Id => Cell::from(clip(&e.id(), width_of(Col::Id)).into_owned()),
                Col::Size => Cell::from(
                    Line::from(crate::verify::human_bytes(e.delivery.body_size)).right_aligned(),
                ),
                // 0: nothing was answered (a head that never ended, an imported request
                // without a response).
                Col::Answer => Cell::from(Span::styled(
                    if status == 0 {
                        " —".to_string()
                    } else {
                        status.to_string()
                    },
                    if status >= 400 || status == 0 {
                        theme.bad()
                    } else {
                        Style::new()
                    },
                )),
            });
            let mut row = Row::new(cells);
            if matches!(e.mark, Mark::Rejected | Mark::Refused) {
                row = row.style(theme.bad());
            }
            if Some(r) == selected_row {
                row = row.style(theme.selected());
            }
            row
        })
        .collect();
    let header = Row::new(columns.iter().map(|(col, _)| col.title())).style(theme.dim());
    let table = Table::new(rows, columns.iter().map(|(_, width)| *width))
        .flex(Flex::Start)
        .column_spacing(COLUMN_GAP)
        .header(header)
        .block(block);
    frame.render_widget(table, area);
}

/// Columns between columns.
const COLUMN_GAP: u16 = 1;

/// A column of the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Time,
    Mark,
    What,
    Id,
    Size,
    Answer,
}

impl Col {
    /// The column's heading, aligned as its values are.
    fn title(self) -> Line<'static> {
        match self {
            Col::Time => Line::from("time"),
            Col::Mark => Line::from(""),
            Col::What => Line::from("type"),
            Col::Id => Line::from("id"),
            // Sizes are right-aligned so their units line up.
            Col::Size => Line::from("size").right_aligned(),
            Col::Answer => Line::from("ans"),
        }
    }
}

/// The columns that fit `width`, with their widths. What does not fit is left out whole, the
/// id first, then the size, then the time, rather than squeezed: a size or a status cut to its
/// last digits would be a wrong number. The type column shrinks last.
fn columns(width: u16) -> Vec<(Col, Constraint)> {
    use Col::*;
    use Constraint::{Fill, Length};
    // Columns are one apart; `used` is what the fixed ones take with their gaps. A size is at
    // most 8 wide (`1023 KiB`, `99.9 MiB`).
    let used = |fixed: &[u16]| fixed.iter().map(|w| w + 1).sum::<u16>();
    let all = used(&[8, 1, 8, 3]);
    let room = width.saturating_sub(all);
    if room >= 16 + 1 + 12 {
        // The type gets two fifths, but at least enough for a usual one (customer.created).
        let what = (room * 2 / 5).max((room - 1 - 12).min(24));
        return vec![
            (Time, Length(8)),
            (Mark, Length(1)),
            (What, Length(what)),
            (Id, Fill(1)),
            (Size, Length(8)),
            (Answer, Length(3)),
        ];
    }
    if room >= 8 {
        return vec![
            (Time, Length(8)),
            (Mark, Length(1)),
            (What, Fill(1)),
            (Size, Length(8)),
            (Answer, Length(3)),
        ];
    }
    if width >= used(&[8, 1, 3]) + 6 {
        return vec![
            (Time, Length(8)),
            (Mark, Length(1)),
            (What, Fill(1)),
            (Answer, Length(3)),
        ];
    }
    if width >= used(&[1, 3]) {
        return vec![(Mark, Length(1)), (What, Fill(1)), (Answer, Length(3))];
    }
    vec![(Mark, Length(1)), (What, Fill(1))]
}

fn title<'a>(app: &App, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(
        format!(" Deliveries {} ", app.entries.len()),
        theme.strong(),
    )];
    if !app.filter.is_empty() {
        let n = app.view.len();
        spans.push(Span::raw(format!(
            "· filter “{}”: {n} match{} ",
            crate::sanitize::line(&app.filter),
            if n == 1 { "" } else { "es" }
        )));
    }
    if app.earlier > 0 {
        spans.push(Span::styled(
            format!("· {} from earlier sessions ", app.earlier),
            theme.dim(),
        ));
    }
    if app.failures_only {
        spans.push(Span::styled("· failures only ", theme.warn()));
    }
    // A forwarded or delayed delivery is listed once answered: until then, say it is coming,
    // and what holds it (the app, or the delay the answer mode adds after the app answered).
    let held = [
        (app.unanswered.app, "waiting for the app"),
        (app.unanswered.delay, "held by the answer mode's delay"),
    ];
    for (n, secs, what) in held
        .into_iter()
        .filter_map(|(held, what)| held.map(|(n, secs)| (n, secs, what)))
    {
        spans.push(Span::styled(
            format!(
                "· ⧗ {n} {what}{} ",
                if secs > 0 {
                    format!(" ({})", crate::verify::human_duration(secs))
                } else {
                    String::new()
                }
            ),
            theme.warn(),
        ));
    }
    if app.unseen > 0 {
        spans.push(Span::styled(
            format!(" ▲ {} new (g) ", app.unseen),
            theme.warn(),
        ));
    } else if !app.follow && !app.view.is_empty() {
        spans.push(Span::styled("· paused (g follows) ", theme.dim()));
    }
    Line::from(spans)
}

fn empty_text<'a>(app: &App, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    // Prose wraps to the pane under a two-column margin; a command is never broken across
    // rows (what is copied from the screen must run), so it takes a row of its own.
    let room = width.saturating_sub(2);
    let prose = |text: &str, style: Style| -> Vec<Line<'a>> {
        wrap(text, room)
            .into_iter()
            .map(|l| Line::from(Span::styled(format!("  {l}"), style)))
            .collect()
    };
    let command = |text: String| {
        let row = format!("      {text}");
        Line::from(Span::styled(clip(&row, width).into_owned(), theme.strong()))
    };
    if !app.entries.is_empty() {
        let mut lines = vec![Line::from("")];
        lines.extend(prose(
            "Nothing matches the filter. Esc clears it; f toggles failures only.",
            Style::new(),
        ));
        return lines;
    }
    let listen = app.info.listen.clone();
    let mut lines = vec![Line::from("")];
    if format!("Waiting for deliveries on {listen} …")
        .chars()
        .count()
        <= room
    {
        lines.push(Line::from(vec![
            Span::raw("  Waiting for deliveries on "),
            Span::styled(listen.clone(), theme.strong()),
            Span::raw(" …"),
        ]));
    } else {
        lines.extend(prose("Waiting for deliveries on", Style::new()));
        lines.push(Line::from(Span::styled(
            format!("  {listen}"),
            theme.strong(),
        )));
    }
    lines.push(Line::from(""));
    lines.extend(prose(
        "Point your tunnel here and register its URL with the provider:",
        theme.dim(),
    ));
    lines.push(command(format!("ngrok http {}", port_of(&listen))));
    lines.extend(prose(
        "or fire a signed test event from another terminal:",
        theme.dim(),
    ));
    lines.push(command(send_command(&listen)));
    lines
}

/// The port of a listen URL (`http://127.0.0.1:8787`, `http://[::1]:9000`).
fn port_of(listen: &str) -> &str {
    listen.rsplit(':').next().unwrap_or(listen)
}

/// `hookscope send`, with `--to` when it would not reach us by default.
fn send_command(listen: &str) -> String {
    if format!("{listen}/") == crate::cli::SEND_TO {
        "hookscope send".into()
    } else {
        format!("hookscope send --to {listen}/")
    }
}
