//! Keeps the terminal's cells in step with ratatui's where one character on screen is made of
//! several code points that each take a cell: a flag (`🇯🇵`, two regional indicators), a
//! Devanagari conjunct (`स्ते`), halfwidth kana with its sound mark (`ﾀﾞ`), Thai `ำ`.
//!
//! ratatui keeps such a cluster in its first cell and counts the cells after it as hidden; when
//! a later frame puts a narrower character there, it redraws the first cell only, since the
//! hidden ones were blank and stay blank (ratatui-core 0.1 dropped the older "invalidated"
//! redraw). Terminals that count code points (tmux, xterm, VTE) stored the cluster's second part
//! in the next cell, which then stayed on screen: `ते` or `🇵` left over from the body view in
//! an empty part of the overview. So the cells a cluster covered are redrawn on the next frame.

use ratatui::buffer::{Buffer, CellDiffOption, CellWidth as _};
use ratatui::layout::Position;

/// The cells the last frame's multi-code-point clusters covered beyond their first.
#[derive(Debug, Default)]
pub struct Clusters {
    covered: Vec<Position>,
}

impl Clusters {
    /// Marks for redrawing, in the frame about to be drawn, the cells the last frame's clusters
    /// covered, and notes the ones this frame's cover. Call it on each frame's buffer once
    /// everything is rendered into it.
    pub fn settle(&mut self, buf: &mut Buffer) {
        for &at in &self.covered {
            if buf.area.contains(at) {
                buf[at].set_diff_option(CellDiffOption::AlwaysUpdate);
            }
        }
        self.covered.clear();
        let area = buf.area;
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                let cell = &buf[(x, y)];
                // One code point (nearly every cell, CJK included) covers its cells whole.
                if cell.symbol().len() <= 1 || cell.symbol().chars().nth(1).is_none() {
                    continue;
                }
                let width = cell.cell_width();
                for beyond in 1..width {
                    if x + beyond < area.right() {
                        self.covered.push(Position::new(x + beyond, y));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    /// What a frame of `text` after `before` sends, as (x, symbol).
    fn sent(before: &str, text: &str, settled: bool) -> Vec<(u16, String)> {
        let area = Rect::new(0, 0, 8, 1);
        let mut clusters = Clusters::default();
        let mut previous = Buffer::empty(area);
        previous.set_string(0, 0, before, ratatui::style::Style::default());
        let mut next = Buffer::empty(area);
        next.set_string(0, 0, text, ratatui::style::Style::default());
        if settled {
            clusters.settle(&mut previous);
            clusters.settle(&mut next);
        }
        previous
            .diff(&next)
            .into_iter()
            .map(|(x, _, cell)| (x, cell.symbol().to_string()))
            .collect()
    }

    #[test]
    fn the_cells_a_cluster_covered_are_redrawn_when_it_goes() {
        for cluster in ["🇯🇵", "स्ते", "ﾀﾞ", "น้ำ"] {
            let text = format!("a{cluster}b");
            // ratatui alone: the cluster's second cell is not sent, and stays on a terminal
            // that put part of the cluster there.
            let bare = sent(&text, "a", false);
            assert!(!bare.iter().any(|(x, _)| *x == 2), "{cluster}: {bare:?}");
            let settled = sent(&text, "a", true);
            assert!(
                settled.contains(&(2, " ".to_string())),
                "{cluster}: {settled:?}"
            );
        }
    }

    #[test]
    fn single_code_points_and_unchanged_clusters_cost_nothing_more() {
        // A wide CJK character is one code point: the terminal covers both its cells itself.
        assert_eq!(sent("a漢b", "a", true), sent("a漢b", "a", false));
        // Nothing changed: nothing sent, the covered cell included.
        assert_eq!(sent("a🇯🇵b", "a🇯🇵b", true), vec![]);
        // A new wide cluster over the old one hides the covered cell again: not sent over it.
        let sent = sent("a🇯🇵b", "a🇺🇸b", true);
        assert_eq!(sent, vec![(1, "🇺🇸".to_string())]);
    }
}
