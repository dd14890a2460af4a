//! The only statements the executor writes itself: catalog checks, source user lists and calls to
//! the ledger functions of `02_audit.sql`. Identifiers come from the validated plan and are quoted
//! by [`crate::ident`]; every value is a bind parameter.

use crate::pg::Context;
use std::collections::BTreeMap;
use std::time::SystemTime;

use postgres::{Client, GenericClient, Transaction};
use serde_json::Value;

use super::batch::Batch;
use crate::Error;
use crate::ident::quote_ident;
use crate::ir::Plan;

/// Work a run plans on users already migrated.
#[derive(Debug, Clone)]
pub struct Rework {
    pub users: Reworked,
    /// entity -> checksum of the entities the batches run.
    pub entities: Value,
    /// Whether the rows those users have of them are replaced.
    pub replace: bool,
}

/// Which migrated users a [`Rework`] takes.
#[derive(Debug, Clone)]
pub enum Reworked {
    /// Those whose source row moved on (by this order column) or is gone.
    Changed { order: String },
    /// Those migrated with these versions (with `sync`, only those unchanged at the source).
    Group {
        recorded: Value,
        sync: Option<String>,
    },
    /// Those set aside since (a sync whose new document failed): `--retry-quarantined`.
    Quarantined,
}

/// Constant first half of the two-key advisory lock of a plan ("pgsh").
pub const LOCK_CLASS: i32 = 0x7067_7368;

/// A transaction in UTC: source versions (`source_updated_at`) are compared as the batches
/// record them, which matters when the order column is a timestamp without time zone.
fn utc_transaction<'a>(c: &'a mut Client, context: &str) -> Result<Transaction<'a>, Error> {
    let mut tx = c.transaction().context(context)?;
    tx.batch_execute("SET LOCAL TIME ZONE 'UTC'")
        .context(context)?;
    Ok(tx)
}

/// Quoted names of one plan, and the statements built from them.
pub struct Queries {
    /// The audit schema, quoted.
    pub a: String,
    /// `"schema"."table"` of the source.
    pub source: String,
    pub key: String,
    pub tables: Vec<String>,
}

impl Queries {
    pub fn new(plan: &Plan) -> Self {
        Queries {
            a: quote_ident(&plan.audit_schema),
            source: format!(
                "{}.{}",
                quote_ident(&plan.source.schema),
                quote_ident(&plan.source.table)
            ),
            key: quote_ident(&plan.source.key_column),
            tables: plan.entities.iter().map(|e| e.table.clone()).collect(),
        }
    }

    /// Source users the plan has not migrated, in user order, at most `$1` of them; `$2` is the
    /// plan. Quarantined users are left out, or with `quarantined` are the only ones taken.
    /// Before the audit schema exists (a dry run that creates it per batch) nobody is migrated.
    fn eligible_users_sql(&self, c: &mut Client, quarantined: bool) -> Result<String, Error> {
        let ledger = format!("{}.\"migration_users\"", self.a);
        let quarantine = format!("{}.\"migration_quarantine\"", self.a);
        let filter = if self.has_ledger(c)? {
            format!(
                "WHERE NOT EXISTS (SELECT 1 FROM {ledger} AS m WHERE m.\"plan\" = $2 AND m.\"user_id\" = u.user_id) \
                   AND {} EXISTS (SELECT 1 FROM {quarantine} AS q WHERE q.\"plan\" = $2 AND q.\"user_id\" = u.user_id)",
                if quarantined { "" } else { "NOT" }
            )
        } else if quarantined {
            "WHERE $2::text IS NULL".to_string()
        } else {
            "WHERE $2::text IS NOT NULL".to_string()
        };
        Ok(format!(
            "SELECT u.user_id FROM (SELECT DISTINCT s.{key}::text AS user_id FROM {source} AS s \
                                     WHERE octet_length(s.{key}::text) <= {max}) AS u {filter} \
              ORDER BY u.user_id LIMIT $1",
            max = crate::ids::MAX_ID_BYTES,
            key = self.key,
            source = self.source,
        ))
    }

    /// Whether the ledger of migrated users exists (not before 02_audit.sql has run).
    pub fn has_ledger(&self, c: &mut Client) -> Result<bool, Error> {
        crate::pg::relation_exists(c, &format!("{}.\"migration_users\"", self.a))
    }

    pub fn unmigrated_users(
        &self,
        c: &mut Client,
        plan: &str,
        limit: Option<i64>,
        quarantined: bool,
    ) -> Result<Vec<String>, Error> {
        let sql = self.eligible_users_sql(c, quarantined)?;
        Ok(c.query(&sql, &[&limit, &plan])
            .context("listing users to migrate")?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Starts a run whose batches are planned in the database, so the executor never holds the
    /// user list (memory stays flat however many users): first the `work` on users already
    /// migrated (in the order given), then the users not yet migrated (or, with `quarantined`,
    /// only the quarantined ones), all under one `limit`. `versions` is every entity's checksum.
    #[allow(clippy::too_many_arguments)] // the run's options, each a bind parameter
    pub fn start_run_planned(
        &self,
        c: &mut Client,
        plan: &str,
        sum: &str,
        options: &Value,
        limit: Option<i64>,
        size: i32,
        quarantined: bool,
        versions: &Value,
        work: &[Rework],
    ) -> Result<i64, Error> {
        let eligible = self.eligible_users_sql(c, quarantined)?;
        let mut tx = utc_transaction(c, "starting a run")?;
        let none: Vec<String> = Vec::new();
        let run = self.start_run_tx(&mut tx, plan, sum, options, &none, size)?;
        self.record_versions(&mut tx, run, versions)?;
        let size = i64::from(size);
        let mut left = limit;
        for w in work {
            let (selection, group) = self.rework_selection(&w.users, "$7");
            let n = self.plan_batches(
                &mut tx,
                &selection,
                left,
                plan,
                run,
                size,
                &w.entities,
                w.replace,
                group,
            )?;
            left = left.map(|l| (l - n).max(0));
        }
        self.plan_batches(
            &mut tx, &eligible, left, plan, run, size, versions, false, None,
        )?;
        tx.commit().context("recording the run")?;
        Ok(run)
    }

    /// Batches of a run still to do, and their users.
    pub fn pending_totals(&self, c: &mut Client, run: i64) -> Result<(usize, usize), Error> {
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

    pub fn existing_users(&self, c: &mut Client, users: &[String]) -> Result<Vec<String>, Error> {
        let sql = format!(
            "SELECT DISTINCT s.{key}::text FROM {source} AS s WHERE s.{key}::text = ANY ($1) ORDER BY 1",
            key = self.key,
            source = self.source
        );
        Ok(c.query(&sql, &[&users])
            .context("looking up users")?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Source users whose id is too long to be migrated (see [`crate::ids::MAX_ID_BYTES`]): how
    /// many, and the first few (their first 40 characters and length in bytes).
    pub fn overlong_users(
        &self,
        c: &mut impl GenericClient,
    ) -> Result<(i64, Vec<(String, i32)>), Error> {
        let sql = format!(
            "SELECT count(*) OVER (), left(d.user_id, 40), octet_length(d.user_id) \
               FROM (SELECT DISTINCT s.{key}::text AS user_id FROM {source} AS s \
                      WHERE octet_length(s.{key}::text) > {max}) AS d ORDER BY d.user_id LIMIT 5",
            key = self.key,
            source = self.source,
            max = crate::ids::MAX_ID_BYTES,
        );
        let rows = c
            .query(&sql, &[])
            .context("looking for user ids too long to migrate")?;
        Ok((
            rows.first().map_or(0, |r| r.get(0)),
            rows.iter().map(|r| (r.get(1), r.get(2))).collect(),
        ))
    }

    /// Users with more than one source row: how many, and the first few.
    pub fn duplicate_users(&self, c: &mut Client) -> Result<(i64, Vec<String>), Error> {
        let sql = format!(
            "SELECT count(*) OVER (), d.user_id FROM (SELECT s.{key}::text AS user_id FROM {source} AS s \
              GROUP BY 1 HAVING count(*) > 1) AS d ORDER BY d.user_id LIMIT 5",
            key = self.key,
            source = self.source
        );
        let rows = c
            .query(&sql, &[])
            .context("looking for duplicate source rows")?;
        Ok((
            rows.first().map_or(0, |r| r.get(0)),
            rows.iter().map(|r| r.get(1)).collect(),
        ))
    }

    pub fn unfinished_run(
        &self,
        c: &mut Client,
        plan: &str,
    ) -> Result<Option<(i64, String)>, Error> {
        let sql = format!(
            "SELECT \"id\", \"plan_checksum\" FROM {}.\"migration_runs\" \
              WHERE \"plan\" = $1 AND \"status\" IN ('running', 'failed') AND NOT (\"options\" ? 'dry_run') \
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

    #[allow(clippy::too_many_arguments)] // the run's options, each a bind parameter
    pub fn start_run(
        &self,
        c: &mut Client,
        plan: &str,
        sum: &str,
        options: &Value,
        users: &[String],
        size: i32,
        versions: &Value,
    ) -> Result<i64, Error> {
        let mut tx = c.transaction().context("starting a run")?;
        let run = self.start_run_tx(&mut tx, plan, sum, options, users, size)?;
        self.record_versions(&mut tx, run, versions)?;
        tx.commit().context("recording the run")?;
        Ok(run)
    }

    pub fn start_run_tx(
        &self,
        tx: &mut Transaction,
        plan: &str,
        sum: &str,
        options: &Value,
        users: &[String],
        size: i32,
    ) -> Result<i64, Error> {
        let sql = format!("SELECT {}.start_run($1, $2, $3, $4, $5)", self.a);
        Ok(tx
            .query_one(&sql, &[&plan, &sum, options, &users, &size])
            .context("recording the run")?
            .get(0))
    }

    pub fn batch_id_tx(&self, tx: &mut Transaction, run: i64) -> Result<i64, Error> {
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
    pub(super) fn claim_batch(
        &self,
        tx: &mut Transaction,
        run: i64,
    ) -> Result<Option<Batch>, Error> {
        let sql = format!(
            "SELECT \"id\", \"seq\", \"user_ids\", \
                    (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(\"entities\") AS k) \
               FROM {}.\"migration_batches\" \
              WHERE \"run_id\" = $1 AND \"status\" IN ('pending', 'running', 'failed') \
              ORDER BY \"seq\" LIMIT 1 FOR UPDATE SKIP LOCKED",
            self.a
        );
        Ok(tx
            .query_opt(&sql, &[&run])
            .context("claiming a batch")?
            .map(|r| Batch {
                id: r.get(0),
                seq: r.get(1),
                users: r.get(2),
                entities: r.get(3),
            }))
    }

    /// Records the version of each entity's mapping the run applies, on the run and on its
    /// batches that do not say otherwise.
    pub fn record_versions(
        &self,
        tx: &mut Transaction,
        run: i64,
        versions: &Value,
    ) -> Result<(), Error> {
        let sql = format!(
            "UPDATE {a}.\"migration_runs\" SET \"entity_checksums\" = $2 WHERE \"id\" = $1; ",
            a = self.a
        );
        tx.execute(&sql, &[&run, versions])
            .context("recording the mapping versions")?;
        let sql = format!(
            "UPDATE {a}.\"migration_batches\" SET \"entities\" = $2 WHERE \"run_id\" = $1 AND \"entities\" IS NULL",
            a = self.a
        );
        tx.execute(&sql, &[&run, versions])
            .context("recording the mapping versions")?;
        Ok(())
    }

    /// Users the plan migrated whose source row moved on (a later `order_column`) or is gone:
    /// the condition on `m`, a row of migration_users.
    fn changed_sql(&self, order: &str) -> String {
        format!(
            "(NOT EXISTS (SELECT 1 FROM {source} AS s WHERE s.{key}::text = m.\"user_id\") \
              OR m.\"source_updated_at\" IS DISTINCT FROM \
                 (SELECT max(s.{order})::timestamptz FROM {source} AS s WHERE s.{key}::text = m.\"user_id\"))",
            source = self.source,
            key = self.key,
            order = quote_ident(order),
        )
    }

    /// Migrated users (quarantined ones left out) grouped by the versions of the mappings they
    /// were migrated with and, with `sync`, by whether their source changed since: the versions,
    /// whether changed, and how many users.
    pub fn version_groups(
        &self,
        c: &mut Client,
        plan: &str,
        sync: Option<&str>,
    ) -> Result<Vec<(Value, bool, i64)>, Error> {
        let sql = format!(
            "SELECT m.\"entities\", {changed}, count(*) FROM {a}.\"migration_users\" AS m \
              WHERE m.\"plan\" = $1 \
                AND NOT EXISTS (SELECT 1 FROM {a}.\"migration_quarantine\" AS q WHERE q.\"plan\" = $1 AND q.\"user_id\" = m.\"user_id\") \
              GROUP BY 1, 2 ORDER BY 3 DESC",
            a = self.a,
            changed = sync.map_or("false".to_string(), |o| self.changed_sql(o)),
        );
        let context = "reading which mapping versions users were migrated with";
        let mut tx = utc_transaction(c, context)?;
        let rows = tx.query(&sql, &[&plan]).context(context)?;
        tx.commit().context(context)?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// The statement picking a rework's migrated users, in user order (`$1` the limit, `$2` the
    /// plan, `param` the versions of a group), and the group's versions. Quarantined users are
    /// left out, except by `Quarantined`, which takes only them.
    fn rework_selection<'a>(
        &self,
        users: &'a Reworked,
        param: &str,
    ) -> (String, Option<&'a Value>) {
        let (condition, quarantined, group) = match users {
            Reworked::Changed { order } => (self.changed_sql(order), false, None),
            Reworked::Quarantined => ("true".to_string(), true, None),
            Reworked::Group { recorded, sync } => (
                format!(
                    "m.\"entities\" = {param}{}",
                    sync.as_deref()
                        .map(|o| format!(" AND NOT {}", self.changed_sql(o)))
                        .unwrap_or_default()
                ),
                false,
                Some(recorded),
            ),
        };
        let sql = format!(
            "SELECT m.\"user_id\" FROM {a}.\"migration_users\" AS m \
              WHERE m.\"plan\" = $2 AND {condition} \
                AND {not}EXISTS (SELECT 1 FROM {a}.\"migration_quarantine\" AS q WHERE q.\"plan\" = $2 AND q.\"user_id\" = m.\"user_id\") \
              ORDER BY m.\"user_id\" LIMIT $1",
            a = self.a,
            not = if quarantined { "" } else { "NOT " },
        );
        (sql, group)
    }

    /// The users a rework takes, at most `limit`, in user order (for a dry run, which plans no
    /// batches in the ledger).
    pub fn rework_users(
        &self,
        c: &mut Client,
        plan: &str,
        w: &Rework,
        limit: Option<i64>,
    ) -> Result<Vec<String>, Error> {
        let (sql, group) = self.rework_selection(&w.users, "$3");
        let mut tx = utc_transaction(c, "listing users to migrate again")?;
        let rows = match group {
            Some(g) => tx.query(&sql, &[&limit, &plan, g]),
            None => tx.query(&sql, &[&limit, &plan]),
        }
        .context("listing users to migrate again")?;
        tx.commit().context("listing users to migrate again")?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Gives a batch the entities it runs and whether it replaces (a dry run's own batch).
    pub fn set_batch_work(
        &self,
        tx: &mut Transaction,
        batch: i64,
        entities: &Value,
        replace: bool,
    ) -> Result<(), Error> {
        let sql = format!(
            "UPDATE {}.\"migration_batches\" SET \"entities\" = $2, \"replace\" = $3 WHERE \"id\" = $1",
            self.a
        );
        tx.execute(&sql, &[&batch, entities, &replace])
            .context("recording the dry-run batch")?;
        Ok(())
    }

    /// Appends batches of `size` to a run for the users `selection` picks (parameters: `$1` the
    /// limit, `$2` the plan, and `$7` when `group` is given), each running `entities` (entity ->
    /// checksum) and replacing rows or not. Returns how many users were planned.
    #[allow(clippy::too_many_arguments)] // one statement's bind parameters
    fn plan_batches(
        &self,
        tx: &mut Transaction,
        selection: &str,
        limit: Option<i64>,
        plan: &str,
        run: i64,
        size: i64,
        entities: &Value,
        replace: bool,
        group: Option<&Value>,
    ) -> Result<i64, Error> {
        let sql = format!(
            "WITH planned AS ( \
             INSERT INTO {a}.\"migration_batches\" (\"run_id\", \"seq\", \"user_ids\", \"entities\", \"replace\") \
             SELECT $3, (SELECT coalesce(max(b.\"seq\"), 0) FROM {a}.\"migration_batches\" AS b WHERE b.\"run_id\" = $3) + e.k + 1, \
                    array_agg(e.user_id ORDER BY e.n), $5, $6 \
               FROM (SELECT x.user_id, row_number() OVER (ORDER BY x.user_id) - 1 AS n, \
                            (row_number() OVER (ORDER BY x.user_id) - 1) / $4 AS k FROM ({selection}) AS x) AS e \
              GROUP BY e.k \
             RETURNING cardinality(\"user_ids\") AS n) \
             SELECT coalesce(sum(n), 0)::bigint FROM planned",
            a = self.a
        );
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

    /// Quarantined users of a plan: user, entity, legacy id, path, value, error, run, batch.
    pub fn quarantined(
        &self,
        c: &mut impl GenericClient,
        plan: &str,
    ) -> Result<Vec<postgres::Row>, Error> {
        let sql = format!(
            "SELECT \"user_id\", \"entity\", \"legacy_id\", \"path\", \"value\"::text, \"error\", \"run_id\", \"batch_id\" \
               FROM {}.\"migration_quarantine\" WHERE \"plan\" = $1 ORDER BY \"user_id\"",
            self.a
        );
        c.query(&sql, &[&plan]).context("reading the quarantine")
    }

    pub fn fail_batch(&self, c: &mut Client, batch: i64, error: &Value) -> Result<(), Error> {
        let sql = format!("SELECT {}.fail_batch($1, clock_timestamp(), $2)", self.a);
        c.execute(&sql, &[&batch, error])
            .context("recording the failed batch")?;
        Ok(())
    }

    pub fn finish_run(&self, c: &mut Client, run: i64) -> Result<(), Error> {
        let sql = format!("SELECT {}.finish_run($1)", self.a);
        c.execute(&sql, &[&run])
            .context("recording the end of the run")?;
        Ok(())
    }

    /// One legacy id -> new id pair per table of a batch.
    pub fn samples(
        &self,
        tx: &mut Transaction,
        batch: i64,
    ) -> Result<Vec<(String, String, String)>, Error> {
        let sql = format!(
            "SELECT DISTINCT ON (\"target_table\") \"target_table\", \"legacy_id\", \"target_id\"::text \
               FROM {}.\"migration_audit\" WHERE \"batch_id\" = $1 ORDER BY \"target_table\", \"set_id\", \"position\"",
            self.a
        );
        Ok(tx
            .query(&sql, &[&batch])
            .context("reading sample ids")?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    /// Per entity of `versions` (entity -> current checksum): migrated users with that version,
    /// and with another.
    pub fn version_counts(
        &self,
        c: &mut Client,
        plan: &str,
        versions: &Value,
    ) -> Result<BTreeMap<String, (i64, i64)>, Error> {
        let sql = format!(
            "SELECT v.key, count(m.\"user_id\") FILTER (WHERE m.\"entities\" ->> v.key = v.value), \
                    count(m.\"user_id\") FILTER (WHERE m.\"entities\" ->> v.key <> v.value) \
               FROM jsonb_each_text($2) AS v \
               LEFT JOIN {a}.\"migration_users\" AS m ON m.\"plan\" = $1 \
              GROUP BY v.key",
            a = self.a
        );
        Ok(c.query(&sql, &[&plan, versions])
            .context("counting users per mapping version")?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect())
    }

    /// How many users the source table holds.
    pub fn source_users(&self, c: &mut Client) -> Result<i64, Error> {
        let sql = format!(
            "SELECT count(DISTINCT s.{key}) FROM {source} AS s",
            key = self.key,
            source = self.source
        );
        Ok(c.query_one(&sql, &[])
            .context("counting source users")?
            .get(0))
    }

    /// Runs of a plan, newest first: id, status, started, finished, batches done/total, users, rows, error.
    pub fn runs(
        &self,
        c: &mut impl GenericClient,
        plan: &str,
    ) -> Result<Vec<postgres::Row>, Error> {
        let sql = format!(
            "SELECT r.\"id\", r.\"status\", to_char(r.\"started_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), \
                    count(b.\"id\") FILTER (WHERE b.\"status\" = 'done'), count(b.\"id\"), \
                    coalesce(sum(cardinality(b.\"user_ids\")), 0)::bigint, \
                    coalesce(sum((SELECT sum(v::bigint) FROM jsonb_each_text(b.\"rows\") AS x(k, v))), 0)::bigint, \
                    r.\"error\" \
               FROM {a}.\"migration_runs\" AS r LEFT JOIN {a}.\"migration_batches\" AS b ON b.\"run_id\" = r.\"id\" \
              WHERE r.\"plan\" = $1 AND NOT (r.\"options\" ? 'dry_run') \
              GROUP BY r.\"id\" ORDER BY r.\"id\" DESC",
            a = self.a
        );
        c.query(&sql, &[&plan]).context("reading runs")
    }

    /// Batches of a run: id, seq, status, users, rows, duration, error message.
    pub fn batches(
        &self,
        c: &mut impl GenericClient,
        run: i64,
    ) -> Result<Vec<postgres::Row>, Error> {
        let sql = format!(
            "SELECT \"id\", \"seq\", \"status\", cardinality(\"user_ids\"), \
                    coalesce((SELECT sum(v::bigint) FROM jsonb_each_text(\"rows\") AS x(k, v)), 0)::bigint, \
                    \"duration_ms\", \"error\" ->> 'message', \"user_ids\" \
               FROM {}.\"migration_batches\" WHERE \"run_id\" = $1 ORDER BY \"seq\"",
            self.a
        );
        c.query(&sql, &[&run]).context("reading batches")
    }

    /// Audit rows a rollback selection covers: table -> ids.
    /// Rows the selected rollback deletes, per target table (rows since replaced by another batch
    /// are that batch's to give back).
    pub fn selected_rows(&self, tx: &mut Transaction) -> Result<BTreeMap<String, i64>, Error> {
        let sql = format!(
            "SELECT \"target_table\", count(*) FROM {a}.\"migration_audit\" AS m \
              WHERE {a}.rollback_selected(m.\"run_id\", m.\"batch_id\", m.\"user_id\") AND m.\"target_table\" = ANY ($1) \
                AND m.\"replaced_by\" IS NULL \
              GROUP BY 1",
            a = self.a
        );
        Ok(tx
            .query(&sql, &[&self.tables])
            .context("reading the audit")?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    /// Rows the selected rollback puts back: those its batches replaced.
    pub fn replaced_rows(&self, tx: &mut Transaction) -> Result<i64, Error> {
        let sql = format!(
            "SELECT count(*) FROM {a}.\"migration_replaced\" AS p \
               JOIN {a}.\"migration_batches\" AS b ON b.\"id\" = p.\"batch_id\" \
              WHERE {a}.rollback_selected(b.\"run_id\", p.\"batch_id\", p.\"user_id\")",
            a = self.a
        );
        Ok(tx
            .query_one(&sql, &[])
            .context("reading the replaced rows")?
            .get(0))
    }

    pub fn mark_run_rolled_back(&self, tx: &mut Transaction, run: i64) -> Result<(), Error> {
        let sql = format!(
            "UPDATE {}.\"migration_runs\" SET \"status\" = 'rolled_back', \"finished_at\" = clock_timestamp() WHERE \"id\" = $1",
            self.a
        );
        tx.execute(&sql, &[&run])
            .context("marking the run rolled back")?;
        Ok(())
    }

    pub fn run_exists(
        &self,
        c: &mut impl GenericClient,
        plan: &str,
        run: i64,
    ) -> Result<bool, Error> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}.\"migration_runs\" WHERE \"id\" = $1 AND \"plan\" = $2)",
            self.a
        );
        Ok(c.query_one(&sql, &[&run, &plan])
            .context("looking up the run")?
            .get(0))
    }

    pub fn batch_exists(
        &self,
        c: &mut impl GenericClient,
        plan: &str,
        batch: i64,
    ) -> Result<bool, Error> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {a}.\"migration_batches\" AS b JOIN {a}.\"migration_runs\" AS r \
                               ON r.\"id\" = b.\"run_id\" WHERE b.\"id\" = $1 AND r.\"plan\" = $2)",
            a = self.a
        );
        Ok(c.query_one(&sql, &[&batch, &plan])
            .context("looking up the batch")?
            .get(0))
    }
}
