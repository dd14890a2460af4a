//! `apply --dry-run`: the batches a run would plan, each run in a transaction that is rolled back.

use postgres::{Client, Transaction};
use serde_json::{Value, json};

use super::batch::{Batch, Writing, begin, isolate, run_part, too_many_bad};
use super::failure::{Problem, failure_from};
use super::guard::Guard;
use super::planning::{listed_users, run_users};
use super::progress::Reporter;
use super::report::{BadUser, Report, RowCounts, Sample, merge};
use super::sql::{NewRun, RunUsers};
use super::{ApplyOptions, schema, sql};
use crate::Error;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::pg::Context;
use crate::versions::Versions;

/// What a dry run works from.
#[derive(Clone, Copy)]
pub(super) struct Dry<'a> {
    pub(super) plan: &'a Plan,
    pub(super) files: &'a Compiled,
    pub(super) q: &'a sql::Queries,
    pub(super) opts: &'a ApplyOptions,
    pub(super) guard: &'a Guard,
    pub(super) phases: &'a super::phases::Phases,
}

/// Runs the batches a run would plan (re-migrations and backfills first, then new users), each
/// through the steps of a real batch (the guard's proof, the writer, the judge, the isolation of
/// bad users with `--max-bad-users`) in a transaction that is rolled back.
pub(super) fn run(
    client: &mut Client,
    dry: Dry,
    work: &[sql::Rework],
    out: &mut dyn Reporter,
) -> Result<Report, Error> {
    let mut report = Report {
        dry_run: true,
        ..Report::default()
    };
    let batches = planned(client, dry, work)?;
    let total: usize = batches.iter().map(|(b, ..)| b.users.len()).sum();
    out.start(total, batches.len());
    for (b, entities, replace) in &batches {
        let (rows, samples, bad) = dry_batch(client, dry, b, entities, *replace)?;
        merge(&mut report.rows, &rows);
        if report.samples.is_empty() {
            report.samples = samples;
        }
        report.batches += 1;
        report.users += b.users.len() - bad.len();
        for (user, p) in &bad {
            let who = crate::ids::shown_user(user);
            out.line(&format!("would quarantine user {who}: {}", p.message));
        }
        let so_far = report.quarantined.len() + bad.len();
        if so_far > dry.opts.batches.max_bad_users {
            return Err(too_many_bad(
                None,
                b,
                &bad,
                dry.opts.batches.max_bad_users,
                so_far as i64,
            ));
        }
        report
            .quarantined
            .extend(bad.into_iter().map(|(user, p)| BadUser {
                user,
                message: p.message,
            }));
        out.batch_done(None, b.seq, b.users.len(), &rows);
    }
    out.finish();
    Ok(report)
}

/// A batch failure, as a dry run reports it.
fn as_dry(e: Error) -> Error {
    match e {
        Error::Batch(mut f) => {
            f.dry_run = true;
            Error::Batch(f)
        }
        e => e,
    }
}

/// The batches a run would plan, planned as a run plans them (`plan_batches` of 02_audit.sql)
/// in a transaction that is rolled back.
fn planned(
    client: &mut Client,
    dry: Dry,
    work: &[sql::Rework],
) -> Result<Vec<(Batch, Value, bool)>, Error> {
    let Dry { files, q, opts, .. } = dry;
    let mut tx = dry_transaction(client, files, opts, "planning a dry run")?;
    let listed = listed_users(&mut tx, q, opts)?;
    let run = start_dry_run(&mut tx, dry, run_users(opts, work, &listed))?;
    let batches = q.run_batches(&mut tx, run)?;
    tx.rollback().context("rolling back a dry run's plan")?;
    Ok(batches)
}

/// What a dry-run batch would write: its rows, sample ids, and the users set aside.
type DryBatch = (RowCounts, Vec<Sample>, Vec<(String, Problem)>);

/// A dry-run batch: a real batch's steps in a transaction that is always rolled back; its rows,
/// sample ids and the users `--max-bad-users` would set aside.
fn dry_batch(
    client: &mut Client,
    dry: Dry,
    b: &Batch,
    entities: &Value,
    replace: bool,
) -> Result<DryBatch, Error> {
    let Dry {
        files,
        q,
        opts,
        guard,
        phases,
        ..
    } = dry;
    let w = Writing {
        files,
        writer: opts.writer,
        shredding: super::copy::Shredding {
            threads: super::copy::shred::threads_per_worker(1),
            phases,
        },
    };
    let mut tx = dry_transaction(client, files, opts, "starting a dry-run batch")?;
    let run = start_dry_run(&mut tx, dry, RunUsers::Listed(&[]))?;
    let batch = q.add_batch(&mut tx, run, &b.users, Some(entities), replace)?;
    let as_batch = Batch {
        id: batch,
        ..b.clone()
    };
    let fail = |e: postgres::Error| as_dry(Error::Batch(Box::new(failure_from(&e, 0, &as_batch))));
    let (started, proven) = begin(&mut tx, opts, guard, run, batch, &b.users).map_err(fail)?;
    if !proven {
        return Err(guard.lost(0));
    }
    let mut bad = Vec::new();
    if opts.batches.max_bad_users == 0 {
        run_part(&mut tx, &w, &as_batch, None)
            .map_err(|p| as_dry(Error::Batch(Box::new(p.into_failure(0, &as_batch)))))?;
    } else {
        isolate(&mut tx, &w, &as_batch, &b.users, &mut bad, None).map_err(fail)?;
    }
    let rows = q.finish_batch(&mut tx, batch, started).map_err(fail)?;
    let samples = q.samples(&mut tx, batch)?;
    tx.rollback().context("rolling back a dry-run batch")?;
    Ok((rows, samples, bad))
}

/// A transaction to be rolled back, with the schema in it when `--create-schema` asks for it (so
/// a dry run leaves the database as it was).
fn dry_transaction<'c>(
    client: &'c mut Client,
    files: &Compiled,
    opts: &ApplyOptions,
    doing: &'static str,
) -> Result<Transaction<'c>, Error> {
    let mut tx = client.transaction().context(doing)?;
    if opts.create_schema {
        schema::run_scripts(&mut tx, files, &opts.batches.lock_timeout)?;
    }
    Ok(tx)
}

/// A run of a dry run, in its transaction.
fn start_dry_run(tx: &mut Transaction, dry: Dry, users: RunUsers) -> Result<i64, Error> {
    let Dry {
        plan,
        files,
        q,
        opts,
        ..
    } = dry;
    let versions = Versions::compiled(plan, files).map(None);
    q.start_run_in(
        tx,
        &NewRun {
            plan: &plan.name,
            checksum: &files.checksum(),
            options: &json!({"dry_run": true}),
            size: opts.batches.size,
            versions: &versions,
            users,
        },
    )
}
