//! Copying to the clipboard without blocking the UI: a worker thread owns one long-lived arboard
//! handle (on Linux the clipboard empties when it is dropped); when no system clipboard is
//! reachable (SSH, no display) the UI falls back to the OSC 52 escape sequence, which terminals
//! and tmux (`set-clipboard on`) turn into a copy on the user's side.

use base64::Engine as _;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

/// The outcome of a copy request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// Done through the system clipboard.
    System {
        /// What was copied, for the status line.
        what: String,
    },
    /// The system clipboard is unavailable: the caller should use OSC 52.
    Fallback {
        /// The text.
        text: String,
        /// What it is.
        what: String,
        /// Why the system clipboard did not take it.
        why: String,
    },
}

/// A handle to the clipboard worker.
pub struct Clipboard {
    tx: Option<std_mpsc::Sender<(String, String)>>,
    why_not: String,
}

impl Clipboard {
    /// Starts the worker when a system clipboard may be reachable; results arrive on `done`.
    pub fn start(done: mpsc::UnboundedSender<Copied>) -> Clipboard {
        let remote =
            std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some();
        let display =
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
        if remote || (cfg!(target_os = "linux") && !display) {
            let why_not = if remote { "over SSH" } else { "no display" };
            return Clipboard {
                tx: None,
                why_not: why_not.into(),
            };
        }
        let (tx, rx) = std_mpsc::channel::<(String, String)>();
        let spawned = std::thread::Builder::new()
            .name("clipboard".into())
            .spawn(move || worker(rx, done));
        match spawned {
            Ok(_) => Clipboard {
                tx: Some(tx),
                why_not: String::new(),
            },
            Err(e) => Clipboard {
                tx: None,
                why_not: e.to_string(),
            },
        }
    }

    /// Asks for `text` to be copied; returns the fallback at once when there is no worker.
    pub fn copy(&self, text: String, what: String) -> Option<Copied> {
        match &self.tx {
            Some(tx) => match tx.send((text, what)) {
                Ok(()) => None,
                Err(std_mpsc::SendError((text, what))) => Some(Copied::Fallback {
                    text,
                    what,
                    why: "clipboard worker stopped".into(),
                }),
            },
            None => Some(Copied::Fallback {
                text,
                what,
                why: self.why_not.clone(),
            }),
        }
    }
}

fn worker(rx: std_mpsc::Receiver<(String, String)>, done: mpsc::UnboundedSender<Copied>) {
    let mut board = arboard::Clipboard::new().map_err(|e| e.to_string());
    while let Ok((text, what)) = rx.recv() {
        let result = match &mut board {
            Ok(b) => b.set_text(text.clone()).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let msg = match result {
            Ok(()) => Copied::System { what },
            Err(why) => Copied::Fallback { text, what, why },
        };
        if done.send(msg).is_err() {
            break;
        }
    }
}

/// Text up to this size is taken through OSC 52 by the terminals people use over SSH (hterm
/// takes 100,000 bytes of sequence; kitty, termux and screen take a few KiB per sequence).
pub const OSC52_COMMON: usize = 64 * 1024;
/// Text over this size is not sent through OSC 52 at all: few terminals take it (xterm does),
/// and writing megabytes of base64 into the terminal holds the inspector up meanwhile.
pub const OSC52_MAX: usize = 1024 * 1024;

/// A copy through the terminal, when the system clipboard could not take it: the OSC 52
/// sequence to write (none when `text` is too large to send) and what to tell the user. The
/// terminal never says whether it took it, so the message says when it may well not have.
pub fn through_terminal(text: &str, what: &str, why: &str) -> (Option<String>, String) {
    if text.len() > OSC52_MAX {
        return (
            None,
            format!(
                "not copied: {what}: too large to send through the terminal (OSC 52 over {}; system clipboard: {why})",
                crate::verify::human_bytes(OSC52_MAX as u64)
            ),
        );
    }
    let caution = if text.len() > OSC52_COMMON {
        format!(
            ": many terminals drop one over {}",
            crate::verify::human_bytes(OSC52_COMMON as u64)
        )
    } else {
        String::new()
    };
    (
        Some(osc52(text)),
        format!("copied {what} via the terminal (OSC 52{caution}; system clipboard: {why})"),
    )
}

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_encodes_base64() {
        assert_eq!(osc52("evt_1"), "\x1b]52;c;ZXZ0XzE=\x07");
    }

    #[test]
    fn a_copy_through_the_terminal_says_when_it_may_not_have_been_taken() {
        let (sent, said) = through_terminal("evt_1", "event id evt_1", "no display");
        assert_eq!(sent.as_deref(), Some("\x1b]52;c;ZXZ0XzE=\x07"));
        assert_eq!(
            said,
            "copied event id evt_1 via the terminal (OSC 52; system clipboard: no display)"
        );
        let large = "x".repeat(OSC52_COMMON + 1);
        let (sent, said) = through_terminal(&large, "payload (64 KiB)", "no display");
        assert_eq!(sent, Some(osc52(&large)));
        assert_eq!(
            said,
            "copied payload (64 KiB) via the terminal (OSC 52: many terminals drop one over 64 KiB; system clipboard: no display)"
        );
        let huge = "x".repeat(OSC52_MAX + 1);
        let (sent, said) = through_terminal(&huge, "payload (1 MiB)", "no display");
        assert_eq!(sent, None, "nothing written to the terminal");
        assert_eq!(
            said,
            "not copied: payload (1 MiB): too large to send through the terminal (OSC 52 over 1 MiB; system clipboard: no display)"
        );
    }
}
