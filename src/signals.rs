//! The signals that end a run: Ctrl-C (SIGINT) and SIGTERM, how people, scripts, CI runners
//! and `timeout` stop a process, and for the inspector SIGHUP, its terminal going away.

/// Which signal asked a run to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C, someone at the terminal (who can press it again).
    Interrupt,
    /// SIGTERM: a process manager, CI runner or `timeout(1)`, with nobody to press anything.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

impl Signal {
    /// How it is named to users: `Ctrl-C` (as it is mostly sent), `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// The exit status of a process it ended, as shells report one: 128 and its number.
    pub fn exit_status(self) -> u8 {
        match self {
            Signal::Hangup => 128 + 1,
            Signal::Interrupt => 128 + 2,
            Signal::Terminate => 128 + 15,
        }
    }
}

/// Completes when the process is asked to stop: SIGINT or SIGTERM, and SIGHUP when `hangup`.
/// Create it once and poll it from the start, so each handler is installed before it is
/// needed. A signal that cannot be watched never fires rather than firing at once.
///
/// Headless runs leave SIGHUP alone: one started under `nohup` is meant to outlive its
/// terminal, and installing a handler would undo that.
pub async fn stop_requested(hangup: bool) -> Signal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        async fn watch(kind: SignalKind) {
            match signal(kind) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
        let hup = async {
            if hangup {
                watch(SignalKind::hangup()).await
            } else {
                std::future::pending::<()>().await
            }
        };
        tokio::select! {
            () = watch(SignalKind::interrupt()) => Signal::Interrupt,
            () = watch(SignalKind::terminate()) => Signal::Terminate,
            () = hup => Signal::Hangup,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = hangup;
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        Signal::Interrupt
    }
}
