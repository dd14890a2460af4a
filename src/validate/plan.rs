//! Checks of the plan file itself: names, the id namespace, the owner expression.

use uuid::Uuid;

use super::draft::ident_diag;
use crate::diagnostic::Diagnostics;
use crate::ident::{MAX_IDENT_BYTES, is_valid_identifier};
use crate::spec::PlanSpec;
use crate::spec::load::SourceFile;

/// Checks the plan file's own values; returns its id namespace (nil when it is not a UUID, which
/// is reported).
pub(super) fn check(plan_file: &SourceFile<PlanSpec>, diags: &mut Diagnostics) -> Uuid {
    let p = &plan_file.spec;
    for (ptr, name, what) in [
        ("/plan", &p.plan, "plan name"),
        ("/source/schema", &p.source.schema, "schema name"),
        ("/source/table", &p.source.table, "table name"),
        ("/source/key_column", &p.source.key_column, "column name"),
        (
            "/source/document_column",
            &p.source.document_column,
            "column name",
        ),
        (
            "/source/order_column",
            &p.source.order_column,
            "column name",
        ),
        ("/target/schema", &p.target.schema, "schema name"),
        (
            "/target/audit_schema",
            &p.target.audit_schema,
            "schema name",
        ),
    ] {
        if let Some(d) = ident_diag(plan_file, ptr, name, what) {
            diags.push(d);
        }
    }
    // Per-plan objects in the audit schema are named `<plan>_reconstructed` and
    // `<plan>_begin_forward`: both must fit PostgreSQL's name length.
    let longest_suffix = "_begin_forward".len().max("_reconstructed".len());
    if is_valid_identifier(&p.plan) && p.plan.len() + longest_suffix > MAX_IDENT_BYTES {
        diags.push(
            plan_file
                .at(
                    "E-identifier",
                    "/plan",
                    format!(
                        "plan name `{}` is {} bytes long; at most {} fit, since the audit schema names objects after it (`{}_reconstructed`)",
                        p.plan,
                        p.plan.len(),
                        MAX_IDENT_BYTES - longest_suffix,
                        p.plan
                    ),
                )
                .with_hint("choose a shorter name"),
        );
    }
    check_layout(plan_file, diags);
    let namespace = match Uuid::parse_str(&p.ids.namespace) {
        Ok(u) => u,
        Err(_) => {
            diags.push(
                plan_file
                    .at("E-namespace", "/ids/namespace", format!("`{}` is not a UUID", p.ids.namespace))
                    .with_hint("generate one once (e.g. `uuidgen`) and never change it: every new id derives from it"),
            );
            Uuid::nil()
        }
    };
    let owner = p.security.owner_expression.trim();
    if owner.is_empty()
        || owner.contains(';')
        || owner.contains("--")
        || owner.contains("/*")
        || owner.chars().any(char::is_control)
        || !balanced_parentheses(owner)
    {
        diags.push(
            plan_file
                .at("E-owner-expression", "/security/owner_expression", "the owner expression must be one SQL expression")
                .with_hint("e.g. auth.uid()::text (Supabase) or current_setting('app.user_id', true); one line, balanced parentheses, no `;` or comments"),
        );
    }
    namespace
}

/// `target.layout` takes one way of splitting the tables, and partitions only with partitioning.
fn check_layout(plan_file: &SourceFile<PlanSpec>, diags: &mut Diagnostics) {
    let layout = &plan_file.spec.target.layout;
    if layout.partition_by.is_some() && layout.distribute_by.is_some() {
        diags.push(
            plan_file
                .at(
                    "E-layout",
                    "/target/layout/distribute_by",
                    "target.layout takes partition_by or distribute_by, not both",
                )
                .with_hint("partition_by: user_id splits each table on this server; distribute_by: user_id spreads them over Citus nodes"),
        );
    }
    if layout.partitions.is_some() && layout.partition_by.is_none() {
        diags.push(
            plan_file
                .at(
                    "E-layout",
                    "/target/layout/partitions",
                    "target.layout.partitions is given without partition_by",
                )
                .with_hint("add `partition_by: user_id`, or remove `partitions`"),
        );
    }
}

/// Parentheses outside string literals and quoted identifiers close in order and all close: the
/// owner expression is placed inside `(...)` in the policies, and `x) OR (true` would widen them.
fn balanced_parentheses(sql: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}
