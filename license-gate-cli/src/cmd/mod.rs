//! The commands, one module each, and the signals that stop the long-running ones.

pub mod ecosire;
#[cfg(feature = "emulate")]
pub mod emulate;
pub mod exisone;
pub mod hardware;
pub mod offline;
pub mod secret;
pub mod watch;

/// Ctrl-C (and, on Unix, SIGTERM), listened for from the moment this is
/// made: made before a command prints that it is ready, so a signal sent
/// right after is never met by the default action (killing the process
/// before it cleans up).
pub struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Starts listening (inside a tokio runtime).
    pub fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Waits for the first signal.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let interrupt = async {
                match &mut self.interrupt {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            };
            let terminate = async {
                match &mut self.terminate {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
