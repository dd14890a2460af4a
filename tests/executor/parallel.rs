//! `--jobs` and `--join`: several workers and processes on one run write exactly what one does,
//! stop together on a failure and resume.

use super::resume::{failed_run, kill_and_resume_with};
use super::*;

#[test]
fn two_jobs_write_exactly_what_one_does() {
    let url = source_db("jobs2");
    let o = pgshred(
        &url,
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "2",
            "--jobs",
            "2",
        ],
    );
    assert_code(&o, 0);
    assert!(
        text(&o)
            .0
            .contains("run 1: 22 users in 11 batches, 357 rows created"),
        "{}",
        text(&o).0
    );
    assert_eq!(common::snapshot(&url), reference());
    // A run written by two workers rolls back exactly like any other.
    let o = pgshred(&url, &["rollback", "--yes", PLAN, "--run", "1"]);
    assert_code(&o, 0);
    assert_eq!(
        common::rows_of_users(&url, &common::all_users(&mut common::connect(&url))),
        0
    );
    assert_eq!(
        count(&url, "SELECT count(*) FROM pgshred.migration_users"),
        0
    );
}

#[test]
fn killed_with_two_jobs_resumes_with_two_jobs_to_the_same_tables() {
    kill_and_resume_with("kill_jobs2", 4, "2");
}

#[test]
fn a_failing_batch_stops_the_other_workers_and_resume_finishes() {
    let url = source_db("jobs2_fail");
    let mut c = connect(&url);
    c.execute("UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,seats}', '\"many\"') WHERE user_id = 'user-09'", &[])
        .unwrap();
    let o = pgshred(
        &url,
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "2",
            "--jobs",
            "2",
        ],
    );
    assert_code(&o, 6);
    assert!(
        text(&o).1.contains("users: user-09, user-10"),
        "{}",
        text(&o).1
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM orgs WHERE user_id IN ('user-09', 'user-10')"
        ),
        0
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'failed'"
        ),
        1
    );
    c.execute("UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,seats}', '12') WHERE user_id = 'user-09'", &[])
        .unwrap();
    assert_code(
        &pgshred(
            &url,
            &[
                "apply",
                PLAN,
                "--resume",
                "--allow-duplicates",
                "--jobs",
                "2",
            ],
        ),
        0,
    );
    assert_eq!(common::snapshot(&url), reference());
}

#[test]
fn processes_that_join_a_run_share_its_batches() {
    let (url, mut c) = failed_run("join");
    c.execute("UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,seats}', '12') WHERE user_id = 'user-09'", &[])
        .unwrap();
    let join = || {
        Command::new(env!("CARGO_BIN_EXE_pgshred"))
            .args(["apply", PLAN, "--join", "--allow-duplicates", "--jobs", "2"])
            .env("DATABASE_URL", &url)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Both must find the run unfinished: a lock on a target table holds the first one's
    // batches until the second has started (else the first may finish the run alone, and
    // the second rightly finds nothing to join).
    let mut blocker = common::connect(&url);
    let mut hold = blocker.transaction().unwrap();
    hold.batch_execute("LOCK TABLE public.orgs IN EXCLUSIVE MODE")
        .unwrap();
    let (a, b) = (join(), join());
    std::thread::sleep(std::time::Duration::from_millis(1500));
    hold.commit().unwrap();
    for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        assert_code(&o, 0);
    }
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_batches WHERE status <> 'done'"
        ),
        0
    );
    assert_eq!(common::snapshot(&url), reference());
    let o = pgshred(&url, &["apply", PLAN, "--join", "--allow-duplicates"]);
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("there is no unfinished run of plan user_app_state to join"),
        "{}",
        text(&o).1
    );
}
