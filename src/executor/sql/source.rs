//! The source table: which of its users exist, are eligible, duplicated or unmigratable.

use postgres::{Client, GenericClient};

use super::Queries;
use crate::Error;
use crate::ident::quote_ident;
use crate::pg::Context;

impl Queries {
    /// Source users the plan has not migrated, in user order, at most `$1` of them; `$2` is the
    /// plan. Quarantined users are left out, or with `quarantined` are the only ones taken.
    /// Before the audit schema exists (a dry run that creates it per batch) nobody is migrated.
    pub(super) fn eligible_users_sql(
        &self,
        c: &mut impl GenericClient,
        quarantined: bool,
    ) -> Result<String, Error> {
        let ledger = format!("{}.\"migration_users\"", self.a);
        let quarantine = format!("{}.\"migration_quarantine\"", self.a);
        let filter = if crate::pg::relation_exists(c, &ledger)? {
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
        // The source's users are read first, on their own: a source table that Citus has
        // distributed is not joined with the ledger, which stays on the coordinator.
        Ok(format!(
            "WITH u AS MATERIALIZED (SELECT DISTINCT s.{key}::text AS user_id FROM {source} AS s \
                                     WHERE octet_length(s.{key}::text) <= {max}) \
             SELECT u.user_id FROM u {filter} ORDER BY u.user_id LIMIT $1",
            max = crate::ids::MAX_ID_BYTES,
            key = self.key,
            source = self.source,
        ))
    }

    pub fn existing_users(
        &self,
        c: &mut impl GenericClient,
        users: &[String],
    ) -> Result<Vec<String>, Error> {
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

    /// What `changed_sql` reads the source through: nothing on plain tables (the condition
    /// probes the source's index per user); on Citus, the source's users and their latest order,
    /// read first on their own (a distributed source is not probed beside the coordinator's
    /// ledger): a `WITH` to put before the statement and a join to put after `... AS m`.
    pub(super) fn changed_source(&self, order: &str) -> (String, String) {
        if !self.distributed {
            return (String::new(), String::new());
        }
        (
            format!(
                "WITH src AS MATERIALIZED (SELECT s.{key}::text AS user_id, max(s.{order})::timestamptz AS latest \
                                            FROM {source} AS s GROUP BY 1) ",
                source = self.source,
                key = self.key,
                order = quote_ident(order),
            ),
            " LEFT JOIN src ON src.user_id = m.\"user_id\"".to_string(),
        )
    }

    /// Users the plan migrated whose source row moved on (a later `order_column`) or is gone:
    /// the condition on `m`, a row of migration_users (with `changed_source` around it).
    pub(super) fn changed_sql(&self, order: &str) -> String {
        if self.distributed {
            return "(src.user_id IS NULL OR m.\"source_updated_at\" IS DISTINCT FROM src.latest)"
                .to_string();
        }
        format!(
            "(NOT EXISTS (SELECT 1 FROM {source} AS s WHERE s.{key}::text = m.\"user_id\") \
              OR m.\"source_updated_at\" IS DISTINCT FROM \
                 (SELECT max(s.{order})::timestamptz FROM {source} AS s WHERE s.{key}::text = m.\"user_id\"))",
            source = self.source,
            key = self.key,
            order = quote_ident(order),
        )
    }
}
