//! Group commit: concurrent appends share one write and one `fdatasync`.
//!
//! Each append encodes its batch into the open group under the lock, then waits until that
//! group is durable. Whoever finds no sync in flight becomes the leader: it closes the open
//! group (swapping the buffer out), writes and syncs it with the lock released, and wakes
//! everyone. Appends arriving meanwhile fill the next group, which the first of them to wake
//! leads. One leader at a time, groups in order: the file is always a prefix of the chain.

use std::io::Write as _;
use std::sync::{Arc, MutexGuard};

use super::{Inner, Shared, Snapshot};
use crate::chain::Head;
use crate::event::PendingEvent;
use crate::sink::SinkError;

impl Shared {
    fn lock(&self) -> Result<MutexGuard<'_, Inner>, SinkError> {
        self.inner.lock().map_err(|_| SinkError::Internal)
    }

    /// Appends `batch` and returns once it is durable.
    pub(super) fn append(&self, batch: Vec<PendingEvent>) -> Result<Head, SinkError> {
        let mut inner = self.lock()?;
        if inner.poisoned {
            return Err(SinkError::Poisoned);
        }
        if batch.is_empty() {
            return Ok(inner.durable.head);
        }
        let inner_ref = &mut *inner;
        for pending in batch {
            inner_ref.writer.append(pending, &mut inner_ref.pending);
        }
        inner_ref.writer.checkpoint_if_due(&mut inner_ref.pending);
        inner_ref.open_snapshot = Snapshot {
            head: inner_ref.writer.head(),
            checkpoint: inner_ref.writer.last_checkpoint().cloned(),
        };
        let group = inner.open_group;
        let head = inner.open_snapshot.head;
        loop {
            if inner.durable_group >= group {
                return Ok(head);
            }
            if inner.poisoned {
                return Err(SinkError::Poisoned);
            }
            if inner.syncing {
                inner = self
                    .committed
                    .wait(inner)
                    .map_err(|_| SinkError::Internal)?;
                continue;
            }
            inner = self.lead(inner)?;
        }
    }

    /// Writes and syncs the open group as its leader, then publishes it and wakes waiters.
    fn lead<'a>(
        &'a self,
        mut inner: MutexGuard<'a, Inner>,
    ) -> Result<MutexGuard<'a, Inner>, SinkError> {
        let group = inner.open_group;
        inner.open_group += 1;
        inner.syncing = true;
        let mut buf = std::mem::take(&mut inner.spare);
        std::mem::swap(&mut buf, &mut inner.pending);
        let snapshot = inner.open_snapshot.clone();
        let file = Arc::clone(&inner.file);
        drop(inner);

        // The lock is free: the next group fills while this one reaches the disk.
        let written = (&*file).write_all(&buf).and_then(|()| file.sync_data());

        let mut inner = self.lock()?;
        inner.syncing = false;
        let result = match written {
            Ok(()) => {
                inner.durable_group = group;
                inner.durable = snapshot;
                inner.file_len += buf.len() as u64;
                if inner.file_len >= inner.max_file_bytes {
                    inner.rotate()
                } else {
                    Ok(())
                }
            }
            Err(e) => {
                inner.poisoned = true;
                Err(SinkError::backend(e))
            }
        };
        buf.clear();
        inner.spare = buf;
        self.committed.notify_all();
        result.map(|()| inner)
    }
}
