//! Checks made before the first write, each refusing with what is wrong and what to do.

use crate::pg::Context;
use postgres::Client;

use super::progress::Reporter;
use super::sql::Queries;
use crate::Error;
use crate::ident::quote_ident;
use crate::ir::Plan;

/// Transaction-mode poolers (Supabase's port 6543) hand each transaction to any server session, so
/// a session advisory lock would not protect anything.
pub fn refuse_transaction_pooler(url: &str) -> Result<(), Error> {
    let tls = crate::pg::tls::split(url)?;
    let port = tls
        .url
        .parse::<postgres::Config>()
        .ok()
        .and_then(|c| c.get_ports().first().copied());
    if port == Some(6543) {
        return Err(Error::refused(
            "port 6543 is a transaction-mode pooler (Supabase): session locks and settings do not hold there",
            "connect directly (port 5432 of the database host) or through the session-mode pooler (port 5432)",
        ));
    }
    Ok(())
}

/// The row-level security policies call the plan's `security.owner_expression` (Supabase's
/// `auth.uid()` in the shipped plan): on a database without what it names, creating them would
/// fail half way through the schema script with `schema "auth" does not exist`. Planned here,
/// never run, so nothing is written.
pub fn check_owner_expression(c: &mut Client, plan: &Plan) -> Result<(), Error> {
    if !plan.row_level_security {
        return Ok(());
    }
    let probe = format!("SELECT ({})::text WHERE false", plan.owner_expression);
    let Err(e) = c.query(probe.as_str(), &[]) else {
        return Ok(());
    };
    let reason = e
        .as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string());
    Err(Error::refused(
        format!(
            "the plan's security.owner_expression `{}` cannot be evaluated on this database: {reason}",
            plan.owner_expression
        ),
        "on Supabase it exists as it is; on plain PostgreSQL either load a stand-in (the shipped one: psql \"$DATABASE_URL\" -f fixtures/supabase_auth_stub.sql) or set security.owner_expression to an expression of your own, e.g. current_setting('app.user_id', true)",
    ))
}

/// Column names and types of a relation, or `None` when it does not exist.
fn columns(c: &mut Client, relation: &str) -> Result<Option<Vec<(String, String)>>, Error> {
    if !crate::pg::relation_exists(c, relation)? {
        return Ok(None);
    }
    let rows = c
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
              WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&relation],
        )
        .context("reading a table's columns")?;
    Ok(Some(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
}

/// The source table and its columns exist with usable types; no user has two rows (unless allowed).
pub fn check_source(
    c: &mut Client,
    plan: &Plan,
    q: &Queries,
    allow_duplicates: bool,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    let s = &plan.source;
    let name = format!("{}.{}", s.schema, s.table);
    let Some(cols) = columns(c, &q.source)? else {
        if super::guard::Node::of(c)? == super::guard::Node::Coordinator {
            return Err(Error::refused(
                format!(
                    "source table {name} is not on this worker node of the Citus cluster (a table local to the coordinator is read there alone)"
                ),
                "join the run through the coordinator, or distribute the source table by user, colocated with the plan's tables, so every node reads it (docs/citus.md)",
            ));
        }
        return Err(Error::refused(
            format!("source table {name} does not exist"),
            "check source.schema and source.table in the plan, and that DATABASE_URL names the right database",
        ));
    };
    check_source_columns(plan, &name, &cols)?;
    warn_about_source(c, plan, q, &name, out)?;
    let (n, first) = q.duplicate_users(c)?;
    if n > 0 {
        let msg = format!(
            "{n} user(s) have more than one row in {name}, e.g. {}",
            first.join(", ")
        );
        if !allow_duplicates {
            return Err(Error::refused(
                msg,
                format!(
                    "review and remove them with generated/{}/dedupe.sql (after a backup), or pass --allow-duplicates to migrate the newest row of each",
                    plan.name
                ),
            ));
        }
        out.line(&format!(
            "{msg}; the newest row of each is migrated (--allow-duplicates)"
        ));
    }
    Ok(())
}

/// The key, document and order columns exist with types pgshred reads, the key's as the plan
/// says.
fn check_source_columns(plan: &Plan, name: &str, cols: &[(String, String)]) -> Result<(), Error> {
    let s = &plan.source;
    for (col, what, types) in [
        (
            &s.key_column,
            "key_column",
            &["text", "character varying", "uuid", "integer", "bigint"][..],
        ),
        (&s.document_column, "document_column", &["jsonb"][..]),
        (
            &s.order_column,
            "order_column",
            &["timestamp with time zone", "timestamp without time zone"][..],
        ),
    ] {
        match cols.iter().find(|(n, _)| n == col) {
            None => {
                return Err(Error::refused(
                    format!("source table {name} has no column {col} (source.{what} in the plan)"),
                    format!(
                        "columns of {name}: {}",
                        cols.iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            Some((_, ty)) if !types.iter().any(|t| ty.starts_with(t)) => {
                let hint = if what == "document_column" {
                    format!(
                        "convert it first: ALTER TABLE {name} ALTER COLUMN {col} TYPE jsonb USING {col}::jsonb"
                    )
                } else {
                    format!("expected {}", types.join(" or "))
                };
                return Err(Error::refused(
                    format!("source column {name}.{col} has type {ty}"),
                    hint,
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((_, ty)) = cols.iter().find(|(n, _)| *n == s.key_column) {
        let live = if ty.starts_with("character varying") {
            "text"
        } else {
            ty.as_str()
        };
        if live != s.key_type {
            return Err(Error::refused(
                format!(
                    "source column {name}.{} has type {ty}, and the plan says source.key_type {}",
                    s.key_column, s.key_type
                ),
                format!("set `key_type: {live}` under source: in the plan, then compile again"),
            ));
        }
    }
    Ok(())
}

/// What slows a run down or leaves users out, said before it starts: no index on the key, user
/// ids too long to migrate.
fn warn_about_source(
    c: &mut Client,
    plan: &Plan,
    q: &Queries,
    name: &str,
    out: &mut dyn Reporter,
) -> Result<(), Error> {
    let s = &plan.source;
    let indexed: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_index AS i JOIN pg_attribute AS a \
                              ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                             WHERE i.indrelid = to_regclass($1) AND a.attname = $2)",
            &[&q.source, &s.key_column],
        )
        .context("looking for an index on the source key")?
        .get(0);
    if !indexed {
        out.line(&format!(
            "warning: no index on {name}({}): every batch reads the whole source table; \
             consider CREATE INDEX CONCURRENTLY ON {name} ({}) first",
            s.key_column, s.key_column
        ));
    }
    let (n, first) = q.overlong_users(c)?;
    if n > 0 {
        out.line(&format!(
            "warning: {n} source user(s) have ids longer than {} bytes and are left out (an index entry holds at most 2,704 bytes); `pgshred verify` lists them: {}",
            crate::ids::MAX_ID_BYTES,
            first
                .iter()
                .map(|(u, len)| format!("{u:?}... ({len} bytes)"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// Target and audit tables exist, the ledger functions are current, and the connected role can
/// write past row-level security.
pub fn check_targets(
    c: &mut Client,
    plan: &Plan,
    q: &Queries,
    schema_comes_with_each_batch: bool,
) -> Result<(), Error> {
    if schema_comes_with_each_batch {
        return Ok(());
    }
    let mut missing = Vec::new();
    let tables: Vec<(String, String)> = plan
        .entities
        .iter()
        .map(|e| (plan.target_schema.clone(), e.table.clone()))
        .chain(
            crate::validate::AUDIT_TABLES
                .iter()
                .map(|t| (plan.audit_schema.clone(), t.to_string())),
        )
        .collect();
    for (schema, table) in &tables {
        let rel = format!("{}.{}", quote_ident(schema), quote_ident(table));
        if columns(c, &rel)?.is_none() {
            missing.push(format!("{schema}.{table}"));
        }
    }
    if !missing.is_empty() {
        return Err(Error::refused(
            format!("missing tables: {}", missing.join(", ")),
            format!(
                "pass --create-schema, or run generated/{p}/01_schema.sql and generated/{p}/02_audit.sql first",
                p = plan.name
            ),
        ));
    }
    check_columns(c, plan)?;
    check_ledger_is_current(c, plan, q)?;
    check_role(c, plan)
}

/// The audit schema has this pgshred's ledger functions.
fn check_ledger_is_current(c: &mut Client, plan: &Plan, q: &Queries) -> Result<(), Error> {
    // The function added last: a ledger that has it has all the others.
    let ledger = format!("{}.restore_deferred(bigint,integer)", q.a);
    let current: bool = c
        .query_one("SELECT to_regprocedure($1) IS NOT NULL", &[&ledger])
        .context("looking up the ledger functions")?
        .get(0);
    if !current {
        return Err(Error::refused(
            "the audit schema predates this pgshred (no restore_deferred function)",
            format!(
                "re-run generated/{}/02_audit.sql (it is idempotent), or pass --create-schema",
                plan.name
            ),
        ));
    }
    Ok(())
}

/// The connected role may write the target tables, and row-level security does not hide rows
/// from it.
fn check_role(c: &mut Client, plan: &Plan) -> Result<(), Error> {
    for e in &plan.entities {
        let rel = format!(
            "{}.{}",
            quote_ident(&plan.target_schema),
            quote_ident(&e.table)
        );
        let r = c
            .query_one(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_has_role(current_user, c.relowner, 'USAGE'), \
                        r.rolsuper OR r.rolbypassrls, has_table_privilege(c.oid, 'INSERT, SELECT, DELETE'), current_user::text \
                   FROM pg_class AS c, pg_roles AS r WHERE c.oid = to_regclass($1) AND r.rolname = current_user",
                &[&rel],
            )
            .context("checking row-level security")?;
        let (rls, forced, owner, bypass, privileged, role): (bool, bool, bool, bool, bool, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        if !privileged {
            return Err(Error::refused(
                format!(
                    "role {role} may not INSERT, SELECT and DELETE on {}.{}",
                    plan.target_schema, e.table
                ),
                "run as the role that owns the tables, or grant those privileges",
            ));
        }
        if rls && !bypass && (!owner || forced) {
            return Err(Error::refused(
                format!(
                    "role {role} is subject to row-level security on {}.{}: it would write rows it cannot see, and checks would pass on nothing",
                    plan.target_schema, e.table
                ),
                "run as the tables' owner (without FORCE ROW LEVEL SECURITY) or a role with BYPASSRLS, e.g. postgres on Supabase",
            ));
        }
    }
    Ok(())
}

/// Every mapped column exists with the type the mapping declares: a batch must never write into a
/// column whose live type differs (12.5 into a bigint is stored as 13), so a schema change the
/// mapping made and nobody applied is refused, with the command that applies it.
fn check_columns(c: &mut Client, plan: &Plan) -> Result<(), Error> {
    let mut wrong = Vec::new();
    for e in &plan.entities {
        let rel = format!(
            "{}.{}",
            quote_ident(&plan.target_schema),
            quote_ident(&e.table)
        );
        let (names, types): (Vec<String>, Vec<String>) = e
            .parent
            .iter()
            .map(|p| (p.column.clone(), "uuid".to_string()))
            .chain(
                e.columns
                    .iter()
                    .map(|col| (col.name.clone(), col.ty.sql().to_string())),
            )
            .chain(e.extra.iter().map(|x| (x.clone(), "jsonb".to_string())))
            .unzip();
        let rows = c
            .query(
                "SELECT x.col, format_type(x.typ::regtype, NULL), format_type(a.atttypid, a.atttypmod) \
                   FROM unnest($2::text[], $3::text[]) AS x(col, typ) \
                   LEFT JOIN pg_attribute AS a ON a.attrelid = to_regclass($1) AND a.attname = x.col \
                        AND a.attnum > 0 AND NOT a.attisdropped \
                  WHERE a.atttypid IS DISTINCT FROM x.typ::regtype",
                &[&rel, &names, &types],
            )
            .context("comparing the tables' columns with the mappings")?;
        for r in rows {
            let (col, want, have): (String, String, Option<String>) =
                (r.get(0), r.get(1), r.get(2));
            wrong.push(match have {
                Some(have) => format!("{}.{col} is {have}, the mapping says {want}", e.table),
                None => format!("{}.{col} ({want}) does not exist", e.table),
            });
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Error::refused(
        format!(
            "the tables do not match the compiled schema: {}; nothing was written",
            wrong.join("; ")
        ),
        format!(
            "apply the schema change first: run again with --create-schema (01_schema.sql adds and retypes columns, under lock_timeout), or have a DBA run generated/{}/01_schema.sql",
            plan.name
        ),
    ))
}
