//! What the preview and round-trip tests share: running pgshred, a migrated fixture, and the
//! comparisons of what the preview predicts, the tables hold and the round trip gives back.

use std::collections::BTreeMap;
use std::process::Output;

use serde_json::Value;

use super::{connect, fresh_db, load_fixture, root};

pub fn pgshred(args: &[&str], url: Option<&str>) -> Output {
    super::run(args, url)
}

/// (table, id) -> row, from the preview's JSON lines.
pub fn preview_rows(stdout: &[u8]) -> BTreeMap<(String, String), Value> {
    let mut rows = BTreeMap::new();
    for line in String::from_utf8_lossy(stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if let Some(row) = v.get("row") {
            let table = v["table"].as_str().unwrap().to_string();
            let id = row["id"].as_str().unwrap().to_string();
            assert!(
                rows.insert((table, id), row.clone()).is_none(),
                "row predicted twice: {line}"
            );
        }
    }
    rows
}

/// The first column of every row `sql` returns.
pub fn first_column<T: for<'a> postgres::types::FromSql<'a>>(
    c: &mut postgres::Client,
    sql: &str,
) -> Vec<T> {
    c.query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

pub fn migrated(test: &str, plan: &str, fixture: &str) -> String {
    let url = fresh_db(test);
    let mut c = connect(&url);
    load_fixture(&mut c, fixture);
    let o = pgshred(
        &["apply", plan, "--create-schema", "--allow-duplicates"],
        Some(&url),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    url
}

/// The preview's rows equal the database's, table by table.
pub fn preview_equals_database(c: &mut postgres::Client, plan: &str, input: &str, tables: &[&str]) {
    let o = pgshred(
        &["preview", plan, "--input-file", input, "--format", "json"],
        None,
    );
    let preview: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("table").is_some())
        .collect();
    for table in tables {
        let mut from_preview: Vec<String> = preview
            .iter()
            .filter(|v| v["table"] == *table)
            .map(|v| v["row"].to_string())
            .collect();
        from_preview.sort();
        let mut from_db: Vec<String> = c
            .query(
                &format!(
                    "SELECT (to_jsonb(t) - 'created_at' - 'updated_at')::text FROM {table} AS t"
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| {
                serde_json::from_str::<Value>(&r.get::<_, String>(0))
                    .unwrap()
                    .to_string()
            })
            .collect();
        from_db.sort();
        assert_eq!(from_preview, from_db, "{table}");
    }
}

/// `verify --roundtrip` passes and finds every one of `users` documents whole; its report.
pub fn roundtrip_clean(plan: &str, url: &str, users: usize) -> String {
    let o = pgshred(&["verify", plan, "--roundtrip"], Some(url));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "{users} users compared, 0 lost something (0 lost,"
        )),
        "{out}"
    );
    out
}

/// Every table of `plan` and its audit, row by row, in one text per table.
pub fn tables_of(url: &str, plan: &str) -> Vec<String> {
    let p = pgshred::validate::load_plan(&root().join(plan)).unwrap();
    let mut c = connect(url);
    let mut out: Vec<String> = p
        .entities
        .iter()
        .map(|e| {
            let sql = format!(
                "SELECT coalesce(string_agg((to_jsonb(whole_row) - 'created_at' - 'updated_at')::text, E'\\n' ORDER BY whole_row.id), '') FROM {}.{} AS whole_row",
                pgshred::ident::quote_ident(&p.target_schema),
                pgshred::ident::quote_ident(&e.table)
            );
            c.query_one(&sql, &[]).unwrap().get(0)
        })
        .collect();
    out.push(
        c.query_one(
            "SELECT coalesce(string_agg(concat_ws(' ', user_id, source_entity, legacy_id, target_table, target_id), E'\\n' \
                    ORDER BY target_table, target_id), '') FROM pgshred.migration_audit",
            &[],
        )
        .unwrap()
        .get(0),
    );
    out
}

/// `apply` of `input` fails, naming what `message` says, and the failed batch leaves `table`
/// empty.
pub fn fails_its_batch(test: &str, plan: &str, input: &str, message: &str, table: &str) {
    let url = fresh_db(test);
    let mut c = connect(&url);
    load_fixture(&mut c, input);
    let o = pgshred(&["apply", plan, "--create-schema"], Some(&url));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains(message), "{err}");
    let rows: i64 = c
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 0, "a failed batch writes nothing");
}

/// `verify --roundtrip --user USER` of the shipped plan: exit code and stdout.
pub fn verify_roundtrip_of(url: &str, user: &str) -> (Option<i32>, String) {
    let o = pgshred(
        &[
            "verify",
            "plans/user_app_state.yaml",
            "--roundtrip",
            "--user",
            user,
        ],
        Some(url),
    );
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// After `delete` runs on the tables, `verify --roundtrip --user USER` names what went missing
/// with `words`.
pub fn roundtrip_finds_deleted(url: &str, plan: &str, user: &str, delete: &str, words: &str) {
    connect(url).batch_execute(delete).unwrap();
    let o = pgshred(&["verify", plan, "--roundtrip", "--user", user], Some(url));
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains(words), "{report}");
}

/// The round trip of `users` gives every document back byte for byte (nothing lost, normalized
/// or declared), and the preview's rows equal the database's in `tables`.
pub fn comes_back_exactly(
    c: &mut postgres::Client,
    plan: &str,
    url: &str,
    users: usize,
    input: &str,
    tables: &[&str],
) {
    let out = roundtrip_clean(plan, url, users);
    assert!(out.contains("(0 lost, 0 normalized, 0 declared)"), "{out}");
    preview_equals_database(c, plan, input, tables);
}
