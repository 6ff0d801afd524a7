//! Asking a run to stop (Ctrl-C, SIGTERM, a station's stop button): the run
//! ends cleanly at its next await, through the session's ending.

use tokio::sync::watch;

/// Asks a run to stop; the run ends cleanly at the next await.
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

#[derive(Debug)]
pub struct CancelHandle(watch::Sender<bool>);

impl CancelHandle {
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}

pub fn cancel_pair() -> (CancelHandle, Cancel) {
    let (tx, rx) = watch::channel(false);
    (CancelHandle(tx), Cancel(rx))
}

impl Cancel {
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        Cancel(rx)
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    pub(crate) async fn cancelled(&mut self) {
        if self.is_cancelled() {
            return;
        }
        while self.0.changed().await.is_ok() {
            if *self.0.borrow() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}
