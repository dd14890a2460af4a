//! The ledger of runs and batches: starting and planning runs, claiming, finishing and failing
//! batches, quarantining users. Every write goes through a function of `02_audit.sql`, so a DBA
//! reviews each statement that changes the ledger.

use std::collections::BTreeMap;
use std::time::SystemTime;

use postgres::{Client, GenericClient, Transaction};
use serde_json::Value;

use super::{Queries, Rework, utc_transaction};
use crate::Error;
use crate::ident::quote_ident;
use crate::pg::Context;

/// A batch to run: its ledger id, sequence number and users.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) id: i64,
    pub(crate) seq: i32,
    pub(crate) users: Vec<String>,
    /// The entities it migrates; `None`: all.
    pub(crate) entities: Option<Vec<String>>,
}

/// A run to start: what it is, and which users it takes.
pub struct NewRun<'a> {
    pub plan: &'a str,
    /// Of the compiled SQL: a resume under other SQL is refused.
    pub checksum: &'a str,
    pub options: &'a Value,
    /// Users per batch, at least 1.
    pub size: i32,
    /// entity -> checksum of every entity's statement.
    pub versions: &'a Value,
    pub users: RunUsers<'a>,
}

/// Who a new run takes.
pub enum RunUsers<'a> {
    /// Exactly these (`--user`), in this order.
    Listed(&'a [String]),
    /// The `work` on users already migrated (in the order given), then the users not migrated
    /// yet (or, with `quarantined`, only the quarantined ones), at most `limit` in all.
    Planned {
        work: &'a [Rework],
        limit: Option<i64>,
        quarantined: bool,
    },
}

impl Queries {
    /// Whether the ledger of migrated users exists (not before 02_audit.sql has run).
    pub fn has_ledger(&self, c: &mut Client) -> Result<bool, Error> {
        crate::pg::relation_exists(c, &format!("{}.\"migration_users\"", self.a))
    }

    /// Starts a run and plans its batches, in one transaction (see [`NewRun`]): the run, its
    /// batches and users. `None`, with nothing recorded (the transaction is dropped), when no user
    /// needs a batch: a run with no batches would only clutter `status`.
    pub fn start_run(
        &self,
        c: &mut Client,
        new: &NewRun,
    ) -> Result<Option<(i64, usize, usize)>, Error> {
        let mut tx = utc_transaction(c, "starting a run")?;
        let run = self.start_run_in(&mut tx, new)?;
        let (batches, users) = self.pending_totals(&mut tx, run)?;
        if batches == 0 {
            return Ok(None);
        }
        tx.commit().context("recording the run")?;
        Ok(Some((run, batches, users)))
    }

    /// Starts a run and plans its batches in an open transaction (a dry run rolls it back).
    /// Planned users are chosen in the database, so the executor never holds the user list
    /// (memory stays flat however many users).
    pub fn start_run_in(&self, tx: &mut Transaction, new: &NewRun) -> Result<i64, Error> {
        let listed: &[String] = match &new.users {
            RunUsers::Listed(users) => users,
            RunUsers::Planned { .. } => &[],
        };
        let sql = format!("SELECT {}.start_run($1, $2, $3, $4, $5)", self.a);
        let run: i64 = tx
            .query_one(
                &sql,
                &[&new.plan, &new.checksum, new.options, &listed, &new.size],
            )
            .context("recording the run")?
            .get(0);
        self.record_versions(tx, run, new.versions)?;
        let RunUsers::Planned {
            work,
            limit,
            quarantined,
        } = &new.users
        else {
            return Ok(run);
        };
        let mut left = *limit;
        for w in *work {
            let (selection, group) = self.rework_selection(&w.users, "$7");
            let n = self.plan_batches(
                tx,
                &selection,
                left,
                new.plan,
                run,
                new.size,
                &w.entities,
                w.replace,
                group,
            )?;
            left = left.map(|l| (l - n).max(0));
        }
        let eligible = self.eligible_users_sql(tx, *quarantined)?;
        self.plan_batches(
            tx,
            &eligible,
            left,
            new.plan,
            run,
            new.size,
            new.versions,
            false,
            None,
        )?;
        Ok(run)
    }

    /// Adds one batch of `users` to a run, running `entities` (all when `None`) and replacing
    /// rows or not; returns its id (a dry run's batch).
    pub fn add_batch(
        &self,
        tx: &mut Transaction,
        run: i64,
        users: &[String],
        entities: Option<&Value>,
        replace: bool,
    ) -> Result<i64, Error> {
        let sql = format!(
            "SELECT {}.plan_batches($1, $2::text[], greatest(cardinality($2::text[]), 1), $3::jsonb, $4::boolean)",
            self.a
        );
        tx.execute(&sql, &[&run, &users, &entities, &replace])
            .context("recording the dry-run batch")?;
        self.batch_id_tx(tx, run)
    }

    /// The batches of a run in order, with the entities each runs (entity -> checksum) and
    /// whether it replaces.
    pub(crate) fn run_batches(
        &self,
        tx: &mut Transaction,
        run: i64,
    ) -> Result<Vec<(Batch, Value, bool)>, Error> {
        let sql = format!(
            "SELECT \"id\", \"seq\", \"user_ids\", \
                    (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(\"entities\") AS k), \
                    coalesce(\"entities\", '{{}}'::jsonb), \"replace\" \
               FROM {}.\"migration_batches\" WHERE \"run_id\" = $1 ORDER BY \"seq\"",
            self.a
        );
        Ok(tx
            .query(&sql, &[&run])
            .context("reading the planned batches")?
            .iter()
            .map(|r| {
                (
                    Batch {
                        id: r.get(0),
                        seq: r.get(1),
                        users: r.get(2),
                        entities: r.get(3),
                    },
                    r.get(4),
                    r.get(5),
                )
            })
            .collect())
    }

    /// Batches of a run still to do, and their users.
    pub fn pending_totals(
        &self,
        c: &mut impl GenericClient,
        run: i64,
    ) -> Result<(usize, usize), Error> {
        let sql = format!(
            "SELECT count(*), coalesce(sum(cardinality(\"user_ids\")), 0)::bigint FROM {}.\"migration_batches\" \
              WHERE \"run_id\" = $1 AND \"status\" <> 'done'",
            self.a
        );
        let r = c
            .query_one(&sql, &[&run])
            .context("reading the run's batches")?;
        Ok((r.get::<_, i64>(0) as usize, r.get::<_, i64>(1) as usize))
    }

    pub fn unfinished_run(
        &self,
        c: &mut Client,
        plan: &str,
    ) -> Result<Option<(i64, String)>, Error> {
        let sql = format!(
            "SELECT \"id\", \"plan_checksum\" FROM {}.\"migration_runs\" \
              WHERE \"plan\" = $1 AND \"status\" IN ('running', 'stopped', 'failed') AND NOT (\"options\" ? 'dry_run') \
              ORDER BY \"id\" DESC LIMIT 1",
            self.a
        );
        Ok(c.query_opt(&sql, &[&plan])
            .context("looking for an unfinished run")?
            .map(|r| (r.get(0), r.get(1))))
    }

    pub fn batch_progress(&self, c: &mut Client, run: i64) -> Result<(i64, i64), Error> {
        let sql = format!(
            "SELECT count(*) FILTER (WHERE \"status\" = 'done'), count(*) FROM {}.\"migration_batches\" WHERE \"run_id\" = $1",
            self.a
        );
        let r = c
            .query_one(&sql, &[&run])
            .context("reading batch progress")?;
        Ok((r.get(0), r.get(1)))
    }

    pub fn count_done(&self, c: &mut Client, run: i64) -> Result<usize, Error> {
        Ok(self.batch_progress(c, run)?.0 as usize)
    }

    fn batch_id_tx(&self, tx: &mut Transaction, run: i64) -> Result<i64, Error> {
        let sql = format!(
            "SELECT \"id\" FROM {}.\"migration_batches\" WHERE \"run_id\" = $1 ORDER BY \"seq\" LIMIT 1",
            self.a
        );
        Ok(tx
            .query_one(&sql, &[&run])
            .context("reading the batch")?
            .get(0))
    }

    /// Locks the next pending batch of a run for this transaction, skipping batches other
    /// workers hold.
    pub(crate) fn claim_batch(
        &self,
        tx: &mut Transaction,
        run: i64,
        preferred: Option<i64>,
        others: &[i64],
    ) -> Result<Option<Batch>, Error> {
        // The batch read ahead for this worker first, if no one has it; then in order, leaving
        // `others` (read ahead by other workers of this process) to them.
        let sql = format!(
            "SELECT \"id\", \"seq\", \"user_ids\", \
                    (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(\"entities\") AS k) \
               FROM {}.\"migration_batches\" \
              WHERE \"run_id\" = $1 AND \"status\" IN ('pending', 'running', 'failed') AND \"id\" <> ALL ($3) \
              ORDER BY coalesce(\"id\" = $2, false) DESC, \"seq\" LIMIT 1 FOR UPDATE SKIP LOCKED",
            self.a
        );
        Ok(tx
            .query_opt(&sql, &[&run, &preferred, &others])
            .context("claiming a batch")?
            .map(|r| Batch {
                id: r.get(0),
                seq: r.get(1),
                users: r.get(2),
                entities: r.get(3),
            }))
    }

    /// Records the version of each entity's mapping the run applies (`record_versions` of
    /// 02_audit.sql).
    pub fn record_versions(
        &self,
        tx: &mut impl GenericClient,
        run: i64,
        versions: &Value,
    ) -> Result<(), Error> {
        let sql = format!("SELECT {}.record_versions($1, $2)", self.a);
        tx.execute(&sql, &[&run, versions])
            .context("recording the mapping versions")?;
        Ok(())
    }

    /// Appends batches of `size` to a run for the users `selection` picks, in user order (on
    /// Citus, shard by shard)
    /// (parameters: `$1` the limit, `$2` the plan, and `$7` when `group` is given), each running
    /// `entities` (entity -> checksum) and replacing rows or not, with `plan_batches` of
    /// 02_audit.sql, the one place users are cut into batches. The user list is built in the
    /// server, so the executor's memory does not grow with it. Returns how many users it planned.
    #[allow(clippy::too_many_arguments)] // one statement's bind parameters
    fn plan_batches(
        &self,
        tx: &mut Transaction,
        selection: &str,
        limit: Option<i64>,
        plan: &str,
        run: i64,
        size: i32,
        entities: &Value,
        replace: bool,
        group: Option<&Value>,
    ) -> Result<i64, Error> {
        let sql = if self.distributed {
            // On Citus, batches of one shard's users: each shard's users in batches of `size` as
            // far as they fill them, then what is left of every shard, shard after shard, cut
            // into batches too (the one place users are cut stays plan_batches, which cuts the
            // array in the order given). A batch's rows then go to one worker, and its
            // statements filtered by its users reach one shard per table.
            format!(
                "SELECT {a}.plan_batches($3, ARRAY(\
                   SELECT y.user_id \
                     FROM (SELECT x.user_id, x.shard, \
                                  row_number() OVER (PARTITION BY x.shard ORDER BY x.user_id) AS k, \
                                  count(*) OVER (PARTITION BY x.shard) AS n \
                             FROM (SELECT s.user_id, get_shard_id_for_distribution_column({anchor}::regclass, s.user_id) AS shard \
                                     FROM ({selection}) AS s) AS x) AS y \
                    ORDER BY y.k > y.n / greatest($4, 1) * greatest($4, 1), y.shard, y.user_id), $4, $5, $6)::bigint",
                a = self.a,
                anchor = crate::ident::quote_literal(&format!(
                    "{}.{}",
                    self.t,
                    quote_ident(&self.tables[0])
                )),
            )
        } else {
            format!(
                "SELECT {a}.plan_batches($3, ARRAY(SELECT x.user_id FROM ({selection}) AS x ORDER BY x.user_id), $4, $5, $6)::bigint",
                a = self.a
            )
        };
        let row = match group {
            Some(g) => tx.query_one(&sql, &[&limit, &plan, &run, &size, entities, &replace, g]),
            None => tx.query_one(&sql, &[&limit, &plan, &run, &size, entities, &replace]),
        }
        .context("planning the run's batches")?;
        Ok(row.get(0))
    }

    pub fn finish_batch(
        &self,
        tx: &mut Transaction,
        batch: i64,
        started: SystemTime,
    ) -> Result<BTreeMap<String, i64>, postgres::Error> {
        let sql = format!("SELECT {}.finish_batch($1, $2)", self.a);
        let rows: Value = tx.query_one(&sql, &[&batch, &started])?.get(0);
        Ok(rows
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Sets a user of a batch aside, in the batch's transaction.
    pub fn quarantine(
        &self,
        tx: &mut Transaction,
        user: &str,
        batch: i64,
        problem: &Value,
    ) -> Result<(), postgres::Error> {
        let sql = format!("SELECT {}.quarantine_user($1, $2, $3)", self.a);
        tx.execute(&sql, &[&user, &batch, problem])?;
        Ok(())
    }

    /// Users a run has quarantined so far (this transaction's included).
    pub fn quarantined_in_run(
        &self,
        tx: &mut Transaction,
        run: i64,
    ) -> Result<i64, postgres::Error> {
        let sql = format!(
            "SELECT count(*) FROM {}.\"migration_quarantine\" WHERE \"run_id\" = $1",
            self.a
        );
        Ok(tx.query_one(&sql, &[&run])?.get(0))
    }

    pub fn fail_batch(&self, c: &mut Client, batch: i64, error: &Value) -> Result<(), Error> {
        let sql = format!("SELECT {}.fail_batch($1, clock_timestamp(), $2)", self.a);
        c.execute(&sql, &[&batch, error])
            .context("recording the failed batch")?;
        Ok(())
    }

    /// Waits until no batch of the run is claimed by another process (`apply --join`): each
    /// claim holds its batch's row until the batch commits or rolls back.
    pub fn wait_for_claimed_batches(&self, c: &mut Client, run: i64) -> Result<(), Error> {
        let sql = format!(
            "SELECT 1 FROM {}.\"migration_batches\" WHERE \"run_id\" = $1 AND \"status\" <> 'done' FOR UPDATE",
            self.a
        );
        let mut tx = c
            .transaction()
            .context("waiting for the joiners' batches")?;
        tx.execute(&sql, &[&run])
            .context("waiting for the joiners' batches")?;
        tx.commit().context("waiting for the joiners' batches")
    }

    pub fn finish_run(&self, c: &mut Client, run: i64) -> Result<(), Error> {
        let sql = format!("SELECT {}.finish_run($1)", self.a);
        c.execute(&sql, &[&run])
            .context("recording the end of the run")?;
        Ok(())
    }

    /// A signal stopped the run with batches left.
    pub fn stop_run(&self, c: &mut Client, run: i64) -> Result<(), Error> {
        let sql = format!("SELECT {}.stop_run($1)", self.a);
        c.execute(&sql, &[&run])
            .context("recording that the run stopped")?;
        Ok(())
    }

    /// A stopped or failed run is taken up again.
    pub fn resume_run(&self, c: &mut Client, run: i64) -> Result<(), Error> {
        let sql = format!("SELECT {}.resume_run($1)", self.a);
        c.execute(&sql, &[&run])
            .context("recording that the run resumed")?;
        Ok(())
    }

    pub fn mark_run_rolled_back(&self, tx: &mut Transaction, run: i64) -> Result<(), Error> {
        let sql = format!("SELECT {}.mark_run_rolled_back($1)", self.a);
        tx.execute(&sql, &[&run])
            .context("marking the run rolled back")?;
        Ok(())
    }
}
