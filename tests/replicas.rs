//! `apply --max-replica-lag` against a real streaming standby: a primary started by the test, a
//! standby made from it with `pg_basebackup`, its replay paused with `pg_wal_replay_pause()`.

mod common;

use std::time::{Duration, Instant};

use common::{connect, count, load_fixture};
use pgshred::pgtemp::TempCluster;

const PLAN: &str = "plans/user_app_state.yaml";
const DONE: &str = "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'";

/// Waits until `check` holds, or fails saying `what` after `secs`.
fn wait_for(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed().as_secs() < secs, "{what} within {secs} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_lagging_standby_holds_the_run_back_until_it_catches_up() {
    let primary = TempCluster::start().unwrap();
    let url = primary.create_database("lag").unwrap();
    load_fixture(&mut connect(&url), common::FIXTURE);
    // A short status interval, so the primary hears of the standby's progress promptly.
    let standby =
        TempCluster::standby_of(&primary, &[("wal_receiver_status_interval", "'1s'")]).unwrap();
    let streaming = "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'";
    wait_for(30, "the standby streams", || count(&url, streaming) == 1);
    let mut replica = connect(&standby.url("lag"));
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .unwrap();

    // One user per batch with a pause, so the lag passes 1 s while batches are left.
    let users = count(&url, "SELECT count(DISTINCT user_id) FROM user_app_state");
    let child = common::spawn(
        &url,
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "1",
            "--pause-between",
            "100ms",
            "--max-replica-lag",
            "1s",
        ],
    );
    let ledger = "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgshred'";
    wait_for(30, "apply starts", || {
        count(&url, ledger) == 1 && count(&url, DONE) > 0
    });
    // Held: the count of committed batches stops growing while the standby stays paused.
    let mut held = (count(&url, DONE), Instant::now());
    wait_for(30, "the run stops claiming batches", || {
        let now = count(&url, DONE);
        if now != held.0 {
            held = (now, Instant::now());
        }
        held.1.elapsed() > Duration::from_secs(3)
    });
    assert!(
        held.0 < users,
        "all {users} batches committed; nothing held the run back"
    );

    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let (out, err) = common::text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(count(&url, DONE), users, "{err}");
    assert!(
        err.contains("watching the replay lag of 1 standby(s)"),
        "{err}"
    );
    assert!(err.contains("waiting: standby "), "{err}");
    assert!(err.contains("behind (--max-replica-lag 1s)"), "{err}");
    assert!(err.contains("going on after waiting"), "{err}");
    // What was written reached the standby once it caught up.
    wait_for(30, "the standby replays the run", || {
        count(&standby.url("lag"), DONE) == users
    });
}

#[test]
fn a_role_that_cannot_see_the_lag_is_refused_before_anything_is_written() {
    let url = common::source_db("lag_role");
    let mut c = connect(&url);
    c.batch_execute(
        "CREATE ROLE migrator LOGIN; GRANT ALL ON SCHEMA public TO migrator; \
         GRANT ALL ON ALL TABLES IN SCHEMA public TO migrator",
    )
    .unwrap();
    let as_migrator = url.replace("user=postgres", "user=migrator");
    let o = common::run(
        &[
            "apply",
            PLAN,
            "--allow-duplicates",
            "--max-replica-lag",
            "5s",
        ],
        Some(&as_migrator),
    );
    let (out, err) = common::text(&o);
    assert_eq!(o.status.code(), Some(5), "{out}\n{err}");
    assert!(
        err.contains("cannot read the standbys' replay lag"),
        "{err}"
    );
    assert!(err.contains("GRANT pg_monitor"), "{err}");
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgshred'"
        ),
        0
    );
}
