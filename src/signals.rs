//! The signals that end a run: Ctrl-C (SIGINT) and SIGTERM, how people, scripts, CI runners
//! and `timeout` stop a process, and for the inspector SIGHUP, its terminal going away.

/// Completes when the process is asked to stop: SIGINT or SIGTERM, and SIGHUP when `hangup`.
/// Create it once and poll it from the start, so each handler is installed before it is
/// needed. A signal that cannot be watched never fires rather than firing at once.
///
/// Headless runs leave SIGHUP alone: one started under `nohup` is meant to outlive its
/// terminal, and installing a handler would undo that.
pub async fn stop_requested(hangup: bool) {
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
            () = watch(SignalKind::interrupt()) => {}
            () = watch(SignalKind::terminate()) => {}
            () = hup => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = hangup;
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
