//! `apply --dry-run`: the batches a run would plan, each run in a transaction that is rolled back.

use postgres::{Client, Transaction};
use serde_json::{Value, json};

use super::batch::{Batch, begin, forward_and_verify};
use super::failure::failure_from;
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

/// What a dry run works from.
#[derive(Clone, Copy)]
pub(super) struct Dry<'a> {
    pub(super) plan: &'a Plan,
    pub(super) files: &'a Compiled,
    pub(super) q: &'a sql::Queries,
    pub(super) opts: &'a ApplyOptions,
    pub(super) guard: &'a Guard,
}

/// Runs the batches a run would plan (re-migrations and backfills first, then new users), each in
/// a transaction that is rolled back.
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
        let (rows, samples) = dry_batch(client, dry, b, entities, *replace)?;
        merge(&mut report.rows, &rows);
        if report.samples.is_empty() {
            report.samples = samples;
        }
        report.batches += 1;
        report.users += b.users.len();
        out.batch_done(None, b.seq, b.users.len(), &rows);
    }
    out.finish();
    Ok(report)
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

/// A dry-run batch: the same work in a transaction that is always rolled back.
fn dry_batch(
    client: &mut Client,
    dry: Dry,
    b: &Batch,
    entities: &Value,
    replace: bool,
) -> Result<(RowCounts, Vec<Sample>), Error> {
    let Dry {
        files,
        q,
        opts,
        guard,
        ..
    } = dry;
    let mut tx = dry_transaction(client, files, opts, "starting a dry-run batch")?;
    let run = start_dry_run(&mut tx, dry, RunUsers::Listed(&[]))?;
    let batch = q.add_batch(&mut tx, run, &b.users, Some(entities), replace)?;
    let as_batch = Batch {
        id: batch,
        ..b.clone()
    };
    let fail = |e: postgres::Error| Error::Batch(Box::new(failure_from(&e, 0, &as_batch)));
    let (started, _) = begin(&mut tx, opts, guard, run, batch, &b.users).map_err(fail)?;
    let mismatches = forward_and_verify(&mut tx, files, b, opts.engine, None)
        .map_err(|p| Error::Batch(Box::new(p.into_failure(0, &as_batch))))?;
    if !mismatches.is_empty() {
        return Err(Error::Verification(mismatches));
    }
    let rows = q.finish_batch(&mut tx, batch, started).map_err(fail)?;
    let samples = q.samples(&mut tx, batch)?;
    tx.rollback().context("rolling back a dry-run batch")?;
    Ok((rows, samples))
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
        schema::run_scripts(&mut tx, files, &opts.lock_timeout)?;
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
            size: opts.batch_size,
            versions: &versions,
            users,
        },
    )
}
