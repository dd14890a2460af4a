//! The only statements the executor writes itself: catalog checks, source user lists and calls to
//! the ledger functions of `02_audit.sql`. Identifiers come from the validated plan and are quoted
//! by [`crate::ident`]; every value is a bind parameter.

use postgres::{Client, Transaction};
use serde_json::Value;

use crate::Error;
use crate::ident::quote_ident;
use crate::ir::Plan;
use crate::pg::Context;

mod ledger;
mod reading;
mod rework;
mod source;

pub(crate) use ledger::Batch;
pub use ledger::{NewRun, RunUsers};

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
    /// The target schema, quoted.
    pub t: String,
    /// Citus: a source table (perhaps distributed) is read on its own before the ledger.
    pub distributed: bool,
}

impl Queries {
    pub fn new(plan: &Plan) -> Self {
        let source = crate::source::SourceTable::new(plan);
        Queries {
            a: quote_ident(&plan.audit_schema),
            source: source.table,
            key: source.key,
            tables: plan.entities.iter().map(|e| e.table.clone()).collect(),
            t: quote_ident(&plan.target_schema),
            distributed: plan.layout == crate::ir::Layout::Distributed,
        }
    }
}
