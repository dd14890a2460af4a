//! `apply --bulk`: an initial load into empty target tables with their secondary indexes, unique
//! keys and foreign keys deferred, as pg_restore and pgcopydb load a database: recorded in the
//! ledger and dropped before the first batch (`defer_constraints` in `02_audit.sql`), restored
//! one by one after the last (`restore_deferred`), each in its own transaction. What is deferred
//! belongs to the run, so `--resume` and `--join` carry on in the same mode, and a crash at any
//! point resumes where it stopped.

use std::time::Instant;

use postgres::Client;

use super::progress::Reporter;
use super::sql::Queries;
use crate::Error;
use crate::ir::Plan;
use crate::pg::Context;

/// One deferred index or key, as the ledger records it.
pub(super) struct Deferred {
    pub seq: i32,
    pub table: String,
    pub name: String,
    pub kind: String,
}

/// The target tables, quoted.
fn tables(q: &Queries) -> Vec<String> {
    q.tables
        .iter()
        .map(|t| format!("{}.{}", q.t, crate::ident::quote_ident(t)))
        .collect()
}

/// Refuses `--bulk` unless every target table is empty: rebuilding indexes over rows already
/// there would cost more than it saves, and the application may be reading those rows. Checked
/// before the run is planned, so a refusal leaves nothing behind.
pub(super) fn check_empty(client: &mut Client, plan: &Plan, q: &Queries) -> Result<(), Error> {
    for (t, e) in tables(q).iter().zip(&plan.entities) {
        let full: bool = client
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {t})"), &[])
            .context(format!("checking that {t} is empty"))?
            .get(0);
        if full {
            return Err(Error::refused(
                format!(
                    "--bulk loads empty tables, and {}.{} has rows",
                    plan.target_schema, e.table
                ),
                format!(
                    "run without --bulk: the rows of plan {} are then written with every index and key in place",
                    plan.name
                ),
            ));
        }
    }
    Ok(())
}

/// Records and drops the target tables' secondary indexes, unique keys and foreign keys for run
/// `run`, in one transaction under `lock_timeout`.
pub(super) fn defer(
    client: &mut Client,
    plan: &Plan,
    q: &Queries,
    run: i64,
    lock_timeout: &str,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    let tables = tables(q);
    let mut tx = client.transaction().context("starting --bulk")?;
    crate::pg::set_lock_timeout(&mut tx, lock_timeout)?;
    let n: i32 = tx
        .query_one(
            &format!(
                "SELECT {}.defer_constraints($1, $2::text[]::regclass[])",
                q.a
            ),
            &[&run, &tables],
        )
        .context("deferring the target tables' indexes and keys (--bulk)")?
        .get(0);
    tx.commit().context("committing --bulk's deferral")?;
    crate::failpoint::failpoint("deferred", 0);
    out.line(&format!(
        "--bulk: {n} indexes, unique keys and foreign keys of {} tables deferred (recorded in {}.migration_deferred); they are restored after the last batch",
        tables.len(),
        plan.audit_schema
    ));
    Ok(())
}

/// The indexes and keys run `run` deferred and has not restored yet, in restoring order.
pub(super) fn pending(client: &mut Client, q: &Queries, run: i64) -> Result<Vec<Deferred>, Error> {
    let rows = client
        .query(
            &format!(
                "SELECT \"seq\", \"table_name\", \"name\", \"kind\" FROM {}.\"migration_deferred\" \
                  WHERE \"run_id\" = $1 AND \"restored_at\" IS NULL ORDER BY \"seq\"",
                q.a
            ),
            &[&run],
        )
        .context("reading the indexes and keys --bulk deferred")?;
    Ok(rows
        .iter()
        .map(|r| Deferred {
            seq: r.get(0),
            table: r.get(1),
            name: r.get(2),
            kind: r.get(3),
        })
        .collect())
}

/// Restores what run `run` deferred, each in its own transaction (no statement_timeout: an
/// index over a large table takes what it takes; the lock_timeout holds). A foreign key that
/// finds a row without its parent stops here with the server's words naming the key; what was
/// restored stays restored, and `--resume` goes on from there.
pub(super) fn restore(
    client: &mut Client,
    plan: &str,
    q: &Queries,
    run: i64,
    lock_timeout: &str,
    phases: &super::phases::Phases,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    let left = pending(client, q, run)?;
    if left.is_empty() {
        return Ok(());
    }
    out.line(&format!(
        "--bulk: restoring {} indexes, unique keys and foreign keys",
        left.len()
    ));
    let started = Instant::now();
    for (i, d) in left.iter().enumerate() {
        // A signal stops the restore between two indexes or keys, as it stops a run between
        // batches: the run is recorded as stopped, and --resume restores the rest.
        if super::signals::stop_requested() {
            q.stop_run(client, run)?;
            return Err(Error::Interrupted {
                plan: plan.to_string(),
                run,
                done: 0,
                batches: 0,
                deferred: left.len() - i,
            });
        }
        let took = Instant::now();
        let what = format!("{} {} on {}", d.kind.replace('_', " "), d.name, d.table);
        let mut tx = client.transaction().context("starting a restore")?;
        crate::pg::set_lock_timeout(&mut tx, lock_timeout)?;
        tx.batch_execute("SET LOCAL statement_timeout = 0")
            .context("setting statement_timeout")?;
        tx.execute(
            &format!("SELECT {}.restore_deferred($1, $2)", q.a),
            &[&run, &d.seq],
        )
        .and_then(|_| tx.commit())
        .map_err(|source| Error::Database {
            context: format!(
                "restoring {what}, deferred by --bulk (run {run}); the rows stay, and `pgshred apply PLAN --resume` tries again"
            ),
            source,
        })?;
        crate::failpoint::failpoint("restored", d.seq);
        phases.lap(
            if d.kind == "foreign_key" {
                "restore foreign keys"
            } else {
                "restore indexes"
            },
            took,
        );
        out.line(&format!(
            "restored {what} in {:.2}s",
            took.elapsed().as_secs_f64()
        ));
    }
    out.line(&format!(
        "--bulk: every index and key restored in {:.2}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
