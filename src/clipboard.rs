//! Copying to the clipboard without blocking the UI: a worker thread owns one long-lived arboard
//! handle (on Linux the clipboard empties when it is dropped). When no system clipboard is
//! reachable (SSH, no display): inside tmux, the text goes to tmux as a paste buffer, which tmux
//! passes on to the outer terminal's clipboard (`load-buffer -w`); elsewhere the UI writes the
//! OSC 52 escape sequence, which terminals turn into a copy on the user's side. (tmux drops an
//! application's OSC 52 unless `set-clipboard` is `on`, and its default is `external`.)

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
    /// Handed to tmux as a paste buffer (no system clipboard was reachable).
    Tmux {
        /// What was copied.
        what: String,
        /// Whether tmux was asked to pass it on to the outer terminal's clipboard.
        onward: Onward,
        /// Why the system clipboard did not take it.
        why: String,
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
    /// Starts the worker when a system clipboard or tmux may be reachable; results arrive on
    /// `done`.
    pub fn start(done: mpsc::UnboundedSender<Copied>) -> Clipboard {
        let remote =
            std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some();
        let display =
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
        let no_system = if remote {
            Some("over SSH")
        } else if cfg!(target_os = "linux") && !display {
            Some("no display")
        } else {
            None
        };
        // tmux finds its server from $TMUX, which it sets in every pane.
        let tmux = std::env::var_os("TMUX").filter(|t| !t.is_empty());
        if let (Some(why_not), None) = (no_system, &tmux) {
            return Clipboard {
                tx: None,
                why_not: why_not.into(),
            };
        }
        let (tx, rx) = std_mpsc::channel::<(String, String)>();
        let spawned = std::thread::Builder::new()
            .name("clipboard".into())
            .spawn(move || {
                let board = match no_system {
                    None => arboard::Clipboard::new().map_err(|e| e.to_string()),
                    Some(why_not) => Err(why_not.to_string()),
                };
                worker(rx, done, board, tmux)
            });
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

fn worker(
    rx: std_mpsc::Receiver<(String, String)>,
    done: mpsc::UnboundedSender<Copied>,
    mut board: Result<arboard::Clipboard, String>,
    tmux: Option<std::ffi::OsString>,
) {
    while let Ok((text, what)) = rx.recv() {
        let result = match &mut board {
            Ok(b) => b.set_text(text.clone()).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let msg = match (result, &tmux) {
            (Ok(()), _) => Copied::System { what },
            (Err(why), Some(tmux)) => match to_tmux(&text, tmux) {
                Ok(onward) => Copied::Tmux { what, onward, why },
                Err(e) => Copied::Fallback {
                    text,
                    what,
                    why: format!("{why}; tmux: {e}"),
                },
            },
            (Err(why), None) => Copied::Fallback { text, what, why },
        };
        if done.send(msg).is_err() {
            break;
        }
    }
}

/// Whether tmux passed a copy on to the outer terminal's clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Onward {
    /// Asked to (`load-buffer -w`, tmux 3.2 and later), as far as the terminal allows.
    Passed,
    /// Not asked: over [`OSC52_MAX`], as the OSC 52 fallback would not send it either.
    TooLarge,
    /// tmux before 3.2 cannot.
    OldTmux,
}

/// Loads `text` into a paste buffer of the tmux server that `tmux` (a `$TMUX` value) names,
/// passing it on to the outer terminal's clipboard when it can.
pub fn to_tmux(text: &str, tmux: &std::ffi::OsStr) -> Result<Onward, String> {
    let load = |args: &[&str]| -> Result<(), String> {
        use std::io::Write as _;
        let mut child = std::process::Command::new("tmux")
            .args(args)
            .env("TMUX", tmux)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run tmux: {e}"))?;
        // A tmux that refuses the arguments exits without reading: a broken pipe then, and
        // its exit status says more.
        let wrote = child
            .stdin
            .take()
            .map(|mut stdin| stdin.write_all(text.as_bytes()));
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stderr);
            return Err(crate::sanitize::line(said.trim()).into_owned());
        }
        match wrote {
            Some(Err(e)) => Err(e.to_string()),
            _ => Ok(()),
        }
    };
    if text.len() > OSC52_MAX {
        return load(&["load-buffer", "-"]).map(|()| Onward::TooLarge);
    }
    match load(&["load-buffer", "-w", "-"]) {
        Ok(()) => Ok(Onward::Passed),
        Err(_) => load(&["load-buffer", "-"]).map(|()| Onward::OldTmux),
    }
}

/// What to tell the user of a copy handed to tmux.
pub fn through_tmux(what: &str, onward: Onward, why: &str) -> String {
    let not_on = match onward {
        Onward::Passed => {
            return format!(
                "copied {what} via tmux (a paste buffer, passed on to the terminal's clipboard where it allows; system clipboard: {why})"
            );
        }
        Onward::TooLarge => format!(
            "over {}, not passed on to the terminal's clipboard",
            crate::verify::human_bytes(OSC52_MAX as u64)
        ),
        Onward::OldTmux => "tmux before 3.2 cannot pass it on to the clipboard".into(),
    };
    format!(
        "copied {what} to a tmux paste buffer only (prefix ] pastes it; {not_on}; system clipboard: {why})"
    )
}

/// Text up to this size is taken through OSC 52 by the terminals people use over SSH (hterm
/// takes 100,000 bytes of sequence; kitty, termux and screen take a few KiB per sequence).
pub const OSC52_COMMON: usize = 64 * 1024;
/// Text over this size is not sent through OSC 52 at all: few terminals take it (xterm does),
/// and writing megabytes of base64 into the terminal holds the inspector up meanwhile.
pub const OSC52_MAX: usize = 1024 * 1024;

/// What stands between hookscope and the terminal that may drop an OSC 52 copy, from
/// `$STY` (GNU screen, which sets it in its windows), `$TMUX` and `$TERM`: a `TERM` of tmux or
/// screen with neither variable set is a multiplexer on the other side of SSH.
pub fn in_the_way(sty: bool, tmux: bool, term: Option<&str>) -> Option<String> {
    let term = term.unwrap_or("");
    let shown = crate::sanitize::line(term);
    if sty {
        Some("GNU screen, which hookscope runs in, does not pass OSC 52 on".into())
    } else if tmux {
        None
    } else if term.starts_with("tmux") {
        Some(format!(
            "a tmux around this session (TERM={shown}) passes it on only with `set -g set-clipboard on`"
        ))
    } else if term.starts_with("screen") {
        Some(format!(
            "a tmux or screen around this session (TERM={shown}) may drop it (tmux passes it on with `set -g set-clipboard on`)"
        ))
    } else {
        None
    }
}

/// [`in_the_way`] for this process's environment.
pub fn in_the_way_here() -> Option<String> {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let term = std::env::var("TERM").ok();
    in_the_way(set("STY"), set("TMUX"), term.as_deref())
}

/// A copy through the terminal, when the system clipboard could not take it: the OSC 52
/// sequence to write (none when `text` is too large to send) and what to tell the user. The
/// terminal never says whether it took it, so the message says when it may well not have: a
/// large copy, or `in_the_way` ([`in_the_way`]).
pub fn through_terminal(
    text: &str,
    what: &str,
    why: &str,
    in_the_way: Option<&str>,
) -> (Option<String>, String) {
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
    let way = in_the_way.map(|w| format!("; but {w}")).unwrap_or_default();
    (
        Some(osc52(text)),
        format!("copied {what} via the terminal (OSC 52{caution}; system clipboard: {why}{way})"),
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
    fn a_copy_through_tmux_says_whether_it_went_on_to_the_clipboard() {
        let said = |onward| through_tmux("event id evt_1", onward, "over SSH");
        assert_eq!(
            said(Onward::Passed),
            "copied event id evt_1 via tmux (a paste buffer, passed on to the terminal's clipboard where it allows; system clipboard: over SSH)"
        );
        assert_eq!(
            said(Onward::TooLarge),
            "copied event id evt_1 to a tmux paste buffer only (prefix ] pastes it; over 1 MiB, not passed on to the terminal's clipboard; system clipboard: over SSH)"
        );
        assert!(said(Onward::OldTmux).contains("tmux before 3.2 cannot"));
    }

    #[test]
    fn a_multiplexer_that_may_drop_the_copy_is_named() {
        let way = |sty, tmux, term| in_the_way(sty, tmux, term);
        assert_eq!(
            way(true, false, Some("screen.xterm-256color")).as_deref(),
            Some("GNU screen, which hookscope runs in, does not pass OSC 52 on")
        );
        // hookscope's own tmux takes the copy as a paste buffer: nothing in the way.
        assert_eq!(way(false, true, Some("tmux-256color")), None);
        // TERM says tmux, and no tmux here: one on the other side of SSH.
        assert_eq!(
            way(false, false, Some("tmux-256color")).as_deref(),
            Some(
                "a tmux around this session (TERM=tmux-256color) passes it on only with `set -g set-clipboard on`"
            )
        );
        assert!(
            way(false, false, Some("screen-256color"))
                .is_some_and(|w| w.starts_with("a tmux or screen around this session"))
        );
        assert_eq!(way(false, false, Some("xterm-256color")), None);
        assert_eq!(way(false, false, None), None);
        let (_, said) = through_terminal(
            "evt_1",
            "event id evt_1",
            "over SSH",
            way(false, false, Some("tmux-256color")).as_deref(),
        );
        assert_eq!(
            said,
            "copied event id evt_1 via the terminal (OSC 52; system clipboard: over SSH; but a tmux around this session (TERM=tmux-256color) passes it on only with `set -g set-clipboard on`)"
        );
    }

    #[test]
    fn a_copy_through_the_terminal_says_when_it_may_not_have_been_taken() {
        let (sent, said) = through_terminal("evt_1", "event id evt_1", "no display", None);
        assert_eq!(sent.as_deref(), Some("\x1b]52;c;ZXZ0XzE=\x07"));
        assert_eq!(
            said,
            "copied event id evt_1 via the terminal (OSC 52; system clipboard: no display)"
        );
        let large = "x".repeat(OSC52_COMMON + 1);
        let (sent, said) = through_terminal(&large, "payload (64 KiB)", "no display", None);
        assert_eq!(sent, Some(osc52(&large)));
        assert_eq!(
            said,
            "copied payload (64 KiB) via the terminal (OSC 52: many terminals drop one over 64 KiB; system clipboard: no display)"
        );
        let huge = "x".repeat(OSC52_MAX + 1);
        let (sent, said) = through_terminal(&huge, "payload (1 MiB)", "no display", None);
        assert_eq!(sent, None, "nothing written to the terminal");
        assert_eq!(
            said,
            "not copied: payload (1 MiB): too large to send through the terminal (OSC 52 over 1 MiB; system clipboard: no display)"
        );
    }
}
