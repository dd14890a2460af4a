//! `apply --dry-run`: the batches a run would plan, each run in a transaction that is rolled back.

use postgres::{Client, Transaction};
use serde_json::{Value, json};

use super::batch::{Steps, steps, too_many_bad};
use super::context::Ctx;
use super::failure::Problem;
use super::planning::{listed_users, run_users};
use super::progress::Reporter;
use super::report::{BadUser, Report, RowCounts, Sample, merge};
use super::sql::{Batch, NewRun, RunUsers};
use super::write_path::{self, WritePath};
use super::{ApplyOptions, schema, sql};
use crate::Error;
use crate::compiled::Compiled;
use crate::pg::Context;

/// Runs the batches a run would plan (re-migrations and backfills first, then new users), each
/// through the steps of a real batch ([`steps`]: the guard's proof, the write path, the judge,
/// the isolation of bad users with `--max-bad-users`) in a transaction that is rolled back.
pub(super) fn run(
    client: &mut Client,
    dry: Ctx,
    work: &[sql::Rework],
    out: &mut dyn Reporter,
) -> Result<Report, Error> {
    let path = write_path::for_writer(
        dry.opts.writer,
        dry.files,
        super::copy::Shredding {
            threads: super::copy::shred::threads_per_worker(1),
            phases: dry.phases,
        },
    );
    let mut report = Report {
        dry_run: true,
        ..Report::default()
    };
    let batches = planned(client, dry, work)?;
    let total: usize = batches.iter().map(|(b, ..)| b.users.len()).sum();
    out.start(total, batches.len());
    for (b, entities, replace) in &batches {
        let (rows, samples, bad) = dry_batch(client, dry, &*path, b, entities, *replace)?;
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

/// A batch failure or a lost guard, as a dry run reports them: of no run, as the dry run's own
/// was rolled back.
fn as_dry(e: Error) -> Error {
    match e {
        Error::Batch(mut f) => {
            f.dry_run = true;
            f.run = 0;
            Error::Batch(f)
        }
        Error::GuardLost { plan, pid, .. } => Error::GuardLost { plan, run: 0, pid },
        e => e,
    }
}

/// The batches a run would plan, planned as a run plans them (`plan_batches` of 02_audit.sql)
/// in a transaction that is rolled back.
fn planned(
    client: &mut Client,
    dry: Ctx,
    work: &[sql::Rework],
) -> Result<Vec<(Batch, Value, bool)>, Error> {
    let Ctx { files, q, opts, .. } = dry;
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
    dry: Ctx,
    path: &dyn WritePath,
    b: &Batch,
    entities: &Value,
    replace: bool,
) -> Result<DryBatch, Error> {
    let Ctx { files, q, opts, .. } = dry;
    let t = std::time::Instant::now();
    let mut tx = dry_transaction(client, files, opts, "starting a dry-run batch")?;
    let run = start_dry_run(&mut tx, dry, RunUsers::Listed(&[]))?;
    let batch = q.add_batch(&mut tx, run, &b.users, Some(entities), replace)?;
    let b = Batch {
        id: batch,
        ..b.clone()
    };
    let Steps { started, bad } = steps(&mut tx, dry, path, run, &b, None, t).map_err(as_dry)?;
    let rows = q.finish_batch(&mut tx, batch, started).map_err(|e| {
        as_dry(Error::Batch(Box::new(super::failure::failure_from(
            &e, run, &b,
        ))))
    })?;
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
fn start_dry_run(tx: &mut Transaction, dry: Ctx, users: RunUsers) -> Result<i64, Error> {
    let Ctx {
        plan,
        files,
        q,
        opts,
        versions,
        ..
    } = dry;
    let versions = versions.map(None);
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
