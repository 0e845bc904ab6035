//! Key bindings as data: one table maps keys to commands and feeds the help overlay, so the
//! bindings can later be loaded from a file without code changes.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Something the user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Select the next newer delivery.
    Up,
    /// Select the next older delivery.
    Down,
    /// Select the newest delivery and follow new ones.
    First,
    /// Select the oldest delivery.
    Last,
    /// Scroll the detail view up a page (the list when no detail is open).
    PageUp,
    /// Scroll the detail view down a page (the list when no detail is open).
    PageDown,
    /// Scroll the detail view to its top.
    DetailTop,
    /// Scroll the detail view to its end.
    DetailEnd,
    /// Open or close the detail view.
    ToggleDetail,
    /// Next detail tab.
    NextTab,
    /// Previous detail tab.
    PrevTab,
    /// Start typing a filter.
    Filter,
    /// Scroll the body to the next line holding the filter's text.
    NextMatch,
    /// Scroll the body to the previous line holding the filter's text.
    PrevMatch,
    /// Show only failures, or everything.
    ToggleFailures,
    /// Show the body's exact bytes, or pretty.
    ToggleRaw,
    /// Copy the event id.
    CopyId,
    /// Copy the message id (`svix-id` / `webhook-id`), the one the provider's logs go by.
    CopyMessageId,
    /// Copy the payload.
    CopyPayload,
    /// Copy a curl command that re-sends the delivery.
    CopyCurl,
    /// Copy a curl command that re-sends it re-signed with a fresh timestamp.
    CopyCurlResigned,
    /// Re-send the delivery exactly as received.
    Replay,
    /// Re-send it re-signed with a fresh timestamp (same message id).
    ReplayResigned,
    /// Edit the body in the user's editor, then send it signed as a new message.
    EditAndSend,
    /// Re-send every message still failing (pressed twice).
    ResendFailing,
    /// Cycle what the sender is answered.
    CycleMode,
    /// Empty the list for a fresh start (pressed twice; the store keeps what it held).
    Clear,
    /// Show or hide the key help.
    Help,
    /// Close what is open: help, filter, detail.
    Back,
    /// Leave hookscope.
    Quit,
}

/// The default bindings: key names as shown in help, the keys, and the command.
pub const DEFAULT: &[(&str, &[Key], Command, &str)] = &[
    (
        "j ↓",
        &[Key::Char('j'), Key::Code(KeyCode::Down)],
        Command::Down,
        "older delivery",
    ),
    (
        "k ↑",
        &[Key::Char('k'), Key::Code(KeyCode::Up)],
        Command::Up,
        "newer delivery",
    ),
    (
        "g Home",
        &[Key::Char('g'), Key::Code(KeyCode::Home)],
        Command::First,
        "newest, and follow new ones",
    ),
    (
        "G End",
        &[Key::Char('G'), Key::Code(KeyCode::End)],
        Command::Last,
        "oldest",
    ),
    (
        "Enter",
        &[Key::Code(KeyCode::Enter)],
        Command::ToggleDetail,
        "open / close the detail",
    ),
    (
        "Tab",
        &[Key::Code(KeyCode::Tab)],
        Command::NextTab,
        "next tab",
    ),
    (
        "S-Tab",
        &[Key::Code(KeyCode::BackTab)],
        Command::PrevTab,
        "previous tab",
    ),
    (
        "PgUp",
        &[Key::Code(KeyCode::PageUp)],
        Command::PageUp,
        "scroll the detail up",
    ),
    (
        "PgDn",
        &[Key::Code(KeyCode::PageDown)],
        Command::PageDown,
        "scroll the detail down",
    ),
    (
        "< C-Home",
        &[Key::Char('<'), Key::CtrlCode(KeyCode::Home)],
        Command::DetailTop,
        "top of the detail",
    ),
    (
        "> C-End",
        &[Key::Char('>'), Key::CtrlCode(KeyCode::End)],
        Command::DetailEnd,
        "end of the detail",
    ),
    (
        "/",
        &[Key::Char('/')],
        Command::Filter,
        "filter by type, id, failure, status or body text",
    ),
    (
        "n",
        &[Key::Char('n')],
        Command::NextMatch,
        "next body line with the filter's text",
    ),
    (
        "N",
        &[Key::Char('N')],
        Command::PrevMatch,
        "previous body line with the filter's text",
    ),
    (
        "f",
        &[Key::Char('f')],
        Command::ToggleFailures,
        "failures only / everything",
    ),
    (
        "v",
        &[Key::Char('v')],
        Command::ToggleRaw,
        "body: raw bytes / pretty",
    ),
    ("y", &[Key::Char('y')], Command::CopyId, "copy the event id"),
    (
        "i",
        &[Key::Char('i')],
        Command::CopyMessageId,
        "copy the message id",
    ),
    (
        "Y",
        &[Key::Char('Y')],
        Command::CopyPayload,
        "copy the payload",
    ),
    (
        "c",
        &[Key::Char('c')],
        Command::CopyCurl,
        "copy a curl command that re-sends it",
    ),
    (
        "C",
        &[Key::Char('C')],
        Command::CopyCurlResigned,
        "copy it re-signed (fresh timestamp)",
    ),
    (
        "r",
        &[Key::Char('r')],
        Command::Replay,
        "replay as received",
    ),
    (
        "R",
        &[Key::Char('R')],
        Command::ReplayResigned,
        "replay re-signed (fresh timestamp)",
    ),
    (
        "e",
        &[Key::Char('e')],
        Command::EditAndSend,
        "edit the body ($EDITOR), then send it signed",
    ),
    (
        "F F",
        &[Key::Char('F')],
        Command::ResendFailing,
        "re-send every message still failing (re-signed)",
    ),
    (
        "m",
        &[Key::Char('m')],
        Command::CycleMode,
        "answer mode: normal, 500, 410, delay, flaky",
    ),
    (
        "x x",
        &[Key::Char('x')],
        Command::Clear,
        "clear the list (the store keeps them)",
    ),
    ("?", &[Key::Char('?')], Command::Help, "this help"),
    (
        "Esc",
        &[Key::Code(KeyCode::Esc)],
        Command::Back,
        "close help / clear filter / close detail",
    ),
    (
        "q C-c",
        &[Key::Char('q'), Key::Ctrl('c')],
        Command::Quit,
        "quit",
    ),
];

/// A key as bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character, with or without Shift.
    Char(char),
    /// A special key without modifiers.
    Code(KeyCode),
    /// Ctrl + a character.
    Ctrl(char),
    /// Ctrl + a special key.
    CtrlCode(KeyCode),
}

impl Key {
    fn matches(self, ev: &KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        match self {
            Key::Char(c) => !ctrl && !alt && ev.code == KeyCode::Char(c),
            Key::Code(code) => !ctrl && !alt && ev.code == code,
            Key::Ctrl(c) => ctrl && ev.code == KeyCode::Char(c),
            Key::CtrlCode(code) => ctrl && !alt && ev.code == code,
        }
    }
}

/// The command bound to a key, if any.
pub fn lookup(ev: &KeyEvent) -> Option<Command> {
    DEFAULT
        .iter()
        .find(|(_, keys, _, _)| keys.iter().any(|k| k.matches(ev)))
        .map(|(_, _, cmd, _)| *cmd)
}
