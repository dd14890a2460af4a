//! SIGINT and SIGTERM: the first finishes the batch in flight and stops resumably, a second
//! aborts it.

use super::*;

/// Starts `apply --batch-size 1` and returns once two batches are committed and the next one
/// is blocked on a lock the returned transaction holds.
fn blocked_apply(url: &str) -> (std::process::Child, postgres::Client) {
    let child = common::spawn(
        url,
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "1",
        ],
    );
    let done = |url: &str| {
        count(
            url,
            "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'",
        )
    };
    let started = std::time::Instant::now();
    while common::count(
        url,
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgshred'",
    ) == 0
        || done(url) < 2
    {
        assert!(started.elapsed().as_secs() < 30, "apply did not start");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut blocker = connect(url);
    blocker
        .batch_execute("BEGIN; LOCK TABLE public.orgs IN SHARE MODE")
        .unwrap();
    // The batch after the lock waits on it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    (child, blocker)
}

fn signal(child: &std::process::Child, sig: libc::c_int) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, sig) };
}

#[test]
fn a_signal_finishes_the_batch_in_flight_and_stops_resumably() {
    let url = source_db("signal_stop");
    let (child, mut blocker) = blocked_apply(&url);
    signal(&child, libc::SIGTERM);
    std::thread::sleep(std::time::Duration::from_millis(200));
    blocker.batch_execute("COMMIT").unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(8), "{err}");
    assert!(
        err.contains("stopping after the batches in flight"),
        "{err}"
    );
    assert!(
        err.contains("stopped by a signal: run 1 of plan user_app_state has"),
        "{err}"
    );
    assert!(err.contains("pgshred apply PLAN --resume"), "{err}");
    // The batch in flight finished: no batch is left half-done, and resume completes.
    let done = count(
        &url,
        "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'",
    );
    assert!((3..22).contains(&done), "{done} batches done");
    let run_status = |url: &str| -> String {
        connect(url)
            .query_one(
                "SELECT status FROM pgshred.migration_runs WHERE id = 1",
                &[],
            )
            .unwrap()
            .get(0)
    };
    assert_eq!(run_status(&url), "stopped");
    let status = pgshred(&url, &["status", PLAN]);
    assert!(text(&status).0.contains("stopped"), "{}", text(&status).0);
    // A stopped run is unfinished: a new apply refuses, --resume completes it.
    assert_code(&pgshred(&url, &["apply", PLAN, "--allow-duplicates"]), 5);
    assert_code(
        &pgshred(&url, &["apply", PLAN, "--resume", "--allow-duplicates"]),
        0,
    );
    assert_eq!(run_status(&url), "completed");
    assert_eq!(common::snapshot(&url), reference());
}

#[test]
fn a_second_signal_aborts_and_the_batch_in_flight_rolls_back() {
    let url = source_db("signal_abort");
    let (child, mut blocker) = blocked_apply(&url);
    let before = count(
        &url,
        "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'",
    );
    signal(&child, libc::SIGINT);
    std::thread::sleep(std::time::Duration::from_millis(100));
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    blocker.batch_execute("COMMIT").unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.contains("aborted: the batches in flight roll back"),
        "{err}"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let after = count(
        &url,
        "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'",
    );
    assert_eq!(after, before, "the batch in flight did not commit");
    assert_code(
        &pgshred(&url, &["apply", PLAN, "--resume", "--allow-duplicates"]),
        0,
    );
    assert_eq!(common::snapshot(&url), reference());
}
