//! The plan's guard: who may write a plan's batches, and the proof that they still may.
//!
//! The guard is a session advisory lock on (`LOCK_CLASS`, hashtext(plan)), held by the connection
//! of the `apply` (or `rollback`) that took it. A session lock lives exactly as long as its
//! session, and that session is idle while workers write batches on their own connections: when it
//! ends (`pg_terminate_backend`, a pooler or network drop, a restart), the lock goes with it and
//! another `rollback` or `apply --resume` is admitted. So the workers never trust that they hold
//! it; every batch proves it inside its own transaction, in the statements that start the batch:
//!
//! - the guard's backend (pid and start time, so a reused pid does not pass) still holds the lock;
//! - the batch holds the *gate*: a key-share lock on its run's row of `migration_runs`, taken
//!   without waiting. `rollback` locks every run row of the plan for update after taking the
//!   guard, so it waits for every batch in flight to commit or roll back before it reads the
//!   audit, and a batch that starts meanwhile finds its row locked and stops.
//!
//! A lost guard therefore ends in one of two states, never a mix: the run resumable (batches
//! committed while the guard lived stay, none after), or rolled back in full.
//!
//! On Citus the guard lives on the coordinator, and the gate is a row of the ledger, which every
//! node reaches (02_audit.sql): a process connected to a worker node (`apply --join`) looks the
//! guard up, and proves it, through `run_command_on_coordinator`; it never leads.

use crate::pg::Context;
use std::time::SystemTime;

use postgres::{Client, GenericClient};

use super::sql::LOCK_CLASS;
use crate::Error;

/// Where a connection finds the plan's guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// On the server it is connected to: plain PostgreSQL, or a Citus coordinator.
    Here,
    /// On the coordinator of the Citus cluster whose worker node it is connected to.
    Coordinator,
}

impl Node {
    /// Where `client` finds the guard.
    pub fn of(client: &mut impl GenericClient) -> Result<Node, Error> {
        let citus: bool = client
            .query_one(
                "SELECT to_regproc('pg_catalog.citus_is_coordinator') IS NOT NULL",
                &[],
            )
            .context("looking for Citus")?
            .get(0);
        if !citus {
            return Ok(Node::Here);
        }
        let coordinator: bool = client
            .query_one("SELECT pg_catalog.citus_is_coordinator()", &[])
            .context("asking Citus whether this node is the coordinator")?
            .get(0);
        Ok(if coordinator {
            Node::Here
        } else {
            Node::Coordinator
        })
    }
}

/// The backend holding a plan's guard.
#[derive(Debug, Clone)]
pub struct Guard {
    pub plan: String,
    pub pid: i32,
    pub started: SystemTime,
    /// Where the connections of this process find it.
    pub node: Node,
}

/// Whether the lock `l` (a row of pg_locks) is plan `plan`'s guard, `class` being `LOCK_CLASS`
/// (both SQL): the one test the holder's lookup and each batch's proof make. pg_locks lists
/// every database's advisory locks, hence the database.
fn is_guard(class: &str, plan: &str) -> String {
    format!(
        "l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' AND l.classid = {class}::int4::oid \
         AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database()) \
         AND l.objid = hashtext({plan})::oid AND l.objsubid = 2"
    )
}

/// What the holder's lookup says of the backend `a` (a row of pg_stat_activity).
const WHO: &str = "coalesce(nullif(a.application_name, ''), 'no application name') || ' as ' || coalesce(a.usename::text, '?')";

impl Guard {
    /// Takes the plan's guard on `client`'s session, or refuses naming who holds it; on a
    /// server where it can be taken (see [`Guard::can_be_taken_here`]).
    pub fn take(client: &mut Client, plan: &str) -> Result<Guard, Error> {
        let taken: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&LOCK_CLASS, &plan],
            )
            .context("taking the plan's advisory lock")?
            .get(0);
        if !taken {
            let holder = Self::holder(client, plan, Node::Here).unwrap_or(None);
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
        Self::holder(client, plan, Node::Here)?
            .map(|(g, _)| g)
            .ok_or_else(|| {
                Error::Input(format!(
                    "the lock of plan {plan} was taken, yet pg_locks does not list it"
                ))
            })
    }

    /// Refuses on a worker node of a Citus cluster (`node` is where the guard is found), where
    /// the guard cannot be taken: it lives on the coordinator.
    pub fn can_be_taken_here(node: Node, plan: &str) -> Result<(), Error> {
        if node == Node::Coordinator {
            return Err(Error::refused(
                format!(
                    "this server is a worker node of a Citus cluster, and plan {plan}'s lock lives on the coordinator"
                ),
                "start runs and rollbacks on the coordinator; from a worker node, `apply --join` helps a run the coordinator leads",
            ));
        }
        Ok(())
    }

    /// The guard of a run another process leads (`apply --join`), found at `node`.
    pub fn find(client: &mut Client, plan: &str, node: Node) -> Result<Guard, Error> {
        let held = Self::holder(client, plan, node)?;
        let place = match node {
            Node::Here => "on this database",
            Node::Coordinator => "on the coordinator of this worker node's Citus cluster",
        };
        held.map(|(g, _)| g).ok_or_else(|| {
            Error::refused(
                format!("no pgshred holds plan {plan} {place}, so there is no run to join"),
                "start the run first (pgshred apply PLAN, on the coordinator of a Citus cluster), then --join from other processes or machines while it runs",
            )
        })
    }

    /// The backend holding the guard and what it is, in this database: on this server, or on
    /// the coordinator of the Citus cluster this server is a worker node of (`node`).
    fn holder(
        client: &mut Client,
        plan: &str,
        node: Node,
    ) -> Result<Option<(Guard, String)>, Error> {
        let row = match node {
            Node::Here => client
                .query_opt(
                    &format!(
                        "SELECT l.pid, a.backend_start, {WHO} \
                           FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE {}",
                        is_guard("$1", "$2")
                    ),
                    &[&LOCK_CLASS, &plan],
                )
                .context("looking up the holder of the plan's lock")?,
            Node::Coordinator => {
                // Asked on a connection of its own to the coordinator; the backend comes back as
                // JSON, its start time exact to the microsecond.
                let asked = format!(
                    "SELECT json_build_object('pid', l.pid, 'started', a.backend_start, 'who', {WHO})::text \
                       FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid WHERE {}",
                    is_guard("%s", "%L")
                );
                let answer = client
                    .query_one(
                        "SELECT c.success, c.result FROM pg_catalog.run_command_on_coordinator(format($1, $2::int4, $3::text)) AS c",
                        &[&asked, &LOCK_CLASS, &plan],
                    )
                    .context("asking the coordinator who holds the plan's lock")?;
                let result: String = answer.get(1);
                if !answer.get::<_, bool>(0) {
                    return Err(Error::refused(
                        format!(
                            "the coordinator could not be asked who holds plan {plan}'s lock: {result}"
                        ),
                        "this worker node connects to the coordinator as the role pgshred uses (as Citus's own queries from a worker do): let it (pg_hba.conf, a password in pg_dist_authinfo or .pgpass on the worker)",
                    ));
                }
                client
                    .query_opt(
                        "SELECT (j->>'pid')::int4, (j->>'started')::timestamptz, j->>'who' \
                           FROM (SELECT nullif($1, '')::json AS j) AS r WHERE j IS NOT NULL",
                        &[&result],
                    )
                    .context("reading the coordinator's answer")?
            }
        };
        Ok(row.map(|r| {
            (
                Guard {
                    plan: plan.to_string(),
                    pid: r.get(0),
                    started: r.get(1),
                    node,
                },
                r.get(2),
            )
        }))
    }

    /// Waits until no batch of the plan is in flight and keeps new ones from starting, until the
    /// transaction ends (rollback, under the guard): the gate is every run row of the plan.
    pub fn close_gate(
        tx: &mut impl GenericClient,
        audit_schema: &str,
        plan: &str,
    ) -> Result<(), Error> {
        tx.execute(
            &format!(
                "SELECT 1 FROM {}.\"migration_runs\" AS r WHERE r.\"plan\" = $1 FOR UPDATE",
                crate::ident::quote_ident(audit_schema)
            ),
            &[&plan],
        )
        .context("waiting for the batches in flight")?;
        Ok(())
    }

    /// The column a batch's first statement adds to prove the guard, `guard_alive`: whether the
    /// guard's backend still holds the lock. Its parameters are from `$6` on: the plan ($6),
    /// `LOCK_CLASS` ($7), the guard's pid ($8) and start ($9).
    pub fn alive(&self) -> String {
        let alive = |plan: &str, class: &str, pid: &str, started: &str| {
            format!(
                "EXISTS (SELECT 1 FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid \
                          WHERE {} AND l.pid = {pid} AND a.backend_start = {started})",
                is_guard(class, plan)
            )
        };
        match self.node {
            Node::Here => format!("{} AS guard_alive", alive("$6", "$7", "$8", "$9")),
            // Asked on a connection of its own to the coordinator, the start time written in ISO
            // 8601 whatever this session's DateStyle; a coordinator that cannot be reached proves
            // nothing.
            Node::Coordinator => format!(
                "coalesce((SELECT c.success AND c.result = 't' FROM pg_catalog.run_command_on_coordinator(\
                   format($q$SELECT {}$q$, $7::int4, $6::text, $8::int4, to_json($9::timestamptz) #>> '{{}}')) AS c), false) AS guard_alive",
                alive("%L", "%s", "%s", "%L")
            ),
        }
    }

    /// Takes the gate for a batch of run `run`, without waiting: false when a rollback holds it.
    /// A statement of its own: on Citus a statement that reads the ledger runs where the ledger
    /// is, and the settings a batch makes must be made where the batch runs.
    pub fn pass_gate(
        tx: &mut impl GenericClient,
        audit_schema: &str,
        run: i64,
    ) -> Result<bool, postgres::Error> {
        Ok(tx
            .query_one(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM {}.\"migration_runs\" AS r WHERE r.\"id\" = $1 FOR KEY SHARE SKIP LOCKED)",
                    crate::ident::quote_ident(audit_schema)
                ),
                &[&run],
            )?
            .get(0))
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
