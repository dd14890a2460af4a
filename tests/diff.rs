//! `pgshred diff PLAN --against REV` in a scratch git repository: a mapping change shows up as the
//! SQL it changes, per file.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TempDir, root, run_in, text};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=pgshred",
            "-c",
            "user.email=pgshred@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pgshred diff` of the shipped plan's copy in `dir` against its last commit.
fn diff_against_head(dir: &Path) -> std::process::Output {
    run_in(
        dir,
        &["diff", "plans/user_app_state.yaml", "--against", "HEAD"],
        None,
    )
}

/// The exit code of `pgshred diff --exit-code` against HEAD.
fn diff_exit_code(dir: &Path) -> Option<i32> {
    let args = [
        "diff",
        "plans/user_app_state.yaml",
        "--against",
        "HEAD",
        "--exit-code",
    ];
    run_in(dir, &args, None).status.code()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_mapping_change_shows_as_its_sql_diff() {
    let repo = TempDir::new("diff");
    let dir = repo.path();
    copy_dir(&root().join("plans"), &dir.join("plans"));
    copy_dir(&root().join("mappings"), &dir.join("mappings"));
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "v1"]);

    let o = diff_against_head(dir);
    assert_eq!(
        (o.status.code(), text(&o).0.as_str()),
        (Some(0), "no change to the compiled SQL since HEAD\n")
    );
    assert_eq!(diff_exit_code(dir), Some(0));

    let path = dir.join("mappings/leads.yaml");
    let mapping = std::fs::read_to_string(&path).unwrap();
    let added = "  - { name: company,           path: company,           type: text }\n";
    std::fs::write(
        &path,
        mapping.replace("extra: extra", &format!("{added}extra: extra")),
    )
    .unwrap();
    let o = diff_against_head(dir);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        out.contains("--- HEAD/01_schema.sql\n+++ now/01_schema.sql\n"),
        "{out}"
    );
    assert!(out.contains("+    \"company\" text,\n"), "{out}");
    // For a CI gate: exit 1 when there is a change, 0 when there is none (checked above).
    assert_eq!(diff_exit_code(dir), Some(1));
    assert!(
        out.contains("--- HEAD/03_forward.sql\n+++ now/03_forward.sql\n"),
        "{out}"
    );
    assert!(
        out.contains("--- HEAD/06_reconstruct.sql\n+++ now/06_reconstruct.sql\n"),
        "{out}"
    );
    assert!(
        !out.contains("05_rollback.sql"),
        "rollback does not depend on columns: {out}"
    );
    // Before the SQL, in words, what it does to data already migrated.
    assert!(
        out.starts_with("What this change does to data already migrated (since HEAD):\n  - leads changed: new column company (text, from `company`), added to the existing table and empty until the re-migration. Users already migrated keep the rows the old mapping made, and `apply` refuses to run until `apply --remap leads` re-migrates leads for them"),
        "{out}"
    );

    // A retyped column of a parent: its children are re-migrated with it.
    let path = dir.join("mappings/accounts.yaml");
    let mapping = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, mapping.replace("type: bigint", "type: numeric")).unwrap();
    let out = text(&diff_against_head(dir)).0;
    assert!(
        out.contains("  - accounts changed: column followers becomes numeric (was bigint; 01_schema.sql converts it in place, USING followers::numeric). Users already migrated keep the rows the old mapping made, and `apply` refuses to run until `apply --remap accounts` re-migrates accounts and leads, inbox_items below it"),
        "{out}"
    );
    std::fs::write(&path, mapping).unwrap();

    // An entity added to the plan: a new table and a backfill.
    let plan_path = dir.join("plans/user_app_state.yaml");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    std::fs::write(
        &plan_path,
        plan.replace("  - ../mappings/inbox_items.yaml\n", ""),
    )
    .unwrap();
    git(dir, &["commit", "-q", "-am", "without inbox items"]);
    std::fs::write(&plan_path, &plan).unwrap();
    let out = text(&diff_against_head(dir)).0;
    assert!(
        out.contains("  - new entity inbox_items -> table public.inbox_items: `apply --create-schema` creates the table; `apply` backfills inbox_items for the users already migrated (their accounts are there already)"),
        "{out}"
    );
    assert!(
        !out.contains("leads changed"),
        "only inbox_items is affected: {out}"
    );

    // A text column given a parsed companion, in words.
    let path = dir.join("mappings/contents.yaml");
    let mapping = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        mapping.replace(
            "path: body,              type: text }",
            "path: body,              type: text, parsed: { name: body_day, type: date } }",
        ),
    )
    .unwrap();
    let out = text(&diff_against_head(dir)).0;
    assert!(
        out.contains("  - contents changed: column body gets a parsed companion body_day (date), added to the existing table and empty until the re-migration."),
        "{out}"
    );
    std::fs::write(&path, mapping).unwrap();

    // Against a revision that has no such plan, everything is new.
    git(dir, &["commit", "-q", "-am", "v2"]);
    std::fs::copy(
        dir.join("plans/user_app_state.yaml"),
        dir.join("plans/second.yaml"),
    )
    .unwrap();
    let o = run_in(
        dir,
        &["diff", "plans/second.yaml", "--against", "HEAD"],
        None,
    );
    assert!(
        text(&o)
            .0
            .contains("--- /dev/null\n+++ now/01_schema.sql\n"),
        "{}",
        text(&o).0
    );

    let o = run_in(
        dir,
        &[
            "diff",
            "plans/user_app_state.yaml",
            "--against",
            "no-such-rev",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(
        text(&o)
            .1
            .contains("git rev-parse --verify no-such-rev^{commit}"),
        "{}",
        text(&o).1
    );
}
