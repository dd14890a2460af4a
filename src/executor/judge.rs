//! The judge: `04_verify.sql`, run in a batch's transaction before it commits and by
//! `pgshred verify`, as the reviewed file says, whichever engine wrote the rows.

use postgres::Transaction;

use crate::compiled::Compiled;
use crate::ident::quote_ident;
use crate::ir::Plan;
use crate::source::SourceTable;

/// Runs `04_verify.sql` in `tx` for the users in scope (the batch's, or everyone). On a
/// distributed plan whose source table is distributed too, with those users bound as a
/// parameter (see [`Compiled::verify_bound`]): every table is then pruned to the shards holding
/// them. With the source on the coordinator the file runs as it is: bound there, the check took
/// three times as long (`scripts/bench --citus`, docs/citus.md).
pub(super) fn run_04_verify(
    tx: &mut Transaction,
    plan: &Plan,
    files: &Compiled,
) -> Result<Vec<postgres::Row>, postgres::Error> {
    let Some(bound) = files.verify_bound() else {
        return tx.query(files.verify(), &[]);
    };
    let row = tx.query_one(
        &format!(
            "SELECT {}.scope_users(), EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition AS p \
                                                WHERE p.logicalrelid = to_regclass($1))",
            quote_ident(&plan.audit_schema)
        ),
        &[&SourceTable::new(plan).table],
    )?;
    if !row.get::<_, bool>(1) {
        return tx.query(files.verify(), &[]);
    }
    let scope: Option<Vec<String>> = row.get(0);
    tx.query(&bound, &[&scope])
}
