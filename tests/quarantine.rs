//! `apply --max-bad-users`: bad users are found by splitting failing batches, set aside with what
//! is wrong, and never half-migrated; the good users end up exactly as if the bad ones had not
//! been there; the preview's lint names the same users; `--retry-quarantined` takes them again.

mod common;

use common::{
    BROKEN_USERS, broken_fixture, connect, rows_of_users, run, snapshot, source_db_with_rows, text,
};
use serde_json::Value;

const PLAN: &str = "plans/user_app_state.yaml";

/// A first run with `--max-bad-users max`, schema included.
fn apply_keeping_going(url: &str, max: &str) -> std::process::Output {
    run(
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "8",
            "--max-bad-users",
            max,
        ],
        Some(url),
    )
}

fn quarantined(url: &str) -> Vec<(String, Option<String>, Option<String>, String)> {
    connect(url)
        .query(
            "SELECT user_id, entity, path, error FROM pgshred.migration_quarantine ORDER BY user_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

#[test]
fn bad_users_are_quarantined_and_the_rest_equals_a_run_without_them() {
    let rows = broken_fixture();
    let url = source_db_with_rows("quarantine", &rows);
    let o = apply_keeping_going(&url, "5");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("quarantined: 5 users"), "{out}");

    // Exactly the broken users, each with where and why.
    let q = quarantined(&url);
    let who: Vec<&str> = q.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(who, BROKEN_USERS);
    let by_user = |u: &str| q.iter().find(|r| r.0 == u).unwrap().clone();
    let (_, entity, path, error) = by_user("user-07");
    assert_eq!(
        (entity.as_deref(), path.as_deref()),
        (Some("contents"), Some("wordCount"))
    );
    assert!(error.contains("cannot convert value to integer"), "{error}");
    let (_, entity, _, error) = by_user("user-08");
    assert_eq!(entity.as_deref(), Some("contents"));
    assert!(error.contains("p_nobody"), "{error}");
    assert!(by_user("user-10").3.contains("more than once"), "{q:?}");

    // The offline preview's lint flags the same users as batch-stopping (severity abort).
    let dir = common::TempDir::new("quarantine");
    let file = dir.path().join("rows.json");
    std::fs::write(&file, serde_json::to_string(&rows).unwrap()).unwrap();
    let o = run(
        &[
            "preview",
            PLAN,
            "--input-file",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    let mut flagged: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["finding"]["severity"] == "abort")
        .map(|v| v["finding"]["user_id"].as_str().unwrap().to_string())
        .collect();
    flagged.dedup();
    assert_eq!(flagged, who);

    // No partial rows for them, and the others as a run without them makes them.
    assert_eq!(rows_of_users(&url, &BROKEN_USERS), 0);
    let good: Vec<Value> = rows
        .iter()
        .filter(|r| !BROKEN_USERS.contains(&r["user_id"].as_str().unwrap()))
        .cloned()
        .collect();
    let clean = source_db_with_rows("quarantine_clean", &good);
    let o = run(
        &["apply", PLAN, "--create-schema", "--allow-duplicates"],
        Some(&clean),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(snapshot(&url), snapshot(&clean));

    // status lists them; a new run leaves them alone; verify finds the migrated users complete.
    let (out, _) = text(&run(&["status", PLAN], Some(&url)));
    assert!(out.contains("quarantined users (5;"), "{out}");
    assert!(
        out.contains("user user-07") && out.contains("path wordCount"),
        "{out}"
    );
    let o = run(&["apply", PLAN, "--allow-duplicates"], Some(&url));
    assert!(text(&o).0.contains("nothing to do"), "{:?}", text(&o));

    // Fix one user's document and retry: it migrates and leaves the quarantine; the others stay.
    connect(&url)
        .execute(
            "UPDATE user_app_state SET state = jsonb_set(state, '{contents,1,wordCount}', '120') WHERE user_id = 'user-07'",
            &[],
        )
        .unwrap();
    let o = run(
        &[
            "apply",
            PLAN,
            "--allow-duplicates",
            "--retry-quarantined",
            "--max-bad-users",
            "4",
        ],
        Some(&url),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("5 users in 1 batch") || out.contains("run "),
        "{out}"
    );
    let who: Vec<String> = quarantined(&url).into_iter().map(|r| r.0).collect();
    assert_eq!(who, &BROKEN_USERS[1..]);
    assert!(rows_of_users(&url, &["user-07"]) > 0);
    assert_eq!(rows_of_users(&url, &BROKEN_USERS[1..]), 0);
    let o = run(&["verify", PLAN], Some(&url));
    // The quarantined users have documents and no rows: verify does not pass them, and lists
    // each (a document that is not even well formed, user-11's, does not stop the check).
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    for u in &BROKEN_USERS[1..] {
        assert!(
            out.contains(&format!(
                "user {u}: quarantined, not migrated as its document stands"
            )),
            "{u}: {out}{err}"
        );
    }
    assert!(out.contains("; 4 quarantined users"), "{out}");
    assert!(
        !out.contains("user-07") && !err.contains("user-07"),
        "{out}{err}"
    );
}

#[test]
fn the_run_stops_when_more_than_max_bad_users_are_found() {
    let url = source_db_with_rows("quarantine_limit", &broken_fixture());
    let o = apply_keeping_going(&url, "2");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}{err}");
    assert!(err.contains("more than 2 bad users"), "{err}");
    // Whatever was quarantined is at most the limit, and no broken user has rows.
    assert!(quarantined(&url).len() <= 2);
    assert_eq!(rows_of_users(&url, &BROKEN_USERS), 0);
    // Raising the limit, the run resumes and finishes.
    let o = run(
        &[
            "apply",
            PLAN,
            "--allow-duplicates",
            "--resume",
            "--max-bad-users",
            "5",
        ],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(quarantined(&url).len(), 5);
}

#[test]
fn rolling_back_a_run_releases_its_quarantined_users() {
    let url = source_db_with_rows("quarantine_rollback", &broken_fixture());
    let o = apply_keeping_going(&url, "5");
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let run_id: i64 = connect(&url)
        .query_one("SELECT max(id) FROM pgshred.migration_runs", &[])
        .unwrap()
        .get(0);
    let o = run(
        &["rollback", "--yes", PLAN, "--run", &run_id.to_string()],
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(quarantined(&url).is_empty());
}

/// `--dry-run` goes through a real batch's steps, rolled back: with `--max-bad-users` it sets
/// aside the users the real run quarantines (both engines), past the limit it fails as the real
/// run does (exit 6), without it it stops at the first bad batch (exit 6), and it writes nothing.
#[test]
fn a_dry_run_isolates_the_users_the_real_run_quarantines_and_writes_nothing() {
    let url = source_db_with_rows("dry_isolate", &broken_fixture());
    let dry = |more: &[&str]| {
        let args: Vec<&str> = [
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "8",
            "--dry-run",
        ]
        .iter()
        .chain(more)
        .copied()
        .collect();
        run(&args, Some(&url))
    };
    for engine in ["copy", "sql"] {
        let o = dry(&["--engine", engine, "--max-bad-users", "5"]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{engine}: {out}{err}");
        assert!(out.contains("would quarantine: 5 users"), "{engine}: {out}");
        for user in BROKEN_USERS {
            assert!(
                err.contains(&format!("would quarantine user {user}: ")),
                "{engine}: {err}"
            );
        }
        let o = dry(&["--engine", engine, "--max-bad-users", "2"]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(6), "{engine}: {err}");
        assert!(err.contains("more than 2 bad users"), "{engine}: {err}");
        assert!(err.contains("of the dry run failed"), "{engine}: {err}");
        assert!(!err.contains("--resume"), "{engine}: {err}");
        let o = dry(&["--engine", engine]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(6), "{engine}: {err}");
        assert!(err.contains("user-07"), "{engine}: {err}");
    }
    let nothing: bool = connect(&url)
        .query_one("SELECT to_regclass('pgshred.migration_runs') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(nothing, "a dry run leaves the database as it was");
    // The real run quarantines the same users.
    let o = apply_keeping_going(&url, "5");
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let who: Vec<String> = quarantined(&url).into_iter().map(|r| r.0).collect();
    assert_eq!(who, BROKEN_USERS);
}
