//! Users already migrated that a new run takes again: grouped by the versions of the mappings
//! they were migrated with, or changed at the source (`--sync`).

use postgres::Client;
use serde_json::Value;

use super::{Queries, Reworked, utc_transaction};
use crate::Error;
use crate::pg::Context;

impl Queries {
    /// Migrated users (quarantined ones left out) grouped by the versions of the mappings they
    /// were migrated with and, with `sync`, by whether their source changed since: the versions,
    /// whether changed, and how many users.
    pub fn version_groups(
        &self,
        c: &mut Client,
        plan: &str,
        sync: Option<&str>,
    ) -> Result<Vec<(Value, bool, i64)>, Error> {
        let (with, join) = sync.map_or_else(Default::default, |o| self.changed_source(o));
        let sql = format!(
            "{with}SELECT m.\"entities\", {changed}, count(*) FROM {a}.\"migration_users\" AS m{join} \
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
    pub(super) fn rework_selection<'a>(
        &self,
        users: &'a Reworked,
        param: &str,
    ) -> (String, Option<&'a Value>) {
        let (with, join) = match users {
            Reworked::Changed { order }
            | Reworked::Group {
                sync: Some(order), ..
            } => self.changed_source(order),
            _ => Default::default(),
        };
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
            "{with}SELECT m.\"user_id\" FROM {a}.\"migration_users\" AS m{join} \
              WHERE m.\"plan\" = $2 AND {condition} \
                AND {not}EXISTS (SELECT 1 FROM {a}.\"migration_quarantine\" AS q WHERE q.\"plan\" = $2 AND q.\"user_id\" = m.\"user_id\") \
              ORDER BY m.\"user_id\" LIMIT $1",
            a = self.a,
            not = if quarantined { "" } else { "NOT " },
        );
        (sql, group)
    }
}
