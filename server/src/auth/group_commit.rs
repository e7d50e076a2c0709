//! Group commit: a writer task takes every write request waiting at that
//! moment (up to a limit) and stores them with one statement. Under load,
//! one write per request becomes one per batch; alone, a request is written
//! at once. On SQLite this matters most: every statement is a hand-off to the
//! one writer connection, and each commit appends its pages to the WAL. Reads
//! on a hot path batch the same way (the refresh's token look-up): on
//! PostgreSQL every statement costs a round trip and a backend's wake-up.
//!
//! A request carries its own reply channel; the write function answers it.

use std::future::Future;

use tokio::sync::mpsc;

pub struct GroupCommit<T> {
    queue: mpsc::UnboundedSender<T>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        GroupCommit {
            queue: self.queue.clone(),
        }
    }
}

impl<T: Send + 'static> GroupCommit<T> {
    /// Starts the writer task (call within the Tokio runtime). It runs
    /// `write` on each batch until every handle is dropped.
    pub fn start<F, Fut>(max_batch: usize, mut write: F) -> Self
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        let (queue, mut waiting) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(max_batch);
            while waiting.recv_many(&mut batch, max_batch).await > 0 {
                write(std::mem::replace(&mut batch, Vec::with_capacity(max_batch))).await;
            }
        });
        GroupCommit { queue }
    }

    /// Queues a request; gives it back when the writer has stopped (only
    /// while the runtime shuts down).
    pub fn submit(&self, request: T) -> Result<(), T> {
        self.queue.send(request).map_err(|e| e.0)
    }
}

/// Serves each request of a batch whose one statement failed on its own, all
/// at once: each gets its own answer, and while the database is down each
/// waits for one timeout, not for one per request ahead of it.
pub async fn each_alone<T, F, Fut>(batch: Vec<T>, serve: F)
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut alone = tokio::task::JoinSet::new();
    for request in batch {
        alone.spawn(serve(request));
    }
    alone.join_all().await;
}
