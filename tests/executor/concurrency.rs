//! Executors at the same time on one plan: a second apply refused while one runs, two never both writing, and the leader waiting for what a joiner claimed.

use super::*;

/// A database where the schema exists and one user is migrated.
fn one_user_migrated(test: &str) -> String {
    let url = source_db(test);
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
    url
}

#[test]
fn a_second_apply_of_the_same_plan_is_refused_while_one_runs() {
    let url = one_user_migrated("lock");
    let mut holder = connect(&url);
    holder
        .execute(
            "SELECT pg_advisory_lock($1, hashtext('user_app_state'))",
            &[&pgshred::executor::sql::LOCK_CLASS],
        )
        .unwrap();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let o = pgshred(&url, &["apply", PLAN, "--allow-duplicates"]);
    assert_code(&o, 5);
    let (_, err) = text(&o);
    assert!(err.contains(&format!("another pgshred is applying or rolling back plan user_app_state on this database (backend pid {pid}")), "{err}");
    assert_code(
        &pgshred(&url, &["rollback", "--yes", PLAN, "--run", "1"]),
        5,
    );
    holder
        .execute(
            "SELECT pg_advisory_unlock($1, hashtext('user_app_state'))",
            &[&pgshred::executor::sql::LOCK_CLASS],
        )
        .unwrap();
    assert_code(&pgshred(&url, &["apply", PLAN, "--allow-duplicates"]), 0);
    assert_eq!(common::snapshot(&url), reference());
}

#[test]
fn two_concurrent_applies_never_both_write() {
    let url = one_user_migrated("concurrent");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_pgshred"))
            .args(["apply", PLAN, "--allow-duplicates", "--batch-size", "1"])
            .env("DATABASE_URL", &url)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    for o in &outs {
        let code = o.status.code();
        assert!(code == Some(0) || code == Some(5), "{:?}", text(o));
        if code == Some(5) {
            assert!(
                text(o).1.contains("another pgshred is applying"),
                "{}",
                text(o).1
            );
        }
    }
    assert_eq!(common::snapshot(&url), reference());
    // Every user was migrated by exactly one run.
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM (SELECT user_id FROM pgshred.migration_audit GROUP BY user_id HAVING count(DISTINCT run_id) > 1) AS x"
        ),
        0
    );
}

/// The leader keeps the plan's lock until a batch a joiner claimed has ended: here the leader
/// runs out of batches while the joiner, which claimed the last one, is slow to start it; the
/// joiner's batch still proves the guard and commits, and both succeed.
#[test]
fn the_leader_waits_for_the_batch_a_joiner_claimed() {
    common::needs_failpoints();
    let url = source_db("leader_waits");
    // The schema alone: a run of no user stops after it.
    pgshred(
        &url,
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--user",
            "nobody",
        ],
    );
    let spawn = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pgshred"));
        c.args(args)
            .env("DATABASE_URL", &url)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        c.spawn().unwrap()
    };
    // The leader's first batch waits on a lock, so the joiner claims the second.
    let mut blocker = connect(&url);
    let mut hold = blocker.transaction().unwrap();
    hold.batch_execute("LOCK TABLE public.orgs IN EXCLUSIVE MODE")
        .unwrap();
    let leader = spawn(
        &["apply", PLAN, "--allow-duplicates", "--batch-size", "11"],
        &[],
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let joiner = spawn(
        &["apply", PLAN, "--join", "--allow-duplicates"],
        &[("PGSHRED_FAILPOINT", "claimed:2:pause")],
    );
    std::thread::sleep(std::time::Duration::from_millis(1000));
    hold.commit().unwrap();
    for (who, o) in [
        ("leader", leader.wait_with_output().unwrap()),
        ("joiner", joiner.wait_with_output().unwrap()),
    ] {
        let (out, err) = text(&o);
        assert!(o.status.success(), "{who}: {out}{err}");
        if who == "joiner" {
            assert!(
                out.contains("1 batch,"),
                "the joiner ran the second batch: {out}"
            );
        }
    }
    assert_eq!(common::snapshot(&url), reference());
}
