//! The COPY path's pipeline: while a worker's batch is being written, a thread of its own, on a
//! connection of its own, reads and shreds the batch it will most likely claim next, so that the
//! server's writing of one batch overlaps with the reading and evaluating of the next.
//!
//! The documents read ahead are used only if they are the very row versions the batch's own
//! transaction sees: the batch compares each source row's (ctid, xmin) of its users with those
//! read ahead, in its snapshot. A row the application changed in between has a new version, and
//! the batch then reads its documents itself, as without the pipeline. A batch another process
//! claimed first is simply not used.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use postgres::{Client, GenericClient};

use super::shred::{Shred, shred_all};
use super::{CopyError, columns, documents};
use crate::ir::Plan;
use crate::source::SourceTable;

/// Every source row of some users, as `(user, ctid, xmin)`, sorted: equal lists mean the same
/// row versions, hence the same documents.
pub(crate) type Versions = Vec<(String, String, String)>;

/// A batch read and shredded ahead of its transaction, up to one chunk of its documents.
pub(crate) struct Prepared {
    pub(crate) batch: i64,
    pub(crate) users: Vec<String>,
    /// The users whose documents the shred holds: the first chunk's (all of a batch of one
    /// chunk, but for a document too large for the client). The batch reads the others itself.
    pub(crate) covered: Vec<String>,
    /// The row versions of the covered users.
    pub(crate) versions: Versions,
    /// `None` when a document stops the batch: its own transaction reads it again and fails
    /// with the usual words.
    pub(crate) shred: Option<Shred>,
}

/// The row versions of `users` in `c`'s snapshot.
pub(crate) fn versions(
    c: &mut impl GenericClient,
    plan: &Plan,
    users: &[String],
) -> Result<Versions, postgres::Error> {
    let sql = SourceTable::new(plan).row_versions(&plan.source.key_type);
    Ok(c.query(&sql, &[&users])?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// One worker's read-ahead: the thread it talks to and the batch being read.
pub(crate) struct Pipeline<'a> {
    requests: Sender<(i64, Vec<String>)>,
    results: Receiver<Prepared>,
    reading: Option<i64>,
    /// Batches read ahead or claimed by this process's workers, so two do not read the same.
    reserved: &'a Mutex<BTreeSet<i64>>,
}

impl<'a> Pipeline<'a> {
    /// Starts the read-ahead thread in `scope`, on a connection of its own to `url`; `None`
    /// when it cannot connect (the worker then reads each batch itself).
    pub(crate) fn start<'s>(
        scope: &'s std::thread::Scope<'s, '_>,
        url: &str,
        plan: &'s Plan,
        reserved: &'a Mutex<BTreeSet<i64>>,
        threads: usize,
    ) -> Option<Pipeline<'a>> {
        let mut client = crate::pg::connect(url).ok()?;
        let (requests, asked) = channel::<(i64, Vec<String>)>();
        let (answers, results) = channel();
        scope.spawn(move || {
            for (batch, users) in asked {
                let prepared = read_ahead(&mut client, plan, batch, users, threads);
                if answers.send(prepared).is_err() {
                    return;
                }
            }
        });
        Some(Pipeline {
            requests,
            results,
            reading: None,
            reserved,
        })
    }

    /// The batch being read ahead, which the worker should claim if it can.
    pub(crate) fn preferred(&self) -> Option<i64> {
        self.reading
    }

    /// Batches other workers of this process have read ahead or claimed: not to be claimed here.
    pub(crate) fn others(&self) -> Vec<i64> {
        self.lock()
            .iter()
            .copied()
            .filter(|&b| Some(b) != self.reading)
            .collect()
    }

    /// Marks `batch` as this worker's, and returns what was read ahead for it, if that was it
    /// (waiting for the read to finish). What was read for another batch is dropped.
    pub(crate) fn take(&mut self, batch: i64) -> Option<Prepared> {
        self.lock().insert(batch);
        let reading = self.reading.take()?;
        let prepared = self.results.recv().ok();
        if reading != batch {
            self.lock().remove(&reading);
            return None;
        }
        prepared.filter(|p| p.batch == batch)
    }

    /// Starts reading the next batch this worker will probably claim: the first pending one of
    /// `run` in order that no worker of this process has.
    pub(crate) fn read_next(&mut self, c: &mut impl GenericClient, a: &str, run: i64) {
        let taken: Vec<i64> = self.lock().iter().copied().collect();
        let sql = format!(
            "SELECT \"id\", \"user_ids\" FROM {a}.\"migration_batches\" \
              WHERE \"run_id\" = $1 AND \"status\" IN ('pending', 'running', 'failed') \
                AND \"id\" <> ALL ($2) ORDER BY \"seq\" LIMIT 1"
        );
        let Ok(Some(next)) = c.query_opt(&sql, &[&run, &taken]) else {
            return;
        };
        let (batch, users): (i64, Vec<String>) = (next.get(0), next.get(1));
        self.lock().insert(batch);
        if self.requests.send((batch, users)).is_ok() {
            self.reading = Some(batch);
        }
    }

    /// The batch is finished (committed or not): another worker may read or claim it.
    pub(crate) fn release(&self, batch: i64) {
        self.lock().remove(&batch);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<i64>> {
        self.reserved.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Reads the first chunk of `users`' documents and their row versions in one snapshot, and
/// shreds them: what is read ahead stays within one chunk, and a larger batch reads the rest in
/// its own transaction.
fn read_ahead(
    client: &mut Client,
    plan: &Plan,
    batch: i64,
    users: Vec<String>,
    threads: usize,
) -> Prepared {
    let mut prepared = Prepared {
        batch,
        users,
        covered: Vec::new(),
        versions: Vec::new(),
        shred: None,
    };
    let all = vec![true; plan.entities.len()];
    let cols: Vec<_> = plan.entities.iter().map(columns).collect();
    let (mut shred, mut covered) = (None, Vec::new());
    let read = (|| -> Result<Versions, postgres::Error> {
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let v = versions(&mut tx, plan, &prepared.users)?;
        // Stopped after the first chunk (or at a document that stops the batch, which its own
        // transaction then reads and reports): what ends the reading is not a failure.
        let _ = documents::in_chunks(&mut tx, plan, &prepared.users, |_, docs| {
            if shred.is_some() {
                return Err(CopyError::Data {
                    user: String::new(),
                    message: "one chunk is read ahead".into(),
                });
            }
            covered = docs.iter().map(|d| d.user.clone()).collect();
            shred = Some(shred_all(plan, &all, &cols, &docs, threads)?);
            Ok(())
        });
        tx.commit()?;
        Ok(v)
    })();
    // A failed read leaves nothing prepared; the batch reads its documents itself.
    if let (Ok(v), Some(s)) = (read, shred) {
        let set: BTreeSet<&String> = covered.iter().collect();
        prepared.versions = v.into_iter().filter(|r| set.contains(&r.0)).collect();
        prepared.covered = covered;
        prepared.shred = Some(s);
    }
    prepared
}
