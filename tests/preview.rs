//! The offline preview against the real thing: for every fixture user, the rows the preview
//! predicts equal, column for column, what PostgreSQL holds after `pgshred apply`; and the lint
//! predicts the batches that fail.

mod common;

use std::collections::BTreeMap;

use common::shapes::*;
use common::{connect, fresh_db, load_fixture, root};
use serde_json::Value;

const PLAN: &str = "plans/user_app_state.yaml";
const FIXTURE: &str = "fixtures/sample_user_app_state.json";

/// (table, id) -> row as to_jsonb shows it, timestamps in UTC.
fn database_rows(url: &str) -> BTreeMap<(String, String), Value> {
    let mut c = connect(url);
    c.batch_execute("SET TIME ZONE 'UTC'").unwrap();
    let mut rows = BTreeMap::new();
    for t in common::TABLES {
        let q = format!(
            "SELECT x.id::text, to_jsonb(x) - 'created_at' - 'updated_at' FROM public.{} AS x",
            pgshred::ident::quote_ident(t)
        );
        for r in c.query(&q, &[]).unwrap() {
            rows.insert((t.to_string(), r.get::<_, String>(0)), r.get::<_, Value>(1));
        }
    }
    rows
}

#[test]
fn preview_rows_equal_the_database_column_for_column() {
    let url = fresh_db("differential");
    let mut c = connect(&url);
    load_fixture(&mut c, FIXTURE);
    let o = pgshred(
        &["apply", PLAN, "--create-schema", "--allow-duplicates"],
        Some(&url),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let o = pgshred(
        &["preview", PLAN, "--input-file", FIXTURE, "--format", "json"],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let predicted = preview_rows(&o.stdout);
    let actual = database_rows(&url);
    assert_eq!(predicted.len(), 357);
    let mut differences = Vec::new();
    for (key, row) in &actual {
        match predicted.get(key) {
            None => differences.push(format!("{key:?} is in the database, not in the preview")),
            Some(p) if p != row => {
                differences.push(format!("{key:?}\n  preview:  {p}\n  database: {row}"))
            }
            Some(_) => {}
        }
    }
    for key in predicted.keys().filter(|k| !actual.contains_key(*k)) {
        differences.push(format!("{key:?} is predicted but not in the database"));
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );

    // The same preview, reading the source table instead of a file.
    let o = pgshred(
        &["preview", PLAN, "--database-url", &url, "--format", "json"],
        None,
    );
    assert_eq!(preview_rows(&o.stdout), predicted);
    // And from DATABASE_URL, as every other database command reads it.
    let o = pgshred(&["preview", PLAN, "--format", "json"], Some(&url));
    assert_eq!(preview_rows(&o.stdout), predicted);
}

#[test]
fn lint_reports_what_would_stop_a_batch_and_exits_1() {
    let rows = common::broken_fixture();
    let guard = common::TempDir::new("lint");
    let dir = guard.path().to_path_buf();
    // JSON lines this time, the backup format.
    let file = dir.join("bad.jsonl");
    std::fs::write(
        &file,
        rows.iter()
            .map(|r| r.to_string() + "\n")
            .collect::<String>(),
    )
    .unwrap();

    let o = pgshred(
        &["preview", PLAN, "--input-file", file.to_str().unwrap()],
        None,
    );
    let report = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{report}");
    for expected in [
        "  ABORT cast contents wordCount: 1 time, 1 user\n      user user-07 c_p_7_1_2 value \"lots\": cannot convert value to integer",
        "  ABORT orphan contents personaId: 1 time, 1 user\n      user user-08 c_p_8_1_1 value \"p_nobody\": parent personas not found; the batch fails (on_missing: error)",
        "  ABORT missing_required accounts platform: 1 time, 1 user\n      user user-09 a_p_9_1: required value is missing",
        "  ABORT duplicate_id personas id: 1 time, 1 user\n      user user-10 p_10_1: legacy id appears 2 times; the batch fails (on_duplicate_id: error)",
        "  ABORT not_an_array leads leads: 1 time, 1 user\n      user user-11 value \"not a list\": expected an array",
        "  note  unmapped_document_key settings.darkMode: 1 time, 1 user\n      user user-11: no entity reads it: it is not migrated",
        "5 users would fail their batch",
    ] {
        assert!(
            report.contains(expected),
            "missing:\n{expected}\nin:\n{report}"
        );
    }

    // The executor fails exactly those users' batches (one user per batch).
    let url = fresh_db("lint_vs_apply");
    let mut c = connect(&url);
    load_fixture(&mut c, FIXTURE);
    for r in &rows {
        c.execute("UPDATE user_app_state SET state = $2 WHERE user_id = $1 AND updated_at = (SELECT max(updated_at) FROM user_app_state WHERE user_id = $1)", &[&r["user_id"].as_str().unwrap(), &r["state"]])
            .unwrap();
    }
    let mut failed = Vec::new();
    let users = common::all_users(&mut c);
    assert_eq!(
        pgshred(
            &[
                "apply",
                PLAN,
                "--create-schema",
                "--allow-duplicates",
                "--limit",
                "0"
            ],
            Some(&url)
        )
        .status
        .code(),
        Some(0)
    );
    for u in &users {
        let o = pgshred(
            &["apply", PLAN, "--allow-duplicates", "--user", u],
            Some(&url),
        );
        match o.status.code() {
            Some(0) => {}
            Some(6) => {
                failed.push(u.clone());
                // Leave no unfinished run behind for the next user.
                let run: i64 = c
                    .query_one("SELECT max(id) FROM pgshred.migration_runs", &[])
                    .unwrap()
                    .get(0);
                assert!(
                    pgshred(
                        &["rollback", "--yes", PLAN, "--run", &run.to_string()],
                        Some(&url)
                    )
                    .status
                    .success()
                );
            }
            other => panic!("{u}: {other:?} {}", String::from_utf8_lossy(&o.stderr)),
        }
    }
    assert_eq!(failed, common::BROKEN_USERS);
}

#[test]
fn one_users_rows_are_shown_with_their_ids() {
    let o = pgshred(
        &[
            "preview",
            PLAN,
            "--input-file",
            FIXTURE,
            "--user",
            "user-19",
        ],
        None,
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let id = pgshred::ids::row_id(
        &pgshred::validate::load_plan(&root().join(PLAN))
            .unwrap()
            .namespace,
        "personas",
        "user-19",
        "p_19_orphan",
    );
    assert!(
        out.contains(&format!("  \"p_19_orphan\" -> {id}\n")),
        "{out}"
    );
    assert!(
        out.contains("personas (3 rows)") && out.contains("orgs (1 row)\n"),
        "{out}"
    );
    assert!(out.contains("      org_id             null\n"), "{out}");
    assert!(
        out.contains("1 user\n") || out.contains("23 source rows, 1 user"),
        "{out}"
    );
}

#[test]
fn round_trip_of_the_fixture_compares_with_the_raw_documents() {
    let url = migrated("roundtrip", PLAN, FIXTURE);
    let o = pgshred(&["verify", PLAN, "--roundtrip"], Some(&url));
    let out = String::from_utf8_lossy(&o.stdout);
    // The shipped plan has no entity for the document root, so a top-level array that is empty
    // or null comes back absent: lost, and said; so is a number in a text[] list, which comes
    // back as text. Everything else is declared or normalized.
    assert_eq!(o.status.code(), Some(1), "{out}");
    for line in [
        "user user-03: leads: lost (empty array became absent): source [], rebuilt (absent)",
        "user user-16: leads: lost (null became absent): source null, rebuilt (absent)",
        "user user-17: contents[id=c_p_17_1_1].tags: lost (number came back as text): source [\"launch\",2024], rebuilt [\"launch\",\"2024\"]",
        "row counts match for every user and entity; round trip: 22 users compared, 9 lost something (9 lost, 393 normalized, 46 declared)",
        "  lost       empty array became absent: 7",
        "  lost       null became absent: 1",
        "  lost       number came back as text: 1",
        "  normalized text form: 375",
        "  declared   dropped: 44",
        "  declared   duplicate left out (keep_first): 1",
        "  declared   left out by a policy: 1",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
    assert_eq!(
        out.lines().filter(|l| l.contains(": lost (")).count(),
        9,
        "{out}"
    );
    // --format json: one object per difference, every class, and a summary object.
    let o = pgshred(
        &["verify", PLAN, "--roundtrip", "--format", "json"],
        Some(&url),
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, diffs) = lines.split_last().unwrap();
    assert_eq!(diffs.len(), 9 + 393 + 46);
    assert_eq!(summary["lost"], 9);
    assert!(diffs.iter().any(|d| d["class"] == "normalized"
        && d["path"] == "orgs[id=org_1_1].createdAt"
        && d["kind"] == "text form"));
    // --strict fails on normalized differences as well, and lists them.
    let o = pgshred(
        &[
            "verify",
            PLAN,
            "--roundtrip",
            "--strict",
            "--user",
            "user-01",
        ],
        Some(&url),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains(": normalized (text form): source "), "{out}");
    // The view is the user's document again: unmapped keys from extra, dangling references kept,
    // dropped keys gone.
    let state: Value = connect(&url)
        .query_one(
            "SELECT state FROM pgshred.user_app_state_reconstructed WHERE user_id = 'user-20'",
            &[],
        )
        .unwrap()
        .get(0);
    let org = &state["orgs"][0];
    assert_eq!(
        (org["id"].as_str(), org["industry"].as_str()),
        (Some("org_20_1"), Some("Publishing"))
    );
    assert!(org.get("_localCache").is_none());
    let state: Value = connect(&url)
        .query_one(
            "SELECT state FROM pgshred.user_app_state_reconstructed WHERE user_id = 'user-19'",
            &[],
        )
        .unwrap()
        .get(0);
    let orphan = state["personas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "p_19_orphan")
        .unwrap();
    assert_eq!(orphan["orgId"], "org_gone");
}

#[test]
fn round_trip_reports_each_difference_with_its_path_and_both_values() {
    let url = migrated("roundtrip_diff", PLAN, FIXTURE);
    connect(&url)
        .batch_execute(
            "UPDATE personas SET bio = 'tampered' WHERE legacy_id = 'p_3_1'; \
             DELETE FROM inbox_items WHERE legacy_id = 'i_a_p_4_1'; \
             UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,name}', '\"Renamed\"') || '{\"settings\": {\"darkMode\": true}}' \
              WHERE user_id = 'user-05'",
        )
        .unwrap();
    let o = pgshred(&["verify", PLAN, "--roundtrip"], Some(&url));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    for line in [
        "user user-04 inbox_items: 2 rows expected, 1 present",
        "user user-03: personas[id=p_3_1].profile.bio: lost (value changed): source \"Bio of persona 3.1\", rebuilt \"tampered\"",
        "user user-05: orgs[id=org_5_1].name: lost (value changed): source \"Renamed\", rebuilt \"Org 5\"",
        "user user-05: settings: lost (no entity reads it): source {\"darkMode\":true}, rebuilt (absent)",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
    assert!(
        out.contains("user user-04: inboxItems[id=i_a_p_4_1]: lost (element missing): source {"),
        "{out}"
    );
    let (code, out) = verify_roundtrip_of(&url, "user-02");
    assert_eq!(code, Some(0), "{out}");
}
