//! `apply --dry-run`: the batches a run would plan, each run in a transaction that is rolled back.

use postgres::Client;
use serde_json::json;

use super::batch::{Batch, begin, failure_from, forward_and_verify};
use super::guard::Guard;
use super::planning::choose_users;
use super::progress::Reporter;
use super::report::{Report, RowCounts, Sample, merge};
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
    let sum = files.checksum();
    let mut report = Report {
        dry_run: true,
        ..Report::default()
    };
    let size = opts.batch_size.max(1);
    let mut left = opts.limit.map(|l| l as i64);
    let mut batches: Vec<(Batch, bool)> = Vec::new();
    let mut add = |users: &[String], entities: Option<Vec<String>>, replace: bool| {
        for u in users.chunks(size) {
            let seq = batches.len() as i32 + 1;
            let b = Batch {
                id: 0,
                seq,
                users: u.to_vec(),
                entities: entities.clone(),
            };
            batches.push((b, replace));
        }
    };
    for w in work {
        let users = q.rework_users(client, &plan.name, w, left)?;
        left = left.map(|l| (l - users.len() as i64).max(0));
        let names = w.entities.as_object().map(|m| m.keys().cloned().collect());
        add(&users, names, w.replace);
    }
    let users = if opts.users.is_empty() {
        q.unmigrated_users(client, &plan.name, left, opts.retry_quarantined)?
    } else {
        choose_users(client, plan, q, opts)?
    };
    add(&users, None, false);
    let total: usize = batches.iter().map(|(b, _)| b.users.len()).sum();
    out.start(total, batches.len());
    for (b, replace) in &batches {
        let (rows, samples) = dry_batch(client, plan, files, q, &sum, opts, guard, b, *replace)?;
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

/// A dry-run batch: the same work in a transaction that is always rolled back.
#[allow(clippy::too_many_arguments)] // the batch, and what it runs
pub(super) fn dry_batch(
    client: &mut Client,
    plan: &Plan,
    files: &Compiled,
    q: &sql::Queries,
    sum: &str,
    opts: &ApplyOptions,
    guard: &Guard,
    b: &Batch,
    replace: bool,
) -> Result<(RowCounts, Vec<Sample>), Error> {
    let mut tx = client.transaction().context("starting a dry-run batch")?;
    if opts.create_schema {
        // Created and rolled back with the batch, so a dry run leaves the database as it was.
        schema::run_scripts(&mut tx, files, &opts.lock_timeout)?;
    }
    let run = q.start_run_tx(
        &mut tx,
        &plan.name,
        sum,
        &json!({"dry_run": true}),
        &b.users,
        b.users.len().max(1) as i32,
    )?;
    let versions = Versions::compiled(plan, files);
    q.record_versions(&mut tx, run, &versions.map(None))?;
    let batch = q.batch_id_tx(&mut tx, run)?;
    if let Some(only) = &b.entities {
        q.set_batch_work(&mut tx, batch, &versions.map(Some(only)), replace)?;
    }
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
