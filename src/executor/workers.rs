//! Worker connections claiming and running a run's batches in parallel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::ApplyOptions;
use super::batch::{Batch, claim_and_run};
use super::guard::Guard;
use super::report::{BadUser, RowCounts};
use super::sql;
use crate::Error;
use crate::compiled::Compiled;

/// What a worker reports: a batch committed, or why it stopped (a failed batch is an
/// [`Error::Batch`]).
type Event = Result<(Batch, RowCounts, Vec<BadUser>), Error>;

/// Runs the run's pending batches on `opts.jobs` connections; each worker claims the next batch
/// with `FOR UPDATE SKIP LOCKED` inside that batch's own transaction, so workers in this process,
/// or in `--join`ed processes elsewhere, never take the same batch. The first failure stops the
/// others from claiming more; it is returned.
pub(super) fn run_workers(
    url: &str,
    files: &Compiled,
    q: &sql::Queries,
    guard: &Guard,
    run: i64,
    opts: &ApplyOptions,
    mut done: impl FnMut(&Batch, &RowCounts, &[BadUser]),
) -> Option<Error> {
    let stop = AtomicBool::new(false);
    let (events, received) = mpsc::channel::<Event>();
    let mut failure = None;
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            let events = events.clone();
            let stop = &stop;
            s.spawn(move || {
                let mut client = match crate::pg::connect(url) {
                    Ok(c) => c,
                    Err(e) => {
                        stop.store(true, Ordering::SeqCst);
                        let _ = events.send(Err(e));
                        return;
                    }
                };
                // A signal lets the batch in flight finish, then no worker claims another.
                while !stop.load(Ordering::SeqCst) && !super::signals::stop_requested() {
                    match claim_and_run(&mut client, files, q, guard, run, opts) {
                        Ok(None) => return,
                        Ok(Some(done)) => {
                            let _ = events.send(Ok(done));
                        }
                        Err(e) => {
                            stop.store(true, Ordering::SeqCst);
                            let _ = events.send(Err(e));
                            return;
                        }
                    }
                }
            });
        }
        drop(events);
        for event in received {
            match event {
                Ok((b, rows, bad)) => done(&b, &rows, &bad),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
    });
    failure
}
