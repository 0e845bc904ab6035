//! The help overlay, built from the key map so it always tells the truth.

use super::theme::Theme;
use crate::app::keymap;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Draws the overlay centred in `area`.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme) {
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
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys · any key closes "),
        ),
        popup,
    );
}
