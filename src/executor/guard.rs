//! The plan's guard: who may write a plan's batches, and the proof that they still may.
//!
//! The guard is a session advisory lock on (`LOCK_CLASS`, hashtext(plan)), held by the connection
//! of the `apply` (or `rollback`) that took it. A session lock lives exactly as long as its
//! session, and that session is idle while workers write batches on their own connections: when it
//! ends (`pg_terminate_backend`, a pooler or network drop, a restart), the lock goes with it and
//! another `rollback` or `apply --resume` is admitted. So the workers never trust that they hold
//! it; every batch proves it inside its own transaction, in the statement that starts the batch:
//!
//! - the guard's backend (pid and start time, so a reused pid does not pass) still holds the lock;
//! - the batch holds the *gate*, a shared transaction-level advisory lock on
//!   (`GATE_CLASS`, hashtext(plan)). `rollback` takes the gate exclusively after the guard, so it
//!   waits for every batch in flight to commit or roll back before it reads the audit, and a batch
//!   that starts meanwhile cannot take the gate and stops.
//!
//! A lost guard therefore ends in one of two states, never a mix: the run resumable (batches
//! committed while the guard lived stay, none after), or rolled back in full.

use crate::pg::Context;
use std::time::SystemTime;

use postgres::{Client, GenericClient};

use super::sql::LOCK_CLASS;
use crate::Error;

/// First key of the gate lock ("pgsi"): a different class from the guard's, same second key.
pub const GATE_CLASS: i32 = 0x7067_7369;

/// The backend holding a plan's guard.
#[derive(Debug, Clone)]
pub struct Guard {
    pub plan: String,
    pub pid: i32,
    pub started: SystemTime,
}

const HOLDER: &str = "SELECT l.pid, a.backend_start, \
        coalesce(nullif(a.application_name, ''), 'no application name') || ' as ' || coalesce(a.usename::text, '?') \
   FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid \
  WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.classid = $1::int4::oid \
    AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database()) \
    AND l.objid = hashtext($2)::oid AND l.objsubid = 2";

impl Guard {
    /// Takes the plan's guard on `client`'s session, or refuses naming who holds it.
    pub fn take(client: &mut Client, plan: &str) -> Result<Guard, Error> {
        let taken: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&LOCK_CLASS, &plan],
            )
            .context("taking the plan's advisory lock")?
            .get(0);
        if !taken {
            let holder = Self::holder(client, plan).unwrap_or(None);
            if let Some(refusal) = holder
                .as_ref()
                .and_then(|(g, _)| orphaned_restore(client, g.pid))
            {
                return Err(refusal);
            }
            return Err(Error::refused(
                format!(
                    "another pgshred is applying or rolling back plan {plan} on this database{}",
                    holder
                        .map(|(g, app)| format!(" (backend pid {}, {app})", g.pid))
                        .unwrap_or_default()
                ),
                "wait for it to finish; `pgshred status PLAN` shows its progress",
            ));
        }
        // The guard's session is idle for the whole run: an idle_session_timeout meant for
        // forgotten sessions would end it (PostgreSQL 14 and later have the setting).
        client
            .batch_execute(
                "SELECT set_config('idle_session_timeout', '0', false) \
                  WHERE current_setting('server_version_num')::int >= 140000",
            )
            .context("keeping the guard's session open")?;
        Self::holder(client, plan)?.map(|(g, _)| g).ok_or_else(|| {
            Error::Input(format!(
                "the lock of plan {plan} was taken, yet pg_locks does not list it"
            ))
        })
    }

    /// The guard of a run another process leads (`apply --join`).
    pub fn find(client: &mut Client, plan: &str) -> Result<Guard, Error> {
        Self::holder(client, plan)?.map(|(g, _)| g).ok_or_else(|| {
            Error::refused(
                format!("no pgshred holds plan {plan} on this database, so there is no run to join"),
                "start the run first (pgshred apply PLAN), then --join from other processes or machines while it runs",
            )
        })
    }

    /// The backend holding the guard and what it is, in this database (pg_locks lists every
    /// database's advisory locks).
    pub fn holder(
        client: &mut impl GenericClient,
        plan: &str,
    ) -> Result<Option<(Guard, String)>, Error> {
        let row = client
            .query_opt(HOLDER, &[&LOCK_CLASS, &plan])
            .context("looking up the holder of the plan's lock")?;
        Ok(row.map(|r| {
            (
                Guard {
                    plan: plan.to_string(),
                    pid: r.get(0),
                    started: r.get(1),
                },
                r.get(2),
            )
        }))
    }

    /// Waits until no batch of the plan is in flight and keeps new ones from starting, until the
    /// transaction ends (rollback, under the guard).
    pub fn close_gate(tx: &mut impl GenericClient, plan: &str) -> Result<(), Error> {
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&GATE_CLASS, &plan],
        )
        .context("waiting for the batches in flight")?;
        Ok(())
    }

    /// The error a batch meets when the guard is gone.
    pub fn lost(&self, run: i64) -> Error {
        Error::GuardLost {
            plan: self.plan.clone(),
            run,
            pid: self.pid,
        }
    }
}

/// When the guard's backend is restoring an index or key that `--bulk` deferred: its client may be
/// gone (a pgshred killed mid-restore), yet the backend builds on with the plan's lock until the
/// statement ends. The refusal says so, with how long it has run and how to end it.
fn orphaned_restore(client: &mut Client, pid: i32) -> Option<Error> {
    let row = client
        .query_opt(
            "SELECT extract(epoch FROM clock_timestamp() - a.query_start)::float8 FROM pg_stat_activity AS a \
              WHERE a.pid = $1 AND a.state = 'active' AND a.query LIKE '%restore_deferred(%'",
            &[&pid],
        )
        .ok()??;
    let secs: f64 = row.get(0);
    Some(Error::refused(
        format!(
            "backend pid {pid} is still restoring an index or key that --bulk deferred for this plan (for {secs:.0}s), holding the plan's lock; if no pgshred is running (one was killed mid-restore), it is that run's statement, left running by the server"
        ),
        format!(
            "wait for it to end, then `pgshred apply PLAN --resume` restores the rest; or end it now with SELECT pg_cancel_backend({pid}) (what it built so far is rolled back and restored again on --resume)"
        ),
    ))
}

/// The columns [`super::begin`] adds to its statement to prove the guard, from `$6` on: whether
/// the batch holds the gate (`gate_held`), and whether the guard's backend still holds the lock
/// (`guard_alive`).
pub const PROOF: &str = "pg_try_advisory_xact_lock_shared($6, hashtext($7)) AS gate_held, \
    EXISTS (SELECT 1 FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.classid = $8::int4::oid \
               AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database()) \
               AND l.objid = hashtext($7)::oid AND l.objsubid = 2 AND l.pid = $9 AND a.backend_start = $10) AS guard_alive";
