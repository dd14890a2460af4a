//! `pgshred rollback`: exactly what the audit says runs, batches or users created, removed.

use std::collections::BTreeMap;

use super::guard::Guard;
use super::sql::Queries;
use crate::Error;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::pg::Context;

/// What to roll back; several narrow it down together.
#[derive(Debug, Clone, Default)]
pub struct RollbackTarget {
    pub run: Option<i64>,
    pub batch: Option<i64>,
    pub user: Option<String>,
    /// Run it, with its checks, and roll it back: what it would delete.
    pub dry_run: bool,
}

/// What a rollback did: rows deleted per target table, and rows put back that the rolled-back
/// batches had replaced (`apply --sync`, `--remap`).
#[derive(Debug, Default)]
pub struct RolledBack {
    pub removed: BTreeMap<String, i64>,
    pub restored: i64,
}

/// Deletes exactly what the audit says the selection created, children first, in one transaction,
/// and checks that none of it remains. Returns rows removed per table.
pub fn rollback(
    plan: &Plan,
    files: &Compiled,
    url: &str,
    target: &RollbackTarget,
) -> Result<RolledBack, Error> {
    if target.run.is_none() && target.batch.is_none() && target.user.is_none() {
        return Err(Error::Input(
            "say what to roll back: --run ID, --batch ID and/or --user ID".into(),
        ));
    }
    let q = Queries::new(plan);
    let mut c = crate::pg::connect(url)?;
    Guard::can_be_taken_here(super::guard::Node::of(&mut c)?, &plan.name)?;
    let _guard = Guard::take(&mut c, &plan.name)?;
    // A mistyped id would otherwise roll back nothing and say so quietly.
    if let Some(r) = target.run
        && !q.run_exists(&mut c, &plan.name, r)?
    {
        return Err(Error::refused(
            format!("there is no run {r} of plan {}", plan.name),
            "`pgshred status PLAN` lists the runs",
        ));
    }
    if let Some(b) = target.batch
        && !q.batch_exists(&mut c, &plan.name, b)?
    {
        return Err(Error::refused(
            format!("there is no batch {b} of plan {}", plan.name),
            "`pgshred status PLAN --run ID` lists a run's batches",
        ));
    }
    let mut tx = c.transaction().context("starting the rollback")?;
    // Batches of an apply whose guard was lost may still be in flight: wait for them, so what
    // they commit is rolled back too, and keep new ones from starting.
    Guard::close_gate(&mut tx, &plan.audit_schema, &plan.name)?;
    crate::pg::set_lock_timeout(&mut tx, &plan.batch.lock_timeout)?;
    let run = target.run.map(|r| r.to_string()).unwrap_or_default();
    let batch = target.batch.map(|b| b.to_string()).unwrap_or_default();
    let user = target.user.clone().unwrap_or_default();
    tx.execute(
        "SELECT set_config('pgshred.rollback_run', $1, true), set_config('pgshred.rollback_batch', $2, true), \
                set_config('pgshred.rollback_user', $3, true)",
        &[&run, &batch, &user],
    )
    .context("selecting what to roll back")?;
    let selected = q.selected_rows(&mut tx)?;
    let restored = q.replaced_rows(&mut tx)?;
    // The script checks that no row the audit names survives, and refuses to pull rows out from
    // under a later batch; either way the transaction is dropped and nothing changes.
    tx.batch_execute(files.rollback())
        .context("running 05_rollback.sql")?;
    if target.dry_run {
        tx.rollback().context("rolling the dry run back")?;
        return Ok(RolledBack {
            removed: selected,
            restored,
        });
    }
    if let (Some(r), None, None) = (target.run, &target.batch, &target.user) {
        q.mark_run_rolled_back(&mut tx, r)?;
    }
    tx.commit().context("committing the rollback")?;
    if let (Some(r), None, None) = (target.run, &target.batch, &target.user) {
        // A --bulk run rolled back before its end leaves its tables as they were: with every
        // index and key it deferred.
        super::bulk::restore(
            &mut c,
            &plan.name,
            &q,
            r,
            &plan.batch.lock_timeout,
            &super::phases::Phases::default(),
            &mut super::progress::Quiet,
        )?;
    }
    Ok(RolledBack {
        removed: selected,
        restored,
    })
}
