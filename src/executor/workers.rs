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
    let throttle = Throttle::new(opts);
    let (events, received) = mpsc::channel::<Event>();
    let mut failure = None;
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            let events = events.clone();
            let stop = &stop;
            let throttle = &throttle;
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
                            let rows: i64 = done.1.values().sum();
                            let _ = events.send(Ok(done));
                            throttle.after_batch(rows);
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

/// `--max-rate` and `--pause-between`: after a batch commits, its worker waits until the rows
/// written so far by every worker fit the rate, and for the pause. Waits end early on a signal.
struct Throttle {
    rate: Option<f64>,
    pause: Option<std::time::Duration>,
    started: std::time::Instant,
    rows: std::sync::atomic::AtomicI64,
}

impl Throttle {
    fn new(opts: &ApplyOptions) -> Throttle {
        Throttle {
            rate: opts.max_rate,
            pause: opts.pause_between,
            started: std::time::Instant::now(),
            rows: std::sync::atomic::AtomicI64::new(0),
        }
    }

    fn after_batch(&self, rows: i64) {
        let total = self.rows.fetch_add(rows, Ordering::SeqCst) + rows;
        let mut wait = self.pause.unwrap_or_default();
        if let Some(rate) = self.rate {
            let due = std::time::Duration::from_secs_f64(total as f64 / rate);
            wait = wait.max(due.saturating_sub(self.started.elapsed()));
        }
        let until = std::time::Instant::now() + wait;
        while std::time::Instant::now() < until && !super::signals::stop_requested() {
            std::thread::sleep(
                (until - std::time::Instant::now()).min(std::time::Duration::from_millis(50)),
            );
        }
    }
}
