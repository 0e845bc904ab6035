//! Editing a delivery's body before sending it again (`e` in the inspector): the text an editor
//! is given, what is sent from what it leaves, and running the editor.
//!
//! JSON is handed over one member per line and sent back compact when it came compact, as
//! providers send it, laid out by [`crate::relayout`], which moves whitespace only.

use crate::delivery::Delivery;
use crate::relayout::{Style, relayout};
use crate::verify::Secret;
use std::io;
use std::path::{Path, PathBuf};

/// What the editor is given for a body: valid JSON one member per line (as the Body tab shows
/// it), anything else as it is.
pub fn editable(body: &[u8]) -> Vec<u8> {
    match is_json(body) {
        true => layout(body, true),
        false => body.to_vec(),
    }
}

/// What to do with what the editor left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Send this body. `not_json` says why it does not parse, when the original did.
    Send {
        /// The body to sign and send.
        body: Vec<u8>,
        /// The parser's complaint about an edit that broke the JSON.
        not_json: Option<String>,
    },
    /// Nothing to send: the body is the one received.
    Unchanged,
    /// Nothing to send: the editor left no text.
    Emptied,
}

/// What to send, given the `original` body, the text the editor was `given` and what it left
/// (`edited`).
pub fn outcome(original: &[u8], given: &[u8], edited: &[u8]) -> Outcome {
    if edited == given {
        return Outcome::Unchanged;
    }
    let mut edited = edited;
    // Editors end what they write with a newline (vim on every write, even of an untouched
    // file): one the body did not have is the editor's, not the user's.
    if !original.ends_with(b"\n") {
        edited = edited
            .strip_suffix(b"\r\n")
            .or_else(|| edited.strip_suffix(b"\n"))
            .unwrap_or(edited);
    }
    if edited.iter().all(u8::is_ascii_whitespace) && !original.is_empty() {
        return Outcome::Emptied;
    }
    let was_json = is_json(original);
    // Compact JSON, perhaps with a line break after it: the edit goes out the same way.
    let core = original.trim_ascii_end();
    let compact = was_json && layout(core, false) == core;
    let (body, not_json) = match serde_json::from_slice::<serde::de::IgnoredAny>(edited) {
        Ok(_) if compact => {
            let mut body = layout(edited, false);
            body.extend_from_slice(&original[core.len()..]);
            (body, None)
        }
        Ok(_) => (edited.to_vec(), None),
        Err(e) => (edited.to_vec(), was_json.then(|| e.to_string())),
    };
    if body == original {
        return Outcome::Unchanged;
    }
    Outcome::Send { body, not_json }
}

fn is_json(b: &[u8]) -> bool {
    !b.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
}

/// Valid JSON `b` with its whitespace outside strings made anew: `pretty`, one member per
/// line indented by two spaces and a final newline; otherwise none at all.
fn layout(b: &[u8], pretty: bool) -> Vec<u8> {
    relayout(
        b,
        if pretty {
            Style::Indented {
                spaces: 2,
                newline: true,
            }
        } else {
            Style::Compact
        },
    )
}

/// The editor to run: `$VISUAL`, then `$EDITOR` (as git and crontab choose), else `vi`
/// (`notepad` on Windows).
pub fn editor() -> String {
    editor_from(|name| std::env::var_os(name))
}

/// [`editor`] with the environment read through `var`.
fn editor_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> String {
    ["VISUAL", "EDITOR"]
        .into_iter()
        .filter_map(var)
        .map(|v| v.to_string_lossy().trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_EDITOR.into())
}

/// The editor when none is set: the one every Unix has, or Windows'.
const DEFAULT_EDITOR: &str = if cfg!(windows) { "notepad" } else { "vi" };

/// A new file, readable by its owner only (payloads carry personal data), in the temporary
/// folder, holding `text`: `.json` when it is JSON, so the editor highlights it.
pub fn scratch(seq: u64, text: &[u8]) -> io::Result<PathBuf> {
    use io::Write as _;
    let ext = if is_json(text) { "json" } else { "txt" };
    let name = format!(
        "hookscope-{seq}-{}.{ext}",
        crate::sender::random_id("edit").trim_start_matches("edit_")
    );
    let path = std::env::temp_dir().join(name);
    let mut file = crate::store::create_private_file(&path)?;
    file.write_all(text)?;
    file.sync_all()?;
    Ok(path)
}

/// What Ctrl-Z in the editor does to hookscope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suspend {
    /// hookscope stops with the editor, as any program that opens one does (`fg` brings both
    /// back): for a command that does nothing but wait for the editor.
    Both,
    /// Refused, as the inspector refuses Ctrl-Z: hookscope never stops, since its receiver
    /// must go on answering deliveries. The editor runs as a foreground job of its own, and
    /// is continued should it stop.
    Refused,
}

/// Runs `editor` on `path` on this terminal as a shell runs `$EDITOR path` (so `code --wait`
/// or `emacs -nw` work), and waits for it to end.
pub async fn run(
    editor: &str,
    path: &Path,
    suspend: Suspend,
) -> io::Result<std::process::ExitStatus> {
    #[cfg(unix)]
    let mut command = {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("hookscope-editor")
            .arg(path);
        c
    };
    #[cfg(not(unix))]
    let mut command = {
        let mut words = editor.split_whitespace();
        let mut c = tokio::process::Command::new(words.next().unwrap_or(DEFAULT_EDITOR));
        c.args(words).arg(path);
        c
    };
    #[cfg(unix)]
    if suspend == Suspend::Refused
        && let Some(job) = job::Place::find()
    {
        return job.run(command).await;
    }
    let _ = suspend;
    command.kill_on_drop(true).status().await
}

/// The editor run as a shell runs a job in the foreground: a process group of its own, given
/// the terminal, so that what the terminal signals (Ctrl-Z, Ctrl-C) reaches the editor alone,
/// never hookscope (nor a wrapper it runs under, `make` or a script, which a shell would see
/// stop). An editor that stops all the same (vi stops its own group on Ctrl-Z) is continued.
#[cfg(unix)]
mod job {
    use std::io;
    use std::os::fd::{AsRawFd as _, RawFd};

    /// Where the editor's group goes.
    pub struct Place {
        /// The terminal to hand it, if hookscope has one: stdin, or else `/dev/tty`.
        terminal: Option<RawFd>,
        /// `/dev/tty`, when stdin is not the terminal: kept open while the descriptor is in
        /// use, and the editor's stdin.
        opened: Option<std::fs::File>,
    }

    impl Place {
        /// A group of its own for the editor, given hookscope's terminal when hookscope is in
        /// its foreground; `None` when hookscope is not (then the editor shares its group, as
        /// it would be stopped the moment it read the terminal from the background).
        pub fn find() -> Option<Place> {
            // SAFETY: isatty and tcgetpgrp only read a descriptor's state; getpgrp cannot fail.
            let ours = |fd: RawFd| unsafe { libc::tcgetpgrp(fd) == libc::getpgrp() };
            if unsafe { libc::isatty(0) } == 1 {
                return ours(0).then_some(Place {
                    terminal: Some(0),
                    opened: None,
                });
            }
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
            {
                Ok(tty) => ours(tty.as_raw_fd()).then(|| Place {
                    terminal: Some(tty.as_raw_fd()),
                    opened: Some(tty),
                }),
                // No terminal controls hookscope: nothing to hand over, nothing to signal.
                Err(_) => Some(Place {
                    terminal: None,
                    opened: None,
                }),
            }
        }

        /// Runs `command` in a group of its own until it ends.
        pub async fn run(
            self,
            mut command: tokio::process::Command,
        ) -> io::Result<std::process::ExitStatus> {
            let terminal = self.terminal;
            if let Some(tty) = &self.opened {
                // hookscope's stdin is not its terminal (`< /dev/null`; keys come from
                // /dev/tty): the editor is given the terminal to read instead, as it expects
                // (nano gives up on any other stdin, vi complains).
                command.stdin(tty.try_clone()?);
            }
            // SAFETY: runs in the child between fork and exec, calling only functions that
            // are async-signal-safe (setpgid, getpid, sigprocmask, tcsetpgrp).
            unsafe {
                command.pre_exec(move || {
                    if libc::setpgid(0, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    if let Some(fd) = terminal {
                        give(fd, libc::getpid());
                    }
                    Ok(())
                });
            }
            let mut child = command.kill_on_drop(true).spawn()?;
            let Some(pid) = child.id() else {
                return child.wait().await;
            };
            let Ok(group) = libc::pid_t::try_from(pid) else {
                return child.wait().await;
            };
            let mut job = Job {
                group,
                terminal,
                ended: false,
            };
            // From here as well, as shells do: whichever of the two runs first, the editor
            // never reads the terminal from the background.
            if let Some(fd) = terminal {
                give(fd, group);
            }
            let mut poll = tokio::time::interval(std::time::Duration::from_millis(50));
            loop {
                tokio::select! {
                    status = child.wait() => {
                        job.ended = true;
                        return status;
                    }
                    _ = poll.tick() => {
                        if super::stopped(pid) {
                            // SAFETY: kill(2) on the editor's own process group.
                            unsafe { libc::kill(-group, libc::SIGCONT) };
                        }
                    }
                }
            }
        }
    }

    /// The editor's group while it runs: the terminal comes back to hookscope's group however
    /// the run ends, and a run given up (hookscope stopping) hangs up on the whole group, not
    /// only on the shell that kill_on_drop ends.
    struct Job {
        group: libc::pid_t,
        terminal: Option<RawFd>,
        ended: bool,
    }

    impl Drop for Job {
        fn drop(&mut self) {
            if !self.ended {
                // SAFETY: kill(2) on the editor's own process group; SIGCONT so a stopped
                // editor takes the hang-up now.
                unsafe {
                    libc::kill(-self.group, libc::SIGHUP);
                    libc::kill(-self.group, libc::SIGCONT);
                }
            }
            if let Some(fd) = self.terminal {
                // SAFETY: getpgrp cannot fail.
                give(fd, unsafe { libc::getpgrp() });
            }
        }
    }

    /// Makes `group` the foreground process group of terminal `fd`. From a background group
    /// that raises SIGTTOU, which would stop the caller: it is blocked meanwhile.
    fn give(fd: RawFd, group: libc::pid_t) {
        // SAFETY: sigset_t is plain data, initialised by sigemptyset; the mask is put back as
        // it was; tcsetpgrp on a descriptor the caller holds open.
        unsafe {
            let mut ttou: libc::sigset_t = std::mem::zeroed();
            let mut before: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut ttou);
            libc::sigaddset(&mut ttou, libc::SIGTTOU);
            libc::sigprocmask(libc::SIG_BLOCK, &ttou, &mut before);
            libc::tcsetpgrp(fd, group);
            libc::sigprocmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
        }
    }
}

/// Whether the child `pid` has stopped since last asked (a stop it reports once).
#[cfg(unix)]
fn stopped(pid: u32) -> bool {
    let id = libc::id_t::from(pid);
    // SAFETY: siginfo_t is plain data, zeroed so that "nothing to report" reads as pid 0.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // WSTOPPED without WEXITED reports a stop and never reaps an exit, which stays tokio's
    // to collect; WNOHANG, so this only asks.
    // SAFETY: `info` is a valid, writable siginfo_t for the call's duration.
    let r = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WSTOPPED | libc::WNOHANG) };
    // SAFETY: waitid filled `info` (or left it zeroed); si_pid reads its pid field.
    r == 0 && unsafe { info.si_pid() } != 0
}

/// [`run`]s the editor until it ends: its status, or `None` when SIGTERM or SIGHUP came
/// first (the editor is then ended too). A Ctrl-C at the terminal that reaches hookscope as
/// well as the editor (when they share a process group) is the editor's: it is passed over
/// here, as git does.
pub async fn wait(
    editor: &str,
    path: &Path,
    suspend: Suspend,
) -> io::Result<Option<std::process::ExitStatus>> {
    let mut ran = std::pin::pin!(run(editor, path, suspend));
    loop {
        tokio::select! {
            status = &mut ran => return status.map(Some),
            signal = crate::signals::stop_requested(true) => {
                if signal != crate::signals::Signal::Interrupt {
                    // Dropping the run kills the editor (kill_on_drop).
                    return Ok(None);
                }
            }
        }
    }
}

/// Why an editor's exit status means nothing is sent, if it does.
pub fn failed(editor: &str, status: std::process::ExitStatus) -> Option<String> {
    if status.success() {
        return None;
    }
    let editor = crate::sanitize::line(editor);
    Some(match status.code() {
        // The shell's own: the command was not found, or could not be run.
        Some(127) | Some(126) => format!(
            "the editor `{editor}` could not be run: set $VISUAL or $EDITOR to one that can"
        ),
        Some(code) => format!("the editor `{editor}` exited with status {code}"),
        None => format!("the editor `{editor}` was ended by a signal"),
    })
}

/// Why an edit sends nothing.
#[derive(Debug, thiserror::Error)]
pub enum NotSent {
    /// No HMAC secret applies to the delivery's path.
    #[error("cannot sign an edit: {0}")]
    Unsignable(crate::replay::ReplayError),
    /// The body could not be written out for the editor.
    #[error("cannot write the body to {}: {error}", .dir.display())]
    Scratch {
        /// The temporary folder.
        dir: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// The editor could not be started.
    #[error("cannot run the editor `{editor}`: {error}")]
    Unrunnable {
        /// The editor, made printable.
        editor: String,
        /// What the OS said.
        error: io::Error,
    },
    /// The editor failed or was not found ([`failed`]).
    #[error("{0}")]
    EditorFailed(String),
    /// What the editor left could not be read back.
    #[error("cannot read {} back: {error}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// The body is the one received (the delivery's number).
    #[error("#{0}'s body was not changed")]
    Unchanged(u64),
    /// The editor left no text.
    #[error("the editor left the body empty")]
    Emptied,
    /// SIGTERM or SIGHUP came while the editor was open.
    #[error("stopped while the editor was open")]
    Stopped,
}

/// A delivery's body written out for the editor; the file goes when the draft does.
pub struct Draft {
    path: PathBuf,
    given: Vec<u8>,
    seq: u64,
}

impl Draft {
    /// Writes `d`'s body out for editing, once it is known that an edit can be signed (said
    /// before the editor opens, not after the work of an edit is lost).
    pub fn new(d: &Delivery, secrets: &[Secret]) -> Result<Draft, NotSent> {
        crate::replay::signing_key(&d.path, secrets).map_err(NotSent::Unsignable)?;
        let given = editable(&d.body);
        let path = scratch(d.seq, &given).map_err(|error| NotSent::Scratch {
            dir: std::env::temp_dir(),
            error,
        })?;
        Ok(Draft {
            path,
            given,
            seq: d.seq,
        })
    }

    /// The file the editor is given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What to send once `editor` has ended as `ran` says ([`wait`]): `d` with the edited body,
    /// signed at `now` as a new message, and what to say of a body that is no longer JSON.
    pub fn finish(
        self,
        d: &Delivery,
        secrets: &[Secret],
        editor: &str,
        ran: io::Result<Option<std::process::ExitStatus>>,
        now: i64,
    ) -> Result<(Delivery, Option<String>), NotSent> {
        let status = ran
            .map_err(|error| NotSent::Unrunnable {
                editor: crate::sanitize::line(editor).into_owned(),
                error,
            })?
            .ok_or(NotSent::Stopped)?;
        if let Some(why) = failed(editor, status) {
            return Err(NotSent::EditorFailed(why));
        }
        let text = std::fs::read(&self.path).map_err(|error| NotSent::Unreadable {
            path: self.path.clone(),
            error,
        })?;
        let (body, not_json) = match outcome(&d.body, &self.given, &text) {
            Outcome::Send { body, not_json } => (body, not_json),
            Outcome::Unchanged => return Err(NotSent::Unchanged(self.seq)),
            Outcome::Emptied => return Err(NotSent::Emptied),
        };
        let id = crate::sender::random_id("msg");
        let edit = crate::replay::edited(d, body.into(), &id, secrets, now)
            .map_err(NotSent::Unsignable)?;
        Ok((edit, not_json))
    }
}

impl Drop for Draft {
    fn drop(&mut self) {
        // Payloads carry personal data: nothing is left behind, whatever became of the edit.
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPACT: &[u8] = br#"{"id":"evt_1","amount":10.50,"big":12345678901234567890123,"tags":[],"o":{},"s":"a,b:{c}\"]","n":[1,2]}"#;

    #[test]
    fn json_is_given_one_member_per_line_with_every_token_as_written() {
        let given = editable(COMPACT);
        assert_eq!(
            String::from_utf8(given.clone()).unwrap(),
            r#"{
  "id": "evt_1",
  "amount": 10.50,
  "big": 12345678901234567890123,
  "tags": [],
  "o": {},
  "s": "a,b:{c}\"]",
  "n": [
    1,
    2
  ]
}
"#
        );
        assert_eq!(layout(&given, false), COMPACT, "and back, byte for byte");
        // Not JSON, or not UTF-8: as it is.
        assert_eq!(editable(b"a=1&b=2"), b"a=1&b=2");
        assert_eq!(editable(b"\xff\x00"), b"\xff\x00");
    }

    #[test]
    fn an_untouched_or_emptied_file_sends_nothing() {
        let given = editable(COMPACT);
        assert_eq!(outcome(COMPACT, &given, &given), Outcome::Unchanged);
        // Reindented, or written again with a newline, is still the same body.
        let mut respaced = given.clone();
        respaced.splice(1..1, b"\n\n   ".iter().copied());
        assert_eq!(outcome(COMPACT, &given, &respaced), Outcome::Unchanged);
        assert_eq!(outcome(b"a=1", b"a=1", b"a=1\n"), Outcome::Unchanged);
        assert_eq!(outcome(COMPACT, &given, b""), Outcome::Emptied);
        assert_eq!(outcome(COMPACT, &given, b"\n  \n"), Outcome::Emptied);
    }

    /// The body and note of an outcome that sends.
    fn sent(original: &[u8], given: &[u8], edited: &[u8]) -> (Vec<u8>, Option<String>) {
        match outcome(original, given, edited) {
            Outcome::Send { body, not_json } => (body, not_json),
            other => panic!("an edit is sent, not {other:?}"),
        }
    }

    #[test]
    fn an_edit_goes_out_as_compact_as_the_original_came() {
        let given = editable(COMPACT);
        let edited = String::from_utf8(given.clone())
            .unwrap()
            .replace("10.50", "99.00");
        let (body, not_json) = sent(COMPACT, &given, edited.as_bytes());
        assert_eq!(
            body,
            String::from_utf8(COMPACT.to_vec())
                .unwrap()
                .replace("10.50", "99.00")
                .into_bytes()
        );
        assert_eq!(not_json, None);
        // Compact with a line break after it: compact, with its line break.
        let (body, _) = sent(b"{\"a\":1}\n", b"", b"{\n  \"a\": 2\n}\n");
        assert_eq!(body, b"{\"a\":2}\n");
        // A body that came pretty goes out as edited (less the editor's final newline).
        let pretty = b"{\n    \"a\": 1\n}";
        let (body, _) = sent(pretty, pretty, b"{\n    \"a\": 2\n}\n");
        assert_eq!(body, b"{\n    \"a\": 2\n}");
        // Text stays text, with the line break it had.
        let (body, not_json) = sent(b"a=1\n", b"a=1\n", b"a=2\n");
        assert_eq!((body, not_json), (b"a=2\n".to_vec(), None));
    }

    #[test]
    fn broken_json_is_still_sent_but_said() {
        let given = editable(COMPACT);
        let broken = String::from_utf8(given.clone())
            .unwrap()
            .replace("\"evt_1\",", "\"evt_1\"");
        let (body, not_json) = sent(COMPACT, &given, broken.as_bytes());
        assert_eq!(body, broken.trim_end().as_bytes(), "as written");
        assert_eq!(
            not_json.as_deref(),
            Some("expected `,` or `}` at line 3 column 3")
        );
    }

    #[test]
    fn the_editor_is_visual_then_editor_then_vi() {
        let env = |visual: Option<&str>, editor: Option<&str>| {
            let (visual, editor) = (visual.map(String::from), editor.map(String::from));
            editor_from(move |name| match name {
                "VISUAL" => visual.clone().map(Into::into),
                "EDITOR" => editor.clone().map(Into::into),
                _ => None,
            })
        };
        assert_eq!(env(Some("code --wait"), Some("nano")), "code --wait");
        assert_eq!(
            env(Some(" "), Some("nano")),
            "nano",
            "a blank VISUAL is unset"
        );
        assert_eq!(env(None, None), DEFAULT_EDITOR);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_editor_runs_as_a_shell_runs_it_and_its_failures_are_said() {
        use std::os::unix::fs::PermissionsExt as _;
        let path = scratch(7, COMPACT).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
        assert_eq!(path.extension().unwrap(), "json");
        // An editor given with arguments, and a path the shell must not split.
        let status = run("sed -i -e s/evt_1/evt_2/", &path, Suspend::Both)
            .await
            .unwrap();
        assert_eq!(failed("sed", status), None);
        let text = std::fs::read(&path).unwrap();
        assert!(text.starts_with(br#"{"id":"evt_2""#), "{text:?}");
        std::fs::remove_file(&path).unwrap();

        let status = run("false", Path::new("/nonexistent"), Suspend::Both)
            .await
            .unwrap();
        assert_eq!(
            failed("false", status).as_deref(),
            Some("the editor `false` exited with status 1")
        );
        let status = run("no-such-editor-here", Path::new("/x"), Suspend::Both)
            .await
            .unwrap();
        assert_eq!(
            failed("no-such-editor-here", status).as_deref(),
            Some(
                "the editor `no-such-editor-here` could not be run: set $VISUAL or $EDITOR to one that can"
            )
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_editor_that_stops_is_continued_when_suspending_is_refused() {
        // As Ctrl-Z leaves it: stopped. (SIGSTOP, not SIGTSTP, which a process group with no
        // parent in the session, as a test's may be, discards.)
        let path = scratch(8, COMPACT).unwrap();
        let ran = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            run(
                "kill -STOP $$; sed -i -e s/evt_1/evt_3/",
                &path,
                Suspend::Refused,
            ),
        )
        .await
        .expect("the editor was continued");
        assert!(ran.unwrap().success());
        let text = std::fs::read(&path).unwrap();
        assert!(text.starts_with(br#"{"id":"evt_3""#), "{text:?}");
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_draft_is_signed_or_says_why_not_and_leaves_no_file_behind() {
        use std::os::unix::process::ExitStatusExt as _;
        const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let mut b = crate::testing::Builder::new(&[SECRET], time::OffsetDateTime::now_utc());
        let d = b.signed(SECRET, "msg_d", COMPACT);
        let secrets = vec![Secret::parse(SECRET).unwrap()];
        let ok = || Ok(Some(std::process::ExitStatus::from_raw(0)));
        // No secret for the path: said before any file is written.
        let e = Draft::new(&d, &[]).err().unwrap();
        assert_eq!(
            e.to_string(),
            "cannot sign an edit: no whsec_ secret applies to /webhooks: pass --secret to re-sign"
        );
        // Untouched, or the editor stopped: nothing to send, and the file goes either way.
        let draft = Draft::new(&d, &secrets).unwrap();
        let path = draft.path().to_path_buf();
        assert_eq!(std::fs::read(&path).unwrap(), editable(COMPACT));
        let e = draft.finish(&d, &secrets, "vi", ok(), 0).err().unwrap();
        assert_eq!(e.to_string(), "#1's body was not changed");
        assert!(!path.exists());
        let draft = Draft::new(&d, &secrets).unwrap();
        let path = draft.path().to_path_buf();
        let e = draft.finish(&d, &secrets, "vi", Ok(None), 0).err().unwrap();
        assert!(matches!(e, NotSent::Stopped), "{e:?}");
        assert!(!path.exists());
        let e = Draft::new(&d, &secrets)
            .unwrap()
            .finish(
                &d,
                &secrets,
                "vi",
                Ok(Some(std::process::ExitStatus::from_raw(1 << 8))),
                0,
            )
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "the editor `vi` exited with status 1");
        // Edited: signed as a new message.
        let draft = Draft::new(&d, &secrets).unwrap();
        std::fs::write(draft.path(), b"{\"id\": \"evt_2\"}\n").unwrap();
        let now = d.received_at.unix_timestamp();
        let (edit, not_json) = draft.finish(&d, &secrets, "vi", ok(), now).unwrap();
        assert_eq!(
            (&edit.body[..], not_json),
            (&br#"{"id":"evt_2"}"#[..], None)
        );
        assert_ne!(edit.msg_id.as_deref(), Some("msg_d"));
        let verifier = crate::verify::Verifier::new(secrets, 300);
        assert!(matches!(
            verifier.verify(&edit.path, &edit.headers, &edit.body, now),
            crate::verify::Verdict::Verified(_)
        ));
    }
}
