//! Worker connections claiming and running a run's batches in parallel.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use super::batch::claim_and_run;
use super::context::Ctx;
use super::copy::prefetch::Pipeline;
use super::report::{BadUser, RowCounts};
use super::sql::Batch;
use super::throttle::Throttle;
use super::write_path::WritePath;
use crate::Error;

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

/// Runs the run's pending batches on `opts.pace.jobs` connections; each worker claims the next batch
/// with `FOR UPDATE SKIP LOCKED` inside that batch's own transaction, so workers in this process,
/// or in `--join`ed processes elsewhere, never take the same batch. The first failure stops the
/// others from claiming more; it is returned.
pub(super) fn run_workers(
    url: &str,
    ctx: Ctx,
    path: &dyn WritePath,
    run: i64,
    mut on: impl FnMut(Event),
) -> Option<Error> {
    let opts = ctx.opts;
    let shared = Shared {
        url,
        ctx,
        path,
        run,
        stop: AtomicBool::new(false),
        throttle: Throttle::new(opts),
        reserved: Mutex::new(BTreeSet::new()),
    };
    // glibc gives each thread that allocates an arena of its own (up to 8 per core), and the
    // shredding threads' arenas each keep a batch's worth of freed memory: one arena per worker
    // holds a worker to about 44 MB instead of 50, at no measured cost in speed.
    // (Other allocators, as on macOS and musl, need no such limit.)
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable; called before the workers start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, opts.pace.jobs.max(1) as i32)
    };
    let (events, received) = mpsc::channel::<Message>();
    let mut failure = None;
    std::thread::scope(|s| {
        for worker in 0..opts.pace.jobs.max(1) {
            let events = events.clone();
            let shared = &shared;
            s.spawn(move || work(s, shared, worker, &events));
        }
        drop(events);
        // Reported once when the first worker starts waiting and once when the last stops.
        let mut waiting = BTreeSet::new();
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

/// What the workers of a run share.
struct Shared<'a> {
    url: &'a str,
    ctx: Ctx<'a>,
    path: &'a dyn WritePath,
    run: i64,
    /// Set by the first failure: no worker claims another batch.
    stop: AtomicBool,
    throttle: Throttle,
    /// Batches read ahead or claimed by a worker of this process.
    reserved: Mutex<BTreeSet<i64>>,
}

/// One worker: its connection, claiming and running batches until none is left, a failure, or
/// a signal.
fn work<'s>(
    s: &'s std::thread::Scope<'s, '_>,
    shared: &'s Shared<'s>,
    worker: usize,
    events: &mpsc::Sender<Message>,
) {
    let Shared { throttle, stop, .. } = shared;
    let fail = |e: Error| {
        stop.store(true, Ordering::SeqCst);
        let _ = events.send((worker, Err(e)));
    };
    let mut client = match crate::pg::connect(shared.url) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    // The COPY path reads the next batch ahead while this one is written.
    let mut pipeline = shared.path.reads_ahead().and_then(|(plan, threads)| {
        Pipeline::start(s, shared.url, plan, &shared.reserved, threads)
    });
    // A signal lets the batch in flight finish, then no worker claims another.
    while !stop.load(Ordering::SeqCst) && !super::signals::stop_requested() {
        let waited = throttle.before_batch(&mut client, |why| {
            let _ = events.send((worker, Ok(Event::Waiting(why))));
        });
        let ran = waited.and_then(|()| {
            if super::signals::stop_requested() {
                return Ok(None);
            }
            let Shared { ctx, path, run, .. } = shared;
            claim_and_run(&mut client, *ctx, *path, *run, pipeline.as_mut())
        });
        match ran {
            Ok(None) => return,
            Ok(Some((b, rows, bad))) => {
                if let Some(p) = &pipeline {
                    p.release(b.id);
                }
                let n: i64 = rows.values().sum();
                let _ = events.send((worker, Ok(Event::Done(b, rows, bad))));
                throttle.after_batch(n);
                // Each batch's documents are freed on several threads, whose glibc arenas keep
                // the memory otherwise: this holds a worker's footprint to about one batch.
                #[cfg(all(target_os = "linux", target_env = "gnu"))]
                // SAFETY: malloc_trim has no preconditions.
                unsafe {
                    libc::malloc_trim(0)
                };
            }
            Err(e) => return fail(e),
        }
    }
}
