//! The bad day: the executor killed at 22 points across a run (fault injection, as `kill -9`),
//! its backend terminated by the server mid-batch, a lock_timeout and a statement_timeout firing.
//! Each time: a clear error, nothing of the batch in flight kept, and `--resume` ends with exactly
//! the tables of an uninterrupted run.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{connect, count, reference, root, rows_of_users, run, snapshot, source_db, text};

const PLAN: &str = "plans/user_app_state.yaml";
/// The fixture's 22 users in batches of 2: 11 batches.
const BATCHES: i32 = 11;

const APPLY: [&str; 5] = ["apply", PLAN, "--allow-duplicates", "--batch-size", "2"];

fn apply_args(extra: &[&'static str]) -> Vec<&'static str> {
    APPLY.iter().chain(extra).copied().collect()
}

/// `--resume` once the killed executor's lock is gone.
fn resume(url: &str, extra: &[&str]) -> Output {
    let args: Vec<&str> = ["apply", PLAN, "--resume", "--allow-duplicates"]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    common::run_when_unlocked(&args, url)
}

/// Rows and audit of the users of batch `seq`: none may remain of a batch that did not commit.
fn rows_of_batch(url: &str, seq: i32) -> i64 {
    let mut c = connect(url);
    let users: Vec<String> = c
        .query_one(
            "SELECT user_ids FROM pgshred.migration_batches WHERE seq = $1",
            &[&seq],
        )
        .unwrap()
        .get(0);
    rows_of_users(url, &users)
        + c.query_one(
            "SELECT count(*) FROM pgshred.migration_audit_sets AS a JOIN pgshred.migration_batches AS b ON b.id = a.batch_id WHERE b.seq = $1",
            &[&seq],
        )
        .unwrap()
        .get::<_, i64>(0)
}

/// Kills the executor at `point` of batch `seq`, checks what the kill left, resumes, compares.
fn kill_at(point: &str, seq: i32, jobs: &str) {
    common::needs_failpoints();
    let url = source_db(&format!("kill_{point}_{seq}_j{jobs}"));
    let o = Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args(apply_args(&["--create-schema", "--jobs"]))
        .arg(jobs)
        .env("DATABASE_URL", &url)
        .env("PGSHRED_FAILPOINT", format!("{point}:{seq}"))
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        None,
        "killed at {point}:{seq}: {:?}",
        text(&o)
    );
    let done = count(
        &url,
        "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'",
    );
    let status: String = connect(&url)
        .query_one(
            "SELECT status FROM pgshred.migration_batches WHERE seq = $1",
            &[&seq],
        )
        .unwrap()
        .get(0);
    if point == "committed" {
        assert_eq!(status, "done", "{point}:{seq}");
        assert!(rows_of_batch(&url, seq) > 0);
    } else {
        assert_ne!(status, "done", "{point}:{seq}");
        assert_eq!(
            rows_of_batch(&url, seq),
            0,
            "{point}:{seq} left rows behind"
        );
    }
    if jobs == "1" {
        let expected = if point == "committed" { seq } else { seq - 1 };
        assert_eq!(done, i64::from(expected), "{point}:{seq}");
    }
    let o = resume(&url, &["--jobs", jobs]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(
        snapshot(&url),
        reference(),
        "killed at {point}:{seq}, resumed"
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_batches WHERE status <> 'done'"
        ),
        0
    );
}

const POINTS: [&str; 5] = ["claimed", "forward", "verified", "finished", "committed"];

#[test]
fn killed_at_every_point_of_the_first_batch() {
    for p in POINTS {
        kill_at(p, 1, "1");
    }
}

#[test]
fn killed_at_every_point_of_an_early_batch() {
    for p in POINTS {
        kill_at(p, 4, "1");
    }
}

#[test]
fn killed_at_every_point_of_a_middle_batch() {
    for p in POINTS {
        kill_at(p, 8, "1");
    }
}

#[test]
fn killed_at_every_point_of_the_last_batch() {
    for p in POINTS {
        kill_at(p, BATCHES, "1");
    }
}

#[test]
fn killed_with_two_jobs_mid_batch() {
    kill_at("forward", 5, "2");
    kill_at("finished", 9, "2");
}

/// A session holding `LOCK TABLE contents IN SHARE MODE`: readers pass, a batch blocks on its
/// first write to it.
fn hold_lock(url: &str) -> postgres::Client {
    let mut c = connect(url);
    c.batch_execute("BEGIN; LOCK TABLE public.contents IN SHARE MODE")
        .unwrap();
    c
}

fn spawn_apply(url: &str, extra: &[&'static str]) -> Child {
    common::spawn(url, &apply_args(extra))
}

/// The pid of the backend waiting for the lock, once there is one.
fn waiting_backend(url: &str) -> i32 {
    let mut c = connect(url);
    for _ in 0..200 {
        if let Some(r) = c
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .unwrap()
        {
            return r.get(0);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("no batch waited for the lock")
}

#[test]
fn backend_terminated_mid_batch_then_resumed() {
    let url = source_db("terminated");
    // Schema first, so the lock can be taken on an existing table.
    let o = run(
        &apply_args(&["--create-schema", "--limit", "0"]),
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let locker = hold_lock(&url);
    let child = spawn_apply(&url, &["--lock-timeout", "0"]);
    let pid = waiting_backend(&url);
    let killed: bool = connect(&url)
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    drop(locker);
    let o = child.wait_with_output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}{err}");
    assert!(
        err.contains("terminating connection due to administrator command")
            || err.contains("connection closed"),
        "{err}"
    );
    assert!(err.contains("--resume"), "{err}");
    assert_eq!(rows_of_batch(&url, 1), 0);
    let o = resume(&url, &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(snapshot(&url), reference());
}

/// A timeout fires while a batch waits for a lock: the batch fails with the reason and a hint,
/// nothing of it is kept, and the run resumes once the lock is gone.
fn timeout_then_resume(test: &str, extra: &[&'static str], reason: &str) {
    let url = source_db(test);
    let o = run(
        &apply_args(&["--create-schema", "--limit", "0"]),
        Some(&url),
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let locker = hold_lock(&url);
    let o = spawn_apply(&url, extra).wait_with_output().unwrap();
    drop(locker);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}{err}");
    assert!(err.contains(reason), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(rows_of_batch(&url, 1), 0);
    let o = resume(&url, &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(snapshot(&url), reference());
}

#[test]
fn lock_timeout_fires_then_resumed() {
    timeout_then_resume(
        "lock_timeout",
        &["--lock-timeout", "200ms"],
        "canceling statement due to lock timeout",
    );
}

#[test]
fn statement_timeout_fires_then_resumed() {
    timeout_then_resume(
        "statement_timeout",
        &["--lock-timeout", "0", "--statement-timeout", "300ms"],
        "canceling statement due to statement timeout",
    );
}

/// The judge of a batch is the reviewed SQL, never its writer: an evaluator that loses a row or
/// adds one (a test-only fault in the COPY path's writer) is caught by `04_verify.sql` in the
/// batch's transaction, with `--engine copy` (per user) and `--bulk` (per entity, against the
/// server's COPY counts), and nothing of the batch commits.
#[test]
fn a_faulty_evaluator_is_caught_by_the_judge_and_nothing_commits() {
    common::needs_failpoints();
    for fault in ["drop-row", "add-row"] {
        for engine in [&["--engine", "copy"][..], &["--bulk"][..]] {
            let case = format!("{fault} {engine:?}");
            let url = source_db(&format!("judge_{fault}_{}", engine.len()).replace('-', "_"));
            let o = Command::new(env!("CARGO_BIN_EXE_pgshred"))
                .args(apply_args(&["--create-schema"]))
                .args(engine)
                .env("DATABASE_URL", &url)
                .env("PGSHRED_FAULT", fault)
                .current_dir(root())
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let (_, err) = text(&o);
            assert_eq!(o.status.code(), Some(6), "{case}: {err}");
            // The first mismatch, per user or (--bulk) per entity: rows missing or rows too many.
            let first = err
                .split("verification failed: ")
                .nth(1)
                .unwrap_or_default();
            let number = |s: &str| s.parse::<i64>().unwrap_or_else(|_| panic!("{case}: {err}"));
            let (expected, present) = first
                .split_once(" rows expected, ")
                .map(|(a, b)| {
                    let a = a.rsplit(' ').next().unwrap_or_default();
                    (number(a), number(b.split(' ').next().unwrap_or_default()))
                })
                .unwrap_or_else(|| panic!("{case}: {err}"));
            let wanted = if fault == "drop-row" {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            };
            assert_eq!(present.cmp(&expected), wanted, "{case}: {err}");
            assert_eq!(
                rows_of_users(&url, &common::all_users(&mut connect(&url))),
                0,
                "{case}"
            );
            assert_eq!(
                count(&url, "SELECT count(*) FROM pgshred.migration_audit_sets"),
                0,
                "{case}"
            );
            assert_eq!(
                count(
                    &url,
                    "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'"
                ),
                0,
                "{case}"
            );
            // Without the fault, the same run resumes and ends as the SQL path would.
            let o = resume(&url, &[]);
            assert_eq!(o.status.code(), Some(0), "{case}: {:?}", text(&o));
            assert_eq!(snapshot(&url), reference(), "{case}");
        }
    }
}

/// A panic of the evaluator (a bug) fails its batch naming the user and what to do, instead of
/// ending the process; nothing of the batch commits.
#[test]
fn a_panicking_evaluator_fails_its_batch_naming_the_user() {
    common::needs_failpoints();
    let url = source_db("evaluator_panic");
    let o = Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args(apply_args(&["--create-schema"]))
        .env("DATABASE_URL", &url)
        .env("PGSHRED_FAULT", "panic")
        .current_dir(root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(
        err.contains(
            "pgshred's evaluator failed on the document of user user-01 (a fault of the evaluator"
        ) && err.contains("a bug of pgshred"),
        "{err}"
    );
    assert_eq!(
        rows_of_users(&url, &common::all_users(&mut connect(&url))),
        0
    );
    // Without the fault, the run resumes to the reference.
    let o = resume(&url, &[]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(snapshot(&url), reference());
}
