//! The commands, one module each, and the signals that stop the long-running ones.

pub mod ecosire;
#[cfg(feature = "emulate")]
pub mod emulate;
pub mod exisone;
pub mod hardware;
pub mod offline;
pub mod watch;

/// Waits for Ctrl-C (or, on Unix, SIGTERM).
pub async fn signals() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
