//! Processes on other nodes of the cluster sharing a run (`apply --join` on a worker).

use super::*;

/// On a worker node, pgshred neither starts nor rolls back a run (the plan's lock lives on the
/// coordinator), and a joiner there cannot read a source table local to the coordinator: each is
/// refused, saying where to run it.
pub(super) fn only_joins_from_a_worker(url: &str, worker: &str, plan: &str) {
    let refused = |args: &[&str], says: &str| {
        let o = pgshred(worker, args, &[]);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    let on_coordinator = "this server is a worker node of a Citus cluster, and plan user_app_state_distributed's lock lives on the coordinator";
    refused(&["apply", plan, "--allow-duplicates"], on_coordinator);
    refused(&["rollback", plan, "--run", "1", "--yes"], on_coordinator);
    // A run the coordinator leads, which the worker's process cannot help with.
    let leader = spawn_apply(url, plan, &[]);
    wait_for_run(url);
    refused(
        &["apply", plan, "--join", "--allow-duplicates"],
        "source table public.user_app_state is not on this worker node",
    );
    ok(leader.wait_with_output().unwrap(), "the coordinator's run");
    rollback_every_run(url, plan);
}

/// With the source distributed, processes on the coordinator and on a worker share one run: both
/// commit batches, each proving the coordinator's guard, and the tables are those of one
/// process. When the guard's session ends, the worker's process stops too, and the run resumes.
pub(super) fn joining_from_a_worker(url: &str, worker: &str, plan: &str) {
    let join = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pgshred"))
            .args(["apply", plan, "--join", "--allow-duplicates"])
            .args(["--pause-between", "300ms", "--database-url", url])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // With no run going, a joiner on a worker does not lead one: the coordinator alone does.
    let alone = join(worker).wait_with_output().unwrap();
    let (out, err) = text(&alone);
    assert!(!alone.status.success(), "{out}{err}");
    assert!(
        err.contains(
            "no pgshred holds plan user_app_state_distributed on the coordinator of this worker node's Citus cluster"
        ),
        "{err}"
    );
    let leader = spawn_apply(url, plan, &[]);
    wait_for_run(url);
    let joined = ok(
        join(worker).wait_with_output().unwrap(),
        "join from a worker",
    );
    ok(leader.wait_with_output().unwrap(), "the coordinator's run");
    let created = |out: &str| -> i64 {
        let line = out
            .lines()
            .find(|l| l.contains("rows created, verified and committed"))
            .unwrap_or_else(|| panic!("{out}"));
        line.split(", ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(created(&joined) > 0, "{joined}");
    assert_eq!(
        count(url, "SELECT count(*) FROM app_distributed.contents"),
        105
    );
    counts_match(url, plan);
    reads_the_same_from_a_worker(url, worker, plan);
    rollback_every_run(url, plan);
    // The guard's session ends while both write: the worker's process stops, as the leader does.
    let leader = spawn_apply(url, plan, &[]);
    wait_for_run(url);
    let joiner = join(worker);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let guard: i32 = connect(url)
        .query_one(
            "SELECT l.pid FROM pg_locks AS l WHERE l.locktype = 'advisory' AND l.granted \
                AND l.classid = $1::int4::oid AND l.objsubid = 2",
            &[&pgshred::executor::sql::LOCK_CLASS],
        )
        .unwrap()
        .get(0);
    connect(url)
        .execute("SELECT pg_terminate_backend($1::int4)", &[&guard])
        .unwrap();
    for (who, o) in [
        ("worker", joiner.wait_with_output().unwrap()),
        ("leader", leader.wait_with_output().unwrap()),
    ] {
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(7), "{who}: {out}{err}");
        assert!(
            err.contains("stopped: the session holding plan user_app_state_distributed's lock"),
            "{who}: {err}"
        );
    }
    ok(
        pgshred(url, &["apply", plan, "--allow-duplicates", "--resume"], &[]),
        "resume",
    );
    counts_match(url, plan);
    rollback_every_run(url, plan);
}

/// `apply` of the whole plan on the coordinator, a user per batch with a pause after each, so
/// that other processes find its run going.
fn spawn_apply(url: &str, plan: &str, more: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args(["apply", plan, "--allow-duplicates", "--batch-size", "1"])
        .args(["--pause-between", "300ms", "--database-url", url])
        .args(more)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until a run of the plan is recorded and its guard held.
fn wait_for_run(url: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while count(
        url,
        "SELECT count(*) FROM pgshred.migration_batches AS b JOIN pgshred.migration_runs AS r \
            ON r.id = b.run_id WHERE r.status = 'running' AND b.status = 'done'",
    ) == 0
    {
        assert!(std::time::Instant::now() < until, "no run started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `status`, `verify` and `verify --roundtrip` run against a worker node say what they say on
/// the coordinator (but for the server `status` names).
fn reads_the_same_from_a_worker(url: &str, worker: &str, plan: &str) {
    for args in [
        &["status", plan][..],
        &["verify", plan],
        &["verify", plan, "--roundtrip"],
    ] {
        // The round trip fails here on both: the shipped plan loses what it loses on plain tables.
        let said = |node: &str| {
            let o = pgshred(node, args, &[]);
            let (out, _) = text(&o);
            let out: Vec<&str> = out
                .lines()
                .filter(|l| !l.starts_with("plan user_app_state_distributed on "))
                .collect();
            (o.status.code(), out.join("\n"))
        };
        let on_the_coordinator = said(url);
        assert!(!on_the_coordinator.1.is_empty(), "{args:?}");
        assert_eq!(said(worker), on_the_coordinator, "{args:?}");
    }
}
