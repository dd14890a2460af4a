//! `pgshred demo` end to end: it must work with nothing set up but the PostgreSQL binaries.

mod common;

use std::process::Command;

#[test]
fn demo_migrates_verifies_rolls_back_and_cleans_up() {
    let out = Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .arg("demo")
        // From a folder of the project other than its root: the defaults are found all the same.
        .current_dir(common::root().join("templates"))
        .output()
        .unwrap();
    // The narrative on stdout, the executor's log lines on stderr: the demo shows both.
    let stdout = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("loaded 23 source rows from ")
                && l.ends_with("fixtures/sample_user_app_state.json")),
        "{stdout}"
    );
    for expected in [
        "run 1: 22 users in 5 batches of up to 5",
        "run 1: 22 users in 5 batches, 357 rows created, verified and committed",
        "04_verify.sql over every user: 0 mismatches; 28 orgs, 43 personas, 105 contents, 42 accounts, 55 leads, 42 references, 42 inbox_items",
        "rolled back 8 rows of batch 5; none of them remains",
        "after the rollback: 26 orgs, 42 personas, 103 contents, 41 accounts, 55 leads, 41 references, 41 inbox_items",
    ] {
        assert!(
            lines.contains(&expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("  batch ") && l.contains(" done "))
            .count(),
        5,
        "{stdout}"
    );
    let dir = lines
        .iter()
        .find_map(|l| l.strip_prefix("started a throwaway PostgreSQL in "))
        .and_then(|l| l.split(" (port").next())
        .expect("the demo says where its cluster is");
    assert!(!std::path::Path::new(dir).exists(), "{dir} was not removed");
}
