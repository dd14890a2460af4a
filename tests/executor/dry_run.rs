//! `--dry-run`: everything a run does, rolled back, the database left as it was.

use super::*;

#[test]
fn dry_run_leaves_the_database_as_it_was() {
    let url = source_db("dry_run");
    assert_code(
        &pgshred(
            &url,
            &[
                "apply",
                PLAN,
                "--create-schema",
                "--allow-duplicates",
                "--limit",
                "4",
            ],
        ),
        0,
    );
    let ledger = |url: &str| -> String {
        connect(url)
            .query_one(
                "SELECT (SELECT coalesce(string_agg(r::text, ';' ORDER BY r.id), '') FROM pgshred.migration_runs r) || \
                        (SELECT coalesce(string_agg(b::text, ';' ORDER BY b.id), '') FROM pgshred.migration_batches b)",
                &[],
            )
            .unwrap()
            .get(0)
    };
    let (before, ledger_before) = (common::snapshot(&url), ledger(&url));
    let o = pgshred(
        &url,
        &[
            "apply",
            PLAN,
            "--dry-run",
            "--allow-duplicates",
            "--batch-size",
            "6",
        ],
    );
    assert_code(&o, 0);
    let (out, _) = text(&o);
    assert!(
        out.contains("dry run: 18 users in 3 batches would create"),
        "{out}"
    );
    assert!(out.contains("sample ids (legacy -> new):"), "{out}");
    let (sample_table, sample_legacy, sample_id) = out
        .lines()
        .skip_while(|l| !l.contains("sample ids"))
        .nth(1)
        .map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            (
                parts[0].to_string(),
                parts[1].to_string(),
                parts[3].to_string(),
            )
        })
        .unwrap();
    assert_eq!(
        (common::snapshot(&url), ledger(&url)),
        (before, ledger_before),
        "a dry run changed the database"
    );
    // The sample shows the id a real run gives that row.
    assert_code(&pgshred(&url, &["apply", PLAN, "--allow-duplicates"]), 0);
    let real: String = connect(&url)
        .query_one(
            &format!(
                "SELECT id::text FROM public.{} WHERE legacy_id = $1",
                pgshred::ident::quote_ident(&sample_table)
            ),
            &[&sample_legacy],
        )
        .unwrap()
        .get(0);
    assert_eq!(real, sample_id);
}

#[test]
fn dry_run_with_create_schema_on_an_empty_database_creates_nothing() {
    let url = source_db("dry_schema");
    let o = pgshred(
        &url,
        &[
            "apply",
            PLAN,
            "--dry-run",
            "--create-schema",
            "--allow-duplicates",
        ],
    );
    assert_code(&o, 0);
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_class WHERE relname IN ('orgs', 'migration_audit')"
        ),
        0
    );
}
