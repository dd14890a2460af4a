//! The runbook's preparation steps against a real PostgreSQL: backup with a manifest, restore that
//! checks it, dedupe that reviews and then keeps the newest row only with a fresh backup.

mod common;

use common::{TempDir, connect, run, source_db, text};

const PLAN: &str = "plans/user_app_state.yaml";

fn rows(url: &str, table: &str) -> Vec<String> {
    connect(url)
        .query(
            &format!("SELECT to_jsonb(t)::text FROM public.{table} AS t ORDER BY 1"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn backup_and_restore_round_trip_and_a_changed_file_is_refused() {
    let url = source_db("backup");
    let dir = TempDir::new("backup");
    let file = dir.path().join("state.jsonl");
    let file_arg = file.to_str().unwrap();
    let o = run(&["backup", PLAN, "--out", file_arg], Some(&url));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert!(
        text(&o)
            .0
            .starts_with("backed up 23 rows of public.user_app_state to "),
        "{}",
        text(&o).0
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("state.jsonl.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["rows"], 23);
    assert_eq!(manifest["plan"], "user_app_state");
    // backup.sql, as psql runs it, prints the backup's lines.
    let script = std::fs::read_to_string("generated/user_app_state/backup.sql").unwrap();
    let printed: String = connect(&url)
        .query(script.as_str(), &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0) + "\n")
        .collect();
    assert_eq!(printed, std::fs::read_to_string(&file).unwrap());
    // The backup is the preview's input format too.
    let o = run(&["preview", PLAN, "--input-file", file_arg], None);
    assert!(
        text(&o).0.starts_with("23 source rows, 22 users\n"),
        "{}",
        text(&o).0
    );

    let o = run(
        &[
            "restore",
            PLAN,
            "--from",
            file_arg,
            "--into",
            "user_app_state_restored",
        ],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert!(
        text(&o)
            .0
            .contains("restored 23 rows into public.user_app_state_restored"),
        "{}",
        text(&o).0
    );
    assert_eq!(
        rows(&url, "user_app_state_restored"),
        rows(&url, "user_app_state")
    );

    let tampered = std::fs::read_to_string(&file)
        .unwrap()
        .replacen("user-01", "user-99", 1);
    std::fs::write(&file, tampered).unwrap();
    let o = run(
        &["restore", PLAN, "--from", file_arg, "--into", "again"],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(5));
    assert!(
        text(&o).1.contains("does not match its manifest"),
        "{}",
        text(&o).1
    );
    let exists: bool = connect(&url)
        .query_one("SELECT to_regclass('public.again') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!exists, "a refused restore created its table");
}

#[test]
fn dedupe_reviews_then_keeps_the_newest_row_only_with_a_fresh_backup() {
    let url = source_db("dedupe");
    let o = run(&["dedupe", PLAN, "--review"], Some(&url));
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o).0,
        "user-21: 2 rows, newest 2024-11-01 00:00:00+00\n1 users have more than one row\n"
    );
    // dedupe.sql's review, as psql runs it, finds the same user.
    let script = std::fs::read_to_string("generated/user_app_state/dedupe.sql").unwrap();
    let review = connect(&url).query(script.as_str(), &[]).unwrap();
    let found: Vec<(String, i64)> = review.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(found, vec![("user-21".to_string(), 2)]);

    let dir = TempDir::new("dedupe");
    let file = dir.path().join("before-dedupe.jsonl");
    let file_arg = file.to_str().unwrap();
    assert_eq!(
        run(&["backup", PLAN, "--out", file_arg], Some(&url))
            .status
            .code(),
        Some(0)
    );
    // Without --yes, and no terminal to ask on: refused, nothing deleted.
    let o = run(
        &["dedupe", PLAN, "--apply", "--backup", file_arg],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(5), "{}", text(&o).1);
    assert!(
        text(&o)
            .1
            .contains("dedupe deletes 1 older source row of 1 user: not confirmed"),
        "{}",
        text(&o).1
    );
    // The source changes after the backup: the backup no longer holds everything.
    connect(&url)
        .execute(
            "UPDATE user_app_state SET updated_at = now() WHERE user_id = 'user-05'",
            &[],
        )
        .unwrap();
    let o = run(
        &["dedupe", PLAN, "--apply", "--yes", "--backup", file_arg],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(5));
    assert!(
        text(&o)
            .1
            .contains("the source changed after the backup was taken"),
        "{}",
        text(&o).1
    );

    assert_eq!(
        run(&["backup", PLAN, "--out", file_arg], Some(&url))
            .status
            .code(),
        Some(0)
    );
    let o = run(
        &["dedupe", PLAN, "--apply", "--yes", "--backup", file_arg],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert_eq!(
        text(&o).0,
        "deleted the row of user-21 from 2024-01-01 00:00:00+00\ndeleted 1 older rows; every user now has one row\n"
    );
    let name: String = connect(&url)
        .query_one(
            "SELECT state #>> '{orgs,0,name}' FROM user_app_state WHERE user_id = 'user-21'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(name, "Org 21", "the newest row is the one kept");
    // Now apply needs no --allow-duplicates.
    assert_eq!(
        run(&["apply", PLAN, "--create-schema"], Some(&url))
            .status
            .code(),
        Some(0)
    );
}
