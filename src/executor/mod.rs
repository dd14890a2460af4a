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
mod context;
pub(crate) mod copy;
mod dry_run;
mod failure;
pub mod guard;
mod judge;
mod options;
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
mod write_path;

use std::time::Instant;

use postgres::Client;

use crate::Error;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::versions::Versions;
use context::Ctx;
use failure::{first_line, record_failure};
use guard::Guard;
use planning::{plan_run, rework};
use report::merge;
use workers::{Event, run_workers};

pub use batch::mismatch_line;
pub use options::{ApplyOptions, Batches, Pace, Rework, Scope, Start, Writer};
pub use progress::{Bar, Lines, Quiet, Reporter, for_terminal};
pub use report::{BadUser, Report, RowCounts, Sample, render_report};
pub use rollback::{RollbackTarget, RolledBack, rollback};
pub use status::status;
pub use verify::{Check, Verdict, verify};

/// Applies the plan. `files` are the compiled scripts (as `codegen::render` returns them).
pub fn apply(
    plan: &Plan,
    files: &Compiled,
    url: &str,
    opts: &ApplyOptions,
    out: &mut dyn Reporter,
) -> Result<Report, Error> {
    let started = Instant::now();
    let phases = phases::Phases::default();
    let q = sql::Queries::new(plan);
    let mut client = crate::pg::connect(url)?;
    out.line(&format!("connected to {}", crate::pg::describe(url)));
    let node = guard::Node::of(&mut client)?;
    if opts.start != Start::Join {
        Guard::can_be_taken_here(node, &plan.name)?;
    }
    first_checks(&mut client, plan, &q, url, opts, out)?;
    // Joiners share a run the lock holder planned; batch claims keep them apart, and their
    // batches prove the leader's guard like the leader's own. A joiner that finds no leader
    // leads the unfinished run itself, unless it is on a Citus worker node, where none leads.
    let (guard, leads) = match node {
        guard::Node::Coordinator => (Guard::find(&mut client, &plan.name, node)?, false),
        guard::Node::Here => match Guard::take(&mut client, &plan.name) {
            Err(Error::Refused { .. }) if opts.start == Start::Join => {
                (Guard::find(&mut client, &plan.name, node)?, false)
            }
            taken => (taken?, true),
        },
    };
    // Decided before the schema changes, so a refused run leaves the database as it was.
    let versions = Versions::compiled(plan, files);
    let work = match opts.scope() {
        Some(Scope::Next { .. } | Scope::Quarantined { .. }) => {
            rework(&mut client, plan, &q, &versions, opts, out)?
        }
        Some(Scope::Users(_)) | None => Vec::new(),
    };
    target_schema(&mut client, plan, files, &q, opts, out)?;
    let ctx = Ctx {
        plan,
        files,
        q: &q,
        opts,
        guard: &guard,
        versions: &versions,
        phases: &phases,
    };
    if opts.dry_run() {
        let mut report = dry_run::run(&mut client, ctx, &work, out)?;
        report.elapsed = started.elapsed();
        return Ok(report);
    }
    // An unfinished run is refused by the planning, in its own words.
    if opts.writer == Writer::Bulk && q.unfinished_run(&mut client, &plan.name)?.is_none() {
        bulk::check_empty(&mut client, plan, &q)?;
    }
    let planned = plan_run(&mut client, ctx, &work, out)?;
    let Some(planned) = planned else {
        return Ok(Report {
            elapsed: started.elapsed(),
            ..Report::default()
        });
    };
    let run = planned.0;
    if opts.writer == Writer::Bulk {
        bulk::defer(&mut client, plan, &q, run, &opts.batches.lock_timeout, out)?;
    }
    // The mode is the run's: a resumed or joined --bulk run stays one.
    let opts = &in_run_mode(&mut client, &q, run, opts)?;
    let ctx = Ctx { opts, ..ctx };
    let path = write_path::for_writer(
        opts.writer,
        files,
        copy::Shredding {
            threads: copy::shred::threads_per_worker(opts.pace.jobs),
            phases: &phases,
        },
    );
    let (mut report, failure) = run_batches(url, ctx, &*path, planned, out);
    if let Some(e) = failure {
        return Err(stopped(&mut client, &q, run, report.batches, e));
    }
    stop_if_interrupted(&mut client, &q, plan, run, planned.1)?;
    // The guard stays until the batches joiners claimed have ended: one claimed as this
    // process's workers ran out of batches would otherwise fail its proof once the guard left.
    if leads {
        q.wait_for_claimed_batches(&mut client, run)?;
    }
    if opts.writer == Writer::Bulk && leads {
        bulk::restore(
            &mut client,
            &plan.name,
            &q,
            run,
            &opts.batches.lock_timeout,
            &phases,
            out,
        )?;
    }
    finish_run(&mut client, &q, &guard, run)?;
    report.elapsed = started.elapsed();
    report.phases = phases.totals();
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
    if opts.create_schema && !opts.dry_run() {
        schema::apply(client, plan, files, &opts.batches.lock_timeout, out)?;
    }
    preflight::check_targets(client, plan, q, opts.create_schema && opts.dry_run())
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
    if let Some(max) = opts.pace.max_replica_lag {
        throttle::check_replicas(client, max, out)?;
    }
    Ok(())
}

/// The options for the batches of run `run`: a run with indexes and keys still deferred is a
/// --bulk run, whoever resumes or joins it (see [`Writer::Bulk`]).
fn in_run_mode(
    client: &mut Client,
    q: &sql::Queries,
    run: i64,
    opts: &ApplyOptions,
) -> Result<ApplyOptions, Error> {
    let deferred = !bulk::pending(client, q, run)?.is_empty();
    Ok(ApplyOptions {
        writer: match (deferred, opts.writer) {
            (true, _) => Writer::Bulk,
            // Everything restored: batches left (after a restore that failed on a key) are
            // written as plain COPY batches, with every index in place.
            (false, Writer::Bulk) => Writer::Copy,
            (false, w) => w,
        },
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
fn run_batches(
    url: &str,
    ctx: Ctx,
    path: &dyn write_path::WritePath,
    (run, batches, users): (i64, usize, usize),
    out: &mut dyn Reporter,
) -> (Report, Option<Error>) {
    let mut report = Report {
        run: Some(run),
        ..Report::default()
    };
    out.start(users, batches);
    let failure = run_workers(url, ctx, path, run, |event| {
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
