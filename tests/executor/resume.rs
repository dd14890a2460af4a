//! Runs stopped midway: killed and resumed to the same tables, a failed batch, and the refusals that keep an unfinished run from being left behind.

use super::*;

/// Starts an apply, kills it with SIGKILL once it has reported `after` batches, resumes it, and
/// checks the result equals an uninterrupted run.
fn kill_and_resume(test: &str, after: usize) {
    kill_and_resume_with(test, after, "1");
}

pub(super) fn kill_and_resume_with(test: &str, after: usize, jobs: &str) {
    let url = source_db(test);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args([
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "2",
            "--jobs",
            jobs,
        ])
        .env("DATABASE_URL", &url)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Progress lines are the log, on stderr.
    let log = child.stderr.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(log).lines() {
        if line.unwrap().starts_with("batch ") {
            seen += 1;
            if seen == after {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = count(
        &url,
        "SELECT count(*) FROM pgshred.migration_batches WHERE status = 'done'",
    );
    assert!(
        done >= after as i64 && done < 11,
        "{done} batches done after killing at {after}"
    );

    // The killed session's lock goes when the server notices the connection is gone.
    let resume = [
        "apply",
        PLAN,
        "--resume",
        "--allow-duplicates",
        "--jobs",
        jobs,
    ];
    let resumed = common::run_when_unlocked(&resume, &url);
    assert_code(&resumed, 0);
    assert!(
        text(&resumed).1.contains("resuming run 1:"),
        "{}",
        text(&resumed).1
    );
    assert_eq!(
        common::snapshot(&url),
        reference(),
        "killed after batch {after}, resumed"
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pgshred.migration_batches WHERE status <> 'done'"
        ),
        0
    );
}

#[test]
fn killed_after_the_first_batch_resumes_to_the_same_tables() {
    kill_and_resume("kill1", 1);
}

#[test]
fn killed_midway_resumes_to_the_same_tables() {
    kill_and_resume("kill5", 5);
}

#[test]
fn killed_near_the_end_resumes_to_the_same_tables() {
    kill_and_resume("kill10", 10);
}

/// A run whose third batch (of six) failed on an uncastable value in user-09's document.
pub(super) fn failed_run(test: &str) -> (String, postgres::Client) {
    let url = source_db(test);
    let mut c = connect(&url);
    c.execute("UPDATE user_app_state SET state = jsonb_set(state, '{orgs,0,seats}', '\"many\"') WHERE user_id = 'user-09'", &[])
        .unwrap();
    assert_code(
        &pgshred(
            &url,
            &[
                "apply",
                PLAN,
                "--create-schema",
                "--allow-duplicates",
                "--batch-size",
                "4",
            ],
        ),
        6,
    );
    (url, c)
}

#[test]
fn an_unfinished_run_must_be_resumed_or_rolled_back() {
    let (url, _) = failed_run("unfinished");
    let o = pgshred(&url, &["apply", PLAN, "--allow-duplicates"]);
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("run 1 of plan user_app_state is unfinished (2 of 6 batches done)"),
        "{}",
        text(&o).1
    );
}

#[test]
fn a_bad_value_rolls_back_its_batch_names_it_and_resume_finishes_after_the_fix() {
    let url = source_db("bad_value");
    let mut c = connect(&url);
    let original: serde_json::Value = c
        .query_one("SELECT state #> '{contents,1,wordCount}' FROM user_app_state WHERE user_id = 'user-07'", &[])
        .unwrap()
        .get(0);
    c.execute("UPDATE user_app_state SET state = jsonb_set(state, '{contents,1,wordCount}', '\"lots\"') WHERE user_id = 'user-07'", &[])
        .unwrap();
    let o = pgshred(
        &url,
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--batch-size",
            "3",
        ],
    );
    assert_code(&o, 6);
    let (_, err) = text(&o);
    assert!(
        err.contains(
            "batch 3 (seq 3) of run 1 failed and was rolled back; users: user-07, user-08, user-09"
        ),
        "{err}"
    );
    assert!(
        err.contains("error: pgshred: cannot convert value to integer (user user-07, entity contents, legacy id c_p_7_1_2, path wordCount, value \"lots\") [SQLSTATE 22023]"),
        "{err}"
    );
    assert!(
        err.contains("2 earlier batches of this run stay committed"),
        "{err}"
    );
    // Earlier batches are intact, nothing of the failed one is there.
    assert_eq!(
        count(
            &url,
            "SELECT count(DISTINCT user_id) FROM pgshred.migration_audit"
        ),
        6
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM orgs WHERE user_id IN ('user-07', 'user-08', 'user-09')"
        ),
        0
    );
    let (status, _) = text(&pgshred(&url, &["status", PLAN]));
    assert!(status.contains("run 1    failed"), "{status}");
    assert!(
        status.contains("error: pgshred: cannot convert value to integer (user user-07"),
        "{status}"
    );

    c.execute("UPDATE user_app_state SET state = jsonb_set(state, '{contents,1,wordCount}', $1) WHERE user_id = 'user-07'", &[&original])
        .unwrap();
    assert_code(
        &pgshred(&url, &["apply", PLAN, "--resume", "--allow-duplicates"]),
        0,
    );
    assert_eq!(common::snapshot(&url), reference());
}

#[test]
fn resume_refuses_when_the_compiled_sql_changed_under_the_run() {
    let (url, mut c) = failed_run("checksum");
    c.execute(
        "UPDATE pgshred.migration_runs SET plan_checksum = 'feedface' || plan_checksum",
        &[],
    )
    .unwrap();
    let o = pgshred(&url, &["apply", PLAN, "--resume", "--allow-duplicates"]);
    assert_code(&o, 5);
    assert!(
        text(&o)
            .1
            .contains("the compiled SQL changed since run 1 started"),
        "{}",
        text(&o).1
    );
}
