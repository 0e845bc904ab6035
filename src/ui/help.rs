//! The help overlay, built from the key map so it always tells the truth.

use super::theme::Theme;
use crate::app::keymap::{self, Command};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// The overlay's width where the terminal allows: every description on one row.
const WIDTH: u16 = 63;

/// Columns a key takes, before its description.
const KEY_COLUMNS: usize = 11;

/// Opposite bindings the help shows on one row, so it fits 30 rows: the two commands (as
/// the key map lists them), their keys, and what the row says (every word of both).
const PAIRED: &[(Command, Command, &str, &str)] = &[
    (
        Command::DetailTop,
        Command::DetailEnd,
        "< >",
        "top / end of the detail (C-Home / C-End too)",
    ),
    (
        Command::NextMatch,
        Command::PrevMatch,
        "n N",
        "next / previous body line with the filter's text",
    ),
    (
        Command::Down,
        Command::Up,
        "j k ↓ ↑",
        "older / newer delivery",
    ),
    (
        Command::PageUp,
        Command::PageDown,
        "PgUp PgDn",
        "scroll the detail up / down",
    ),
    (
        Command::Replay,
        Command::ReplayResigned,
        "r R",
        "replay as received / re-signed (fresh timestamp)",
    ),
    (
        Command::CopyId,
        Command::CopyMessageId,
        "y i",
        "copy the event id / the message id",
    ),
];

/// How many lines of the help a terminal of `size` (columns, rows) hides (0 when it fits):
/// the App scrolls within them.
pub fn hidden_lines(size: (u16, u16)) -> usize {
    let inner = usize::from(WIDTH.min(size.0).saturating_sub(2));
    let lines = lines(inner, &Theme::new(false)).len();
    lines.saturating_sub(usize::from(size.1.saturating_sub(2)))
}

/// The help's lines inside a box `inner` columns wide: a description too long for its row
/// goes on under itself, past the keys' column, and so does the legend.
fn lines(inner: usize, theme: &Theme) -> Vec<Line<'static>> {
    let room = inner.saturating_sub(KEY_COLUMNS + 1);
    let mut lines = Vec::with_capacity(keymap::DEFAULT.len() + 4);
    for &(keys, _, command, what) in keymap::DEFAULT {
        let (keys, what) = match PAIRED.iter().find(|p| p.0 == command || p.1 == command) {
            Some(&(first, _, keys, what)) if first == command => (keys, what),
            Some(_) => continue,
            None => (keys, what),
        };
        for (i, part) in super::wrap(what, room).into_iter().enumerate() {
            let keys = if i == 0 { keys } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!(" {keys:<9}"), theme.key()),
                Span::raw(format!(" {part}")),
            ]));
        }
    }
    lines.push(Line::from(""));
    for legend in [
        "mouse: wheel scrolls, click picks, Shift-drag selects text",
        "marks: ✓ verified  ✗ rejected  • unverified  ! refused",
    ] {
        for part in super::wrap(legend, inner.saturating_sub(1)) {
            lines.push(Line::from(Span::styled(format!(" {part}"), theme.dim())));
        }
    }
    lines
}

/// Draws the overlay centred in `area`, `scroll` lines down when it does not fit.
pub fn draw(frame: &mut Frame, area: Rect, scroll: usize, theme: &Theme) {
    let width = WIDTH.min(area.width);
    let lines = lines(usize::from(width.saturating_sub(2)), theme);
    let height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let hidden = lines
        .len()
        .saturating_sub(usize::from(area.height.saturating_sub(2)));
    let scroll = scroll.min(hidden);
    // A 24-row terminal hides the last keys and the legend: say how to reach them.
    let title = if hidden == 0 {
        " keys · any key closes ".to_string()
    } else {
        format!(
            " keys · {}–{} of {} · j/k scroll · any other key closes ",
            scroll + 1,
            scroll + lines.len() - hidden,
            lines.len()
        )
    };
    // A title wider than the box ends in `…` rather than at the border.
    let title = super::clip(&title, usize::from(width.saturating_sub(2))).into_owned();
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(row);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
            .block(Block::default().borders(Borders::ALL).title(title)),
        popup,
    );
}
