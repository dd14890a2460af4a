//! The executor: applies a compiled plan to a real database, batch by batch.
//!
//! One batch is one transaction: `SET LOCAL` timeouts, the batch settings, the rows written (by
//! binary COPY of what the evaluator makes of the documents, or by `03_forward.sql`), the judge
//! `04_verify.sql`, and the ledger update marking the batch done. A failure anywhere rolls the whole
//! batch back. Progress lives in the ledger tables, so a killed run resumes without duplicates, and
//! a session advisory lock per plan keeps two executors apart.
//!
//! The executor runs the compiled scripts as they are; the few statements of its own (catalog
//! checks, ledger calls) live in [`sql`], with every identifier quoted by [`crate::ident`].

mod batch;
mod bulk;
pub(crate) mod copy;
mod dry_run;
mod failure;
pub mod guard;
mod phases;
mod planning;
mod preflight;
mod progress;
mod report;
mod rollback;
pub mod runbook;
mod schema;
pub mod signals;
pub mod sql;
mod status;
mod throttle;
mod verify;
mod workers;

use std::time::Instant;

use postgres::Client;

use crate::Error;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::versions::Versions;
use failure::{first_line, record_failure};
use guard::Guard;
use planning::{Planner, plan_run, rework};
use report::merge;
use workers::{Event, run_workers};

pub use batch::mismatch_line;
pub use progress::{Bar, Lines, Quiet, Reporter, for_terminal};
pub use report::{BadUser, Report, RowCounts, Sample, render_report};
pub use rollback::{RollbackTarget, RolledBack, rollback};
pub use status::status;
pub use verify::{Check, Verdict, verify};

/// What `pgshred apply` was asked to do.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Users per batch, at least 1 (the CLI and the plan's schema see to it).
    pub batch_size: i32,
    /// At most this many users in all (the next ones not yet migrated).
    pub limit: Option<usize>,
    /// Only these users (migrated or not).
    pub users: Vec<String>,
    pub dry_run: bool,
    pub resume: bool,
    pub create_schema: bool,
    pub allow_duplicates: bool,
    pub lock_timeout: String,
    pub statement_timeout: String,
    /// Worker connections claiming batches in parallel.
    pub jobs: usize,
    /// Help with another process's unfinished run instead of starting one (no lock, no planning).
    pub join: bool,
    /// Users whose documents fail may be set aside (quarantined) up to this many per run; 0 stops
    /// at the first failing batch.
    pub max_bad_users: usize,
    /// Take the quarantined users (and only them) again.
    pub retry_quarantined: bool,
    /// Entities whose changed mapping may be re-applied to users migrated with an older one
    /// (with every entity below them).
    pub remap: Vec<String>,
    /// Also re-migrate users whose source row changed (or disappeared) since they were migrated.
    pub sync: bool,
    /// How a batch's rows are written.
    pub engine: Engine,
    /// At most this many rows per second over the run, all workers together.
    pub max_rate: Option<f64>,
    /// A pause after each committed batch.
    pub pause_between: Option<std::time::Duration>,
    /// No batch is claimed while a standby's replay lag exceeds this.
    pub max_replica_lag: Option<std::time::Duration>,
    /// An initial load: the target tables' secondary indexes, unique keys and foreign keys are
    /// dropped before the first batch and restored after the last.
    pub bulk: bool,
}

/// How a batch's rows are written: by the evaluator in Rust and binary COPY (the default), or by
/// `03_forward.sql` (set-based SQL in the server). Whichever writes them, `04_verify.sql` judges
/// the batch before it commits (see `batch::forward_and_verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Engine {
    Sql,
    #[default]
    Copy,
    /// `copy` in a --bulk run: the user_id indexes are deferred, so `04_verify.sql` judges each
    /// batch per entity against the rows its COPY wrote, as the server counted them. The tables
    /// had no rows of the batch's users, so those counts are the rows present.
    #[value(skip)]
    CopyBulk,
}

/// Applies the plan. `files` are the compiled scripts (as `codegen::render` returns them).
pub fn apply(
    plan: &Plan,
    files: &Compiled,
    url: &str,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<Report, Error> {
    let started = Instant::now();
    let timed = phases::snapshot();
    let q = sql::Queries::new(plan);
    let mut client = crate::pg::connect(url)?;
    out.line(&format!("connected to {}", crate::pg::describe(url)));
    first_checks(&mut client, plan, &q, url, opts, out)?;
    // Joiners share a run the lock holder planned; batch claims keep them apart, and their
    // batches prove the leader's guard like the leader's own. A joiner that finds no leader
    // leads the unfinished run itself.
    let (guard, leads) = match Guard::take(&mut client, &plan.name) {
        Err(Error::Refused { .. }) if opts.join => (Guard::find(&mut client, &plan.name)?, false),
        taken => (taken?, true),
    };
    // Decided before the schema changes, so a refused run leaves the database as it was.
    let versions = Versions::compiled(plan, files);
    let work = if opts.resume || opts.join || !opts.users.is_empty() {
        Vec::new()
    } else {
        rework(&mut client, plan, &q, &versions, opts, out)?
    };
    target_schema(&mut client, plan, files, &q, opts, out)?;
    let sum = files.checksum();

    if opts.dry_run {
        let dry = dry_run::Dry {
            plan,
            files,
            q: &q,
            opts,
            guard: &guard,
        };
        let mut report = dry_run::run(&mut client, dry, &work, out)?;
        report.elapsed = started.elapsed();
        return Ok(report);
    }
    let planner = Planner {
        plan,
        q: &q,
        versions: &versions,
        opts,
        sum: &sum,
    };
    // An unfinished run is refused by the planning, in its own words.
    if opts.bulk && q.unfinished_run(&mut client, &plan.name)?.is_none() {
        bulk::check_empty(&mut client, plan, &q)?;
    }
    let planned = plan_run(&mut client, planner, &work, out)?;
    let Some(planned) = planned else {
        return Ok(Report {
            elapsed: started.elapsed(),
            ..Report::default()
        });
    };
    let run = planned.0;
    if opts.bulk {
        bulk::defer(&mut client, plan, &q, run, &opts.lock_timeout, out)?;
    }
    // The mode is the run's: a resumed or joined --bulk run stays one.
    let opts = &in_run_mode(&mut client, &q, run, opts)?;
    let (mut report, failure) = run_batches(url, files, &q, &guard, planned, opts, out);
    if let Some(e) = failure {
        return Err(stopped(&mut client, &q, run, report.batches, e));
    }
    stop_if_interrupted(&mut client, &q, plan, run, planned.1)?;
    if opts.bulk && leads {
        bulk::restore(&mut client, &plan.name, &q, run, &opts.lock_timeout, out)?;
    }
    finish_run(&mut client, &q, &guard, run)?;
    report.elapsed = started.elapsed();
    report.phases = phases::since(&timed);
    Ok(report)
}

/// `--create-schema` (in a dry run, each batch creates it again and rolls it back), then the
/// target and ledger tables as the batches need them.
fn target_schema(
    client: &mut Client,
    plan: &Plan,
    files: &Compiled,
    q: &sql::Queries,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    if opts.create_schema {
        preflight::check_owner_expression(client, plan)?;
    }
    if opts.create_schema && !opts.dry_run {
        schema::apply(client, plan, files, &opts.lock_timeout, out)?;
    }
    preflight::check_targets(client, plan, q, opts.create_schema && opts.dry_run)
}

/// What is checked before anything else: the connection, the source, the standbys.
fn first_checks(
    client: &mut Client,
    plan: &Plan,
    q: &sql::Queries,
    url: &str,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    preflight::refuse_transaction_pooler(url)?;
    preflight::check_source(client, plan, q, opts.allow_duplicates, out)?;
    if let Some(max) = opts.max_replica_lag {
        throttle::check_replicas(client, max, out)?;
    }
    Ok(())
}

/// The options for the batches of run `run`: in a --bulk run (indexes and keys still deferred),
/// rows are written with COPY and `04_verify.sql` judges each batch per entity against the rows
/// the server says its COPY wrote, as the per-user count needs the indexes that are not there.
fn in_run_mode(
    client: &mut Client,
    q: &sql::Queries,
    run: i64,
    opts: &ApplyOptions,
) -> Result<ApplyOptions, Error> {
    let bulk = !bulk::pending(client, q, run)?.is_empty();
    Ok(ApplyOptions {
        bulk,
        engine: if bulk { Engine::CopyBulk } else { opts.engine },
        ..opts.clone()
    })
}

/// Marks the run finished, every batch committed.
fn finish_run(client: &mut Client, q: &sql::Queries, guard: &Guard, run: i64) -> Result<(), Error> {
    q.finish_run(client, run).map_err(|e| {
        // The guard's own session is gone: every batch committed, but the run stays for a
        // `--resume` (with nothing left to do) to close.
        if client.is_closed() {
            guard.lost(run)
        } else {
            e
        }
    })
}

/// After a signal, a run with batches left stops here, resumable, instead of being finished.
fn stop_if_interrupted(
    client: &mut Client,
    q: &sql::Queries,
    plan: &Plan,
    run: i64,
    batches: usize,
) -> Result<(), Error> {
    if !signals::stop_requested() {
        return Ok(());
    }
    let done = q.count_done(client, run)?;
    if done < batches {
        q.stop_run(client, run)?;
        return Err(Error::Interrupted {
            plan: plan.name.clone(),
            run,
            done: done as i64,
            batches: batches as i64,
            deferred: 0,
        });
    }
    Ok(())
}

/// The run's batches on the workers, reported as they commit; the report, and the error the
/// run stopped with if it did.
#[allow(clippy::too_many_arguments)] // what apply prepared
fn run_batches(
    url: &str,
    files: &Compiled,
    q: &sql::Queries,
    guard: &Guard,
    (run, batches, users): (i64, usize, usize),
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> (Report, Option<Error>) {
    let mut report = Report {
        run: Some(run),
        ..Report::default()
    };
    out.start(users, batches);
    let failure = run_workers(url, files, q, guard, run, opts, |event| {
        let (b, rows, bad) = match event {
            Event::Waiting(why) => return out.waiting(why.as_deref()),
            Event::Done(b, rows, bad) => (b, rows, bad),
        };
        merge(&mut report.rows, &rows);
        report.batches += 1;
        report.users += b.users.len() - bad.len();
        for u in &bad {
            let who = crate::ids::shown_user(&u.user);
            out.line(&format!("quarantined user {who}: {}", u.message));
        }
        report.quarantined.extend(bad);
        out.batch_done(Some(b.id), b.seq, b.users.len(), &rows);
    });
    out.finish();
    (report, failure)
}

/// The error a run stops with, once the failed batch (if a batch failed) is recorded. The batch
/// rolled back with its transaction whatever happens here; when the server is gone (a crash, a
/// restart) the ledger cannot hear of it, and the batch simply stays pending for --resume.
fn stopped(client: &mut Client, q: &sql::Queries, run: i64, done_here: usize, e: Error) -> Error {
    let Error::Batch(mut f) = e else {
        return e;
    };
    match record_failure(client, q, &f).and_then(|()| q.count_done(client, run)) {
        Ok(n) => f.committed = n,
        Err(e) => {
            f.committed = done_here;
            f.hint = Some(format!(
                "{}the failure could not be recorded in the ledger ({}); the batch stays pending, and --resume runs it again once the server is back",
                f.hint.take().map(|h| format!("{h}; ")).unwrap_or_default(),
                first_line(&e.to_string())
            ));
        }
    }
    Error::Batch(f)
}
