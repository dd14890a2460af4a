//! What `status`, `verify`, `rollback` and dry runs read back from the ledger.

use std::collections::BTreeMap;

use postgres::{Client, GenericClient, Transaction};
use serde_json::Value;

use super::Queries;
use crate::Error;
use crate::pg::Context;

impl Queries {
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

    /// Rows the selected rollback deletes, per table: those the audit names that are still there
    /// (a row deleted by hand since is not counted; rows since replaced by another batch are that
    /// batch's to give back). Found by the whole key (user_id, id), which also serves tables
    /// partitioned by user.
    pub fn selected_rows(&self, tx: &mut Transaction) -> Result<BTreeMap<String, i64>, Error> {
        let counts: Vec<String> = self
            .tables
            .iter()
            .map(|t| {
                // The audit is selected first, where the rollback's settings are: Citus would
                // evaluate the selection beside a distributed table on its workers, which have
                // none, and count every row.
                format!(
                    "(WITH m AS MATERIALIZED (SELECT m.\"user_id\", m.\"target_id\" FROM {a}.\"migration_audit\" AS m \
                      WHERE {a}.rollback_selected(m.\"run_id\", m.\"batch_id\", m.\"user_id\") \
                        AND m.\"target_table\" = {lit} AND m.\"replaced_by\" IS NULL) \
                     SELECT {lit}::text, count(*) FROM m \
                       JOIN {s}.{table} AS t ON t.\"user_id\" = m.\"user_id\" AND t.\"id\" = m.\"target_id\")",
                    a = self.a,
                    s = self.t,
                    table = crate::ident::quote_ident(t),
                    lit = crate::ident::quote_literal(t),
                )
            })
            .collect();
        Ok(tx
            .query(&counts.join(" UNION ALL "), &[])
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
