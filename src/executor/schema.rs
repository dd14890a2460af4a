//! Applying the schema scripts (`--create-schema`) to a database the application is using.
//!
//! `01_schema.sql` takes ACCESS EXCLUSIVE locks on existing target tables (RLS, policies,
//! triggers, a retyped column). Waiting for such a lock behind any reader would queue every later
//! reader of that table behind the wait, so the scripts run under the plan's `lock_timeout` and,
//! when it fires, are retried a few times with a growing pause (as careful migration tools do);
//! then pgshred gives up, names the backend in the way, and nothing has changed.

use std::time::Duration;

use crate::pg::Context;

use postgres::{Client, Transaction};

use crate::Error;
use crate::compiled::Compiled;
use crate::ident::quote_ident;
use crate::ir::Plan;

use super::progress::Reporter;

/// Tries before giving up; the pause after try n is `PAUSE * 2^(n-1)`.
const TRIES: u32 = 4;
const PAUSE: Duration = Duration::from_millis(250);

/// Runs the schema scripts in `tx` under `lock_timeout` (a dry run's batch, or one try).
pub fn run_scripts(
    tx: &mut Transaction,
    files: &Compiled,
    lock_timeout: &str,
) -> Result<(), Error> {
    crate::pg::set_lock_timeout(tx, lock_timeout)?;
    // Citus refuses DDL on a distributed table sent with other statements in one message.
    let one_by_one = files
        .plan()
        .is_some_and(|p| p.layout == crate::ir::Layout::Distributed);
    for (name, sql) in files.schema_scripts() {
        if one_by_one {
            for statement in crate::statements::split(sql) {
                tx.batch_execute(statement)
                    .context(format!("running {name}"))?;
            }
        } else {
            tx.batch_execute(sql).context(format!("running {name}"))?;
        }
    }
    Ok(())
}

/// Applies the schema scripts in their own transaction, retrying when `lock_timeout` fires.
pub fn apply(
    client: &mut Client,
    plan: &Plan,
    files: &Compiled,
    lock_timeout: &str,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    for n in 1..=TRIES {
        let mut tx = client
            .transaction()
            .context("starting the schema transaction")?;
        match run_scripts(&mut tx, files, lock_timeout) {
            Ok(()) => {
                tx.commit().context("committing the schema")?;
                let names: Vec<&str> = files.schema_scripts().map(|(n, _)| n).collect();
                out.line(&format!("applied {}", names.join(", ")));
                return Ok(());
            }
            Err(Error::Database { source, .. }) if is_lock_timeout(&source) => {
                drop(tx);
                if n < TRIES {
                    let pause = PAUSE * 2u32.pow(n - 1);
                    out.line(&format!(
                        "the schema waited longer than lock_timeout {lock_timeout} for a table lock (try {n} of {TRIES}); trying again in {} ms",
                        pause.as_millis()
                    ));
                    std::thread::sleep(pause);
                }
            }
            Err(e) => return Err(e),
        }
    }
    let blockers = blockers(client, plan)?;
    Err(Error::refused(
        format!(
            "the schema could not take its table locks within lock_timeout {lock_timeout} in {TRIES} tries; nothing was changed{}",
            if blockers.is_empty() {
                String::new()
            } else {
                format!(": {}", blockers.join("; "))
            }
        ),
        "let that session finish, or end it (SELECT pg_terminate_backend(PID)), or raise --lock-timeout; \
         other sessions' reads waited at most lock_timeout behind each try",
    ))
}

fn is_lock_timeout(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}

/// Other backends holding locks on the plan's tables, in words.
pub fn blockers(client: &mut Client, plan: &Plan) -> Result<Vec<String>, Error> {
    let tables: Vec<String> = plan
        .entities
        .iter()
        .map(|e| {
            format!(
                "{}.{}",
                quote_ident(&plan.target_schema),
                quote_ident(&e.table)
            )
        })
        .chain(
            crate::validate::AUDIT_TABLES
                .iter()
                .map(|t| format!("{}.{}", quote_ident(&plan.audit_schema), quote_ident(t))),
        )
        .collect();
    let rows = client
        .query(
            "SELECT format('backend pid %s (%s as %s, %s since %s) holds %s on %s', a.pid, \
                    coalesce(nullif(a.application_name, ''), 'no application name'), coalesce(a.usename::text, '?'), \
                    coalesce(a.state, '?'), to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS'), \
                    string_agg(DISTINCT l.mode, ', '), string_agg(DISTINCT l.relation::regclass::text, ', ')) \
               FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid \
              WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid() \
                AND l.relation IN (SELECT to_regclass(t) FROM unnest($1::text[]) AS t) \
              GROUP BY a.pid, a.application_name, a.usename, a.state, a.xact_start, a.backend_start \
              ORDER BY a.pid",
            &[&tables],
        )
        .context("looking up the sessions holding locks on the plan's tables")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
