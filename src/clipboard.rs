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
}
