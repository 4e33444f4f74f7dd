//! The small runtime a gate starts for itself when the application has none
//! (a plain `fn main`): one thread, one current-thread tokio runtime.

use tokio::sync::oneshot;

use crate::error::GateError;

/// A one-thread tokio runtime that the gate starts for itself when the
/// application has none.
#[derive(Debug)]
pub(crate) struct OwnRuntime {
    pub(crate) handle: tokio::runtime::Handle,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl OwnRuntime {
    pub(crate) fn spawn() -> Result<OwnRuntime, GateError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("license-gate")
            .build()
            .map_err(|e| GateError::OwnRuntime {
                what: "runtime",
                detail: e.to_string(),
            })?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("license-gate".to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| GateError::OwnRuntime {
                what: "thread",
                detail: e.to_string(),
            })?;
        Ok(OwnRuntime {
            handle,
            stop,
            thread,
        })
    }

    pub(crate) fn stop(self) {
        let _ = self.stop.send(());
        if self.thread.thread().id() != std::thread::current().id() {
            let _ = self.thread.join();
        }
    }
}
