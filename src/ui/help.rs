//! The help overlay, built from the key map so it always tells the truth.

use super::theme::Theme;
use crate::app::keymap;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Lines beyond the keys: a blank one, the mouse and the marks.
const EXTRA: usize = 3;

/// How many lines of the help a terminal of `height` rows hides (0 when it fits): the App
/// scrolls within them.
pub fn hidden_lines(height: u16) -> usize {
    let lines = keymap::DEFAULT.len() + EXTRA;
    lines.saturating_sub(usize::from(height.saturating_sub(2)))
}

/// Draws the overlay centred in `area`, `scroll` lines down when it does not fit.
pub fn draw(frame: &mut Frame, area: Rect, scroll: usize, theme: &Theme) {
    let mut lines: Vec<Line> = keymap::DEFAULT
        .iter()
        .map(|(keys, _, _, what)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<8}"), theme.key()),
                Span::raw(format!(" {what}")),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        " mouse: wheel scrolls, click selects",
        theme.dim(),
    )));
    lines.push(Line::from(Span::styled(
        " marks: ✓ verified  ✗ rejected  • unverified  ! refused",
        theme.dim(),
    )));
    debug_assert_eq!(lines.len(), keymap::DEFAULT.len() + EXTRA);
    let hidden = hidden_lines(area.height);
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
    let height = (lines.len() as u16 + 2).min(area.height);
    let width = 62.min(area.width);
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
