//! The write paths: how a batch's rows get into the tables. Each path writes and says what the
//! judge is to check; none judges its own work (the batch runs `04_verify.sql` after it, see
//! `executor::batch`).
//!
//! - [`SqlPath`]: `03_forward.sql`, the reviewed script, set-based in the server.
//! - [`CopyPath`]: the evaluator in the client and binary COPY (`--engine copy`), with or without
//!   the indexes and keys `--bulk` defers.

use std::collections::BTreeMap;

use postgres::Transaction;

use super::Writer;
use super::copy::Shredding;
use super::copy::prefetch::Prepared;
use super::failure::Problem;
use super::sql::Batch;
use crate::compiled::Compiled;
use crate::failpoint::failpoint;
use crate::ir::Plan;

/// One way of writing a batch's rows.
pub(super) trait WritePath: Sync {
    /// Writes the rows of the batch users set in the transaction (`pgshred.batch_users`: the
    /// batch's, or the part of it being tried) for the batch's entities; what the judge is to
    /// check, in order.
    fn write(
        &self,
        tx: &mut Transaction,
        b: &Batch,
        prepared: Option<Prepared>,
    ) -> Result<Vec<Judgement>, Problem>;

    /// The plan whose documents are worth reading ahead of the batch, and the threads that
    /// shred them; `None` for a path that reads nothing in the client.
    fn reads_ahead(&self) -> Option<(&Plan, usize)>;
}

/// One run of the judge.
#[derive(Debug, Default)]
pub(super) struct Judgement {
    /// The users judged, when not every batch user set in the transaction.
    pub(super) users: Option<Vec<String>>,
    /// Per entity, the rows the server counted as written: the users are judged per entity
    /// against these counts instead of per user against the tables (a `--bulk` batch, whose
    /// `user_id` indexes are built after the last batch).
    pub(super) counted: Option<BTreeMap<String, u64>>,
}

/// The path the run's writer names, for the compiled scripts `files`.
pub(super) fn for_writer<'a>(
    writer: Writer,
    files: &'a Compiled,
    shredding: Shredding<'a>,
) -> Box<dyn WritePath + 'a> {
    let sql = SqlPath {
        files,
        phases: shredding.phases,
    };
    match (writer, files.plan()) {
        (Writer::Copy | Writer::Bulk, Some(plan)) => Box::new(CopyPath {
            plan,
            sql,
            bulk: writer == Writer::Bulk,
            shredding,
        }),
        // Scripts read back from a directory carry no plan for the evaluator.
        _ => Box::new(sql),
    }
}

/// `03_forward.sql`.
pub(super) struct SqlPath<'a> {
    files: &'a Compiled,
    phases: &'a super::phases::Phases,
}

impl WritePath for SqlPath<'_> {
    fn write(
        &self,
        tx: &mut Transaction,
        b: &Batch,
        _: Option<Prepared>,
    ) -> Result<Vec<Judgement>, Problem> {
        let t = std::time::Instant::now();
        if self
            .files
            .plan()
            .is_some_and(|p| p.layout == crate::ir::Layout::Distributed)
        {
            let users = propagate_settings(tx).map_err(Problem::from_db)?;
            // The users written in: each entity's INSERT then runs on the shards holding them,
            // where their documents are (with the source distributed too).
            let forward = self.files.forward_pinned(b.entities.as_deref(), &users);
            // One statement per message: sent together, Citus ran the plan's begin_forward()
            // call on a worker, which has no ledger.
            for statement in crate::statements::split(&forward) {
                tx.batch_execute(statement).map_err(Problem::from_db)?;
            }
        } else {
            let forward = self.files.forward(b.entities.as_deref());
            tx.batch_execute(&forward).map_err(Problem::from_db)?;
        }
        failpoint("forward", b.seq);
        self.phases.lap("forward (sql)", t);
        Ok(vec![Judgement::default()])
    }

    fn reads_ahead(&self) -> Option<(&Plan, usize)> {
        None
    }
}

/// On Citus, the batch's settings again as `SET LOCAL`, which Citus sends on to the workers
/// that run the forward statements on their shards (a `set_config` it keeps on the coordinator,
/// and the functions reading the settings there would find none). One statement per message:
/// Citus records the text of the whole message a SET came in and replays it on every connection
/// it opens later in the transaction, so four SETs in one message were replayed four times each,
/// and again at every node the ledger's queries pass through, until a backend ran out of memory.
/// Returns the batch's users, as the setting holds them (`{a,b}`).
fn propagate_settings(tx: &mut Transaction) -> Result<String, postgres::Error> {
    let row = tx.query_one(
        "SELECT current_setting('pgshred.run_id'), current_setting('pgshred.batch_id'), \
                current_setting('pgshred.batch_users')",
        &[],
    )?;
    tx.batch_execute("SET LOCAL citus.propagate_set_commands = 'local'")?;
    for (i, name) in ["run_id", "batch_id", "batch_users"].iter().enumerate() {
        tx.batch_execute(&format!(
            "SET LOCAL pgshred.{name} = {}",
            crate::ident::quote_literal(&row.get::<_, String>(i))
        ))?;
    }
    Ok(row.get(2))
}

/// The evaluator and binary COPY.
pub(super) struct CopyPath<'a> {
    plan: &'a Plan,
    /// For what COPY cannot write: rows that may exist already, documents too large for the
    /// client.
    sql: SqlPath<'a>,
    /// Into tables whose indexes and keys `--bulk` deferred.
    bulk: bool,
    shredding: Shredding<'a>,
}

impl WritePath for CopyPath<'_> {
    fn write(
        &self,
        tx: &mut Transaction,
        b: &Batch,
        prepared: Option<Prepared>,
    ) -> Result<Vec<Judgement>, Problem> {
        if super::copy::rows_may_exist(tx, self.plan, b).map_err(Problem::from_db)? {
            return self.sql.write(tx, b, None);
        }
        let written = super::copy::write(
            tx,
            self.plan,
            b.entities.as_deref(),
            prepared,
            &self.shredding,
        )
        .map_err(Problem::from_copy)?;
        if written.too_big.is_empty() {
            failpoint("forward", b.seq);
            return Ok(vec![Judgement {
                users: None,
                counted: self.bulk.then_some(written.written),
            }]);
        }
        // Documents too large for the client are shredded by the server, as with `--engine
        // sql`, and judged on their own: a --bulk batch's COPY counts do not hold them.
        set_batch_users(tx, &written.too_big).map_err(Problem::from_db)?;
        self.sql.write(tx, b, None)?;
        set_batch_users(tx, &written.users).map_err(Problem::from_db)?;
        let copied: Vec<String> = written
            .users
            .iter()
            .filter(|u| !written.too_big.contains(u))
            .cloned()
            .collect();
        Ok(vec![
            Judgement {
                users: Some(written.too_big),
                counted: None,
            },
            Judgement {
                users: Some(copied),
                counted: self.bulk.then_some(written.written),
            },
        ])
    }

    fn reads_ahead(&self) -> Option<(&Plan, usize)> {
        Some((self.plan, self.shredding.threads))
    }
}

/// Sets the users the scripts of the transaction work on.
pub(super) fn set_batch_users(
    tx: &mut Transaction,
    users: &[String],
) -> Result<(), postgres::Error> {
    tx.execute(
        "SELECT set_config('pgshred.batch_users', $1::text[]::text, true)",
        &[&users],
    )
    .map(drop)
}
