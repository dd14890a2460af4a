//! Preconditions and refusals before anything is written (bad options, modes that exclude each
//! other), and the rollback of one batch, which checks that nothing of it remains.

use super::*;

#[test]
fn rollback_of_one_batch_leaves_the_others_and_checks_nothing_remains() {
    let url = source_db("rollback");
    assert_code(
        &pgshred(
            &url,
            &[
                "apply",
                PLAN,
                "--create-schema",
                "--allow-duplicates",
                "--batch-size",
                "5",
            ],
        ),
        0,
    );
    let batch: i64 = count(
        &url,
        "SELECT id FROM pgshred.migration_batches WHERE seq = 2",
    );
    let batch_arg = batch.to_string();
    // Without --yes and without a terminal to ask on: refused, nothing deleted.
    let o = pgshred(&url, &["rollback", PLAN, "--batch", &batch_arg]);
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("not confirmed, and there is no terminal to ask on; nothing was changed"),
        "{}",
        text(&o).1
    );
    assert!(
        text(&o).1.contains("rollback deletes 74 rows ("),
        "{}",
        text(&o).1
    );
    // --dry-run says what it would delete, and deletes nothing.
    let rows = count(&url, "SELECT count(*) FROM orgs");
    let o = pgshred(
        &url,
        &["rollback", PLAN, "--batch", &batch_arg, "--dry-run"],
    );
    assert_code(&o, 0);
    assert!(
        text(&o).0.starts_with("would roll back 74 rows ("),
        "{}",
        text(&o).0
    );
    assert_eq!(count(&url, "SELECT count(*) FROM orgs"), rows);
    // A row deleted by hand since is not counted as rolled back.
    count(
        &url,
        "WITH d AS (DELETE FROM inbox_items WHERE id = (SELECT target_id FROM pgshred.migration_audit WHERE target_table = 'inbox_items' AND batch_id = (SELECT id FROM pgshred.migration_batches WHERE seq = 2) LIMIT 1) RETURNING 1) SELECT count(*) FROM d",
    );
    let o = pgshred(&url, &["rollback", "--yes", PLAN, "--batch", &batch_arg]);
    assert_code(&o, 0);
    assert!(
        text(&o).0.starts_with("rolled back 73 rows ("),
        "{}",
        text(&o).0
    );
    assert!(
        text(&o).0.trim_end().ends_with("none of them remains"),
        "{}",
        text(&o).0
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM orgs WHERE user_id IN ('user-06', 'user-07', 'user-08', 'user-09', 'user-10')"
        ),
        0
    );
    assert_eq!(count(&url, "SELECT count(*) FROM orgs"), 28 - 7);
    // Putting the users back (they are unmigrated again) restores the reference exactly.
    assert_code(&pgshred(&url, &["apply", PLAN, "--allow-duplicates"]), 0);
    assert_eq!(common::snapshot(&url), reference());
    // A whole run, then by user.
    assert_code(
        &pgshred(&url, &["rollback", "--yes", PLAN, "--user", "user-01"]),
        0,
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM personas WHERE user_id = 'user-01'"
        ),
        0
    );
    assert_code(
        &pgshred(&url, &["rollback", "--yes", PLAN, "--run", "1"]),
        0,
    );
    assert_code(
        &pgshred(&url, &["rollback", "--yes", PLAN, "--run", "2"]),
        0,
    );
    for t in TABLES {
        assert_eq!(
            count(
                &url,
                &format!(
                    "SELECT count(*) FROM public.{}",
                    pgshred::ident::quote_ident(t)
                )
            ),
            0,
            "{t}"
        );
    }
}

#[test]
fn preconditions_refuse_before_writing() {
    let url = source_db("preconditions");
    let o = pgshred(&url, &["apply", PLAN]);
    assert_code(&o, 5);
    assert!(
        text(&o).1.contains(
            "refused: 1 user(s) have more than one row in public.user_app_state, e.g. user-21"
        ),
        "{}",
        text(&o).1
    );
    assert!(text(&o).1.contains("dedupe.sql"));
    let o = pgshred(&url, &["apply", PLAN, "--allow-duplicates"]);
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("refused: missing tables: public.orgs, public.personas"),
        "{}",
        text(&o).1
    );
    assert!(
        text(&o).1.contains("pass --create-schema"),
        "{}",
        text(&o).1
    );

    // A role subject to row-level security would write rows it cannot see.
    assert_code(
        &pgshred(
            &url,
            &[
                "apply",
                PLAN,
                "--create-schema",
                "--allow-duplicates",
                "--limit",
                "1",
            ],
        ),
        0,
    );
    let mut c = connect(&url);
    c.batch_execute(
        "CREATE ROLE app_writer LOGIN; GRANT USAGE ON SCHEMA public, pgshred TO app_writer; \
         GRANT ALL ON ALL TABLES IN SCHEMA public, pgshred TO app_writer; \
         GRANT ALL ON ALL SEQUENCES IN SCHEMA pgshred TO app_writer",
    )
    .unwrap();
    let as_app = url.replace("user=postgres", "user=app_writer");
    let o = pgshred(&as_app, &["apply", PLAN, "--allow-duplicates"]);
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("refused: role app_writer is subject to row-level security on public.orgs"),
        "{}",
        text(&o).1
    );

    c.batch_execute("ALTER TABLE user_app_state RENAME COLUMN state TO doc")
        .unwrap();
    let o = pgshred(&url, &["apply", PLAN, "--allow-duplicates"]);
    assert_code(&o, 5);
    assert!(text(&o).1.contains("refused: source table public.user_app_state has no column state (source.document_column in the plan)"), "{}", text(&o).1);
    c.batch_execute("ALTER TABLE user_app_state RENAME TO old_state")
        .unwrap();
    let o = pgshred(&url, &["apply", PLAN]);
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("refused: source table public.user_app_state does not exist"),
        "{}",
        text(&o).1
    );
}

/// `--jobs` is bounded: each worker holds connections and a batch in memory.
#[test]
fn jobs_are_one_to_sixty_four() {
    for (jobs, words) in [
        ("0", "workers are 1 to 64, not 0"),
        ("65", "workers are 1 to 64, not 65"),
        ("many", "`many` is not a number of workers"),
    ] {
        // Refused while reading the arguments, before any connection.
        let o = common::run(&["apply", PLAN, "--jobs", jobs], None);
        assert_code(&o, 2);
        assert!(text(&o).1.contains(words), "{}", text(&o).1);
    }
}

/// `--join` continues the unfinished run as `--resume` does, so the two are not given together;
/// nor are a dry run and a resume, or `--bulk` and `--engine sql`.
#[test]
fn modes_that_exclude_each_other_are_refused_before_any_connection() {
    for args in [
        &["--join", "--resume"][..],
        &["--dry-run", "--resume"],
        &["--bulk", "--engine", "sql"],
        &["--user", "u1", "--limit", "5"],
        &["--retry-quarantined", "--remap", "orgs"],
    ] {
        // A URL nothing listens on: the refusal comes before any connection is tried.
        let url = ["--database-url", "postgres://nobody@127.0.0.1:1/none"];
        let o = common::run(&[&["apply", PLAN][..], &url, args].concat(), None);
        let err = text(&o).1;
        assert!(
            o.status.code() == Some(2)
                && (err.contains("cannot be used with") || err.contains("--bulk writes with")),
            "{args:?}: {err}"
        );
    }
}
