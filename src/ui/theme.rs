//! Styles, with and without colour (NO_COLOR): every state also has a symbol or a modifier, so
//! nothing is told by colour alone.

use crate::highlight::Tok;
use ratatui::style::{Color, Modifier, Style};

/// The style set for one frame.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Colour on or off.
    pub fn new(color: bool) -> Self {
        Theme { color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The product name and section titles.
    pub fn title(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// Emphasis.
    pub fn strong(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Secondary text.
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// Verified.
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Rejected: loud.
    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Warnings.
    pub fn warn(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }

    /// Key names in hints and help.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The selected row.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The filter's text where it stands in a body.
    pub fn found(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The rate sparkline.
    pub fn spark(&self) -> Style {
        self.fg(Color::Cyan)
    }

    /// A body token.
    pub fn token(&self, t: Tok) -> Style {
        match t {
            Tok::Key => self.fg(Color::Cyan),
            Tok::Str => self.fg(Color::Green),
            Tok::Num => self.fg(Color::Yellow),
            Tok::Lit => self.fg(Color::Magenta),
            Tok::Punct => self.dim(),
            Tok::Plain => Style::new(),
        }
    }
}
