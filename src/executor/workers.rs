//! Worker connections claiming and running a run's batches in parallel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::ApplyOptions;
use super::batch::{Batch, claim_and_run};
use super::guard::Guard;
use super::report::{BadUser, RowCounts};
use super::sql;
use super::throttle::Throttle;
use crate::Error;
use crate::compiled::Compiled;

/// What the workers report as they go.
pub(super) enum Event {
    /// A batch committed.
    Done(Batch, RowCounts, Vec<BadUser>),
    /// Every worker waits for the standbys (why), or none does any more (None).
    Waiting(Option<String>),
}

/// A worker's report, or why it stopped (a failed batch is an [`Error::Batch`]); with the
/// worker's number.
type Message = (usize, Result<Event, Error>);

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
    mut on: impl FnMut(Event),
) -> Option<Error> {
    let stop = AtomicBool::new(false);
    let throttle = Throttle::new(opts);
    let (events, received) = mpsc::channel::<Message>();
    let mut failure = None;
    std::thread::scope(|s| {
        for worker in 0..opts.jobs.max(1) {
            let events = events.clone();
            let stop = &stop;
            let throttle = &throttle;
            s.spawn(move || {
                let mut client = match crate::pg::connect(url) {
                    Ok(c) => c,
                    Err(e) => {
                        stop.store(true, Ordering::SeqCst);
                        let _ = events.send((worker, Err(e)));
                        return;
                    }
                };
                // A signal lets the batch in flight finish, then no worker claims another.
                while !stop.load(Ordering::SeqCst) && !super::signals::stop_requested() {
                    let waited = throttle.before_batch(&mut client, |why| {
                        let _ = events.send((worker, Ok(Event::Waiting(why))));
                    });
                    let ran = waited.and_then(|()| {
                        if super::signals::stop_requested() {
                            return Ok(None);
                        }
                        claim_and_run(&mut client, files, q, guard, run, opts)
                    });
                    match ran {
                        Ok(None) => return,
                        Ok(Some((b, rows, bad))) => {
                            let n: i64 = rows.values().sum();
                            let _ = events.send((worker, Ok(Event::Done(b, rows, bad))));
                            throttle.after_batch(n);
                        }
                        Err(e) => {
                            stop.store(true, Ordering::SeqCst);
                            let _ = events.send((worker, Err(e)));
                            return;
                        }
                    }
                }
            });
        }
        drop(events);
        // Reported once when the first worker starts waiting and once when the last stops.
        let mut waiting = std::collections::BTreeSet::new();
        for (worker, event) in received {
            match event {
                Ok(Event::Waiting(Some(why))) => {
                    waiting.insert(worker);
                    on(Event::Waiting(Some(why)));
                }
                Ok(Event::Waiting(None)) => {
                    if waiting.remove(&worker) && waiting.is_empty() {
                        on(Event::Waiting(None));
                    }
                }
                Ok(done) => on(done),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
    });
    failure
}
