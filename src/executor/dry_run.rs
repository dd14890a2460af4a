//! `apply --dry-run`: the batches a run would plan, each run in a transaction that is rolled back.

use postgres::Client;
use serde_json::{Value, json};

use super::batch::{Batch, begin, failure_from, forward_and_verify};
use super::guard::Guard;
use super::planning::{listed_users, run_users};
use super::progress::Reporter;
use super::report::{Report, RowCounts, Sample, merge};
use super::sql::{NewRun, RunUsers};
use super::{ApplyOptions, schema, sql};
use crate::Error;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::pg::Context;
use crate::versions::Versions;

/// Runs the batches a run would plan (re-migrations and backfills first, then new users), each in
/// a transaction that is rolled back.
#[allow(clippy::too_many_arguments)] // what apply prepared
pub(super) fn run(
    client: &mut Client,
    plan: &Plan,
    files: &Compiled,
    q: &sql::Queries,
    opts: &ApplyOptions,
    guard: &Guard,
    work: &[sql::Rework],
    out: &mut dyn Reporter,
) -> Result<Report, Error> {
    let mut report = Report {
        dry_run: true,
        ..Report::default()
    };
    let batches = planned(client, plan, files, q, opts, work)?;
    let total: usize = batches.iter().map(|(b, ..)| b.users.len()).sum();
    out.start(total, batches.len());
    for (b, entities, replace) in &batches {
        let (rows, samples) =
            dry_batch(client, plan, files, q, opts, guard, b, entities, *replace)?;
        merge(&mut report.rows, &rows);
        if report.samples.is_empty() {
            report.samples = samples;
        }
        report.batches += 1;
        report.users += b.users.len();
        out.batch_done(b.seq, b.users.len(), &rows);
    }
    out.finish();
    Ok(report)
}

/// The batches a run would plan, planned as a run plans them (`plan_batches` of 02_audit.sql)
/// in a transaction that is rolled back.
fn planned(
    client: &mut Client,
    plan: &Plan,
    files: &Compiled,
    q: &sql::Queries,
    opts: &ApplyOptions,
    work: &[sql::Rework],
) -> Result<Vec<(Batch, Value, bool)>, Error> {
    let mut tx = client.transaction().context("planning a dry run")?;
    if opts.create_schema {
        schema::run_scripts(&mut tx, files, &opts.lock_timeout)?;
    }
    let listed = listed_users(&mut tx, plan, q, opts)?;
    let versions = Versions::compiled(plan, files).map(None);
    let new = NewRun {
        plan: &plan.name,
        checksum: &files.checksum(),
        options: &json!({"dry_run": true}),
        size: opts.batch_size,
        versions: &versions,
        users: run_users(opts, work, &listed),
    };
    let run = q.start_run_in(&mut tx, &new)?;
    let batches = q.run_batches(&mut tx, run)?;
    tx.rollback().context("rolling back a dry run's plan")?;
    Ok(batches)
}

/// A dry-run batch: the same work in a transaction that is always rolled back.
#[allow(clippy::too_many_arguments)] // the batch, and what it runs
pub(super) fn dry_batch(
    client: &mut Client,
    plan: &Plan,
    files: &Compiled,
    q: &sql::Queries,
    opts: &ApplyOptions,
    guard: &Guard,
    b: &Batch,
    entities: &Value,
    replace: bool,
) -> Result<(RowCounts, Vec<Sample>), Error> {
    let mut tx = client.transaction().context("starting a dry-run batch")?;
    if opts.create_schema {
        // Created and rolled back with the batch, so a dry run leaves the database as it was.
        schema::run_scripts(&mut tx, files, &opts.lock_timeout)?;
    }
    let versions = Versions::compiled(plan, files).map(None);
    let new = NewRun {
        plan: &plan.name,
        checksum: &files.checksum(),
        options: &json!({"dry_run": true}),
        size: opts.batch_size,
        versions: &versions,
        users: RunUsers::Listed(&[]),
    };
    let run = q.start_run_in(&mut tx, &new)?;
    let batch = q.add_batch(&mut tx, run, &b.users, Some(entities), replace)?;
    let as_batch = Batch {
        id: batch,
        ..b.clone()
    };
    let fail = |e: postgres::Error| Error::Batch(Box::new(failure_from(&e, 0, &as_batch)));
    let (started, _) = begin(&mut tx, opts, guard, run, batch, &b.users).map_err(fail)?;
    let mismatches = forward_and_verify(&mut tx, files, b).map_err(fail)?;
    if !mismatches.is_empty() {
        return Err(Error::Verification(mismatches));
    }
    let rows = q.finish_batch(&mut tx, batch, started).map_err(fail)?;
    let samples = q.samples(&mut tx, batch)?;
    tx.rollback().context("rolling back a dry-run batch")?;
    Ok((rows, samples))
}
