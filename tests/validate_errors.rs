//! Broken specs under tests/specs/<case>/ and the exact messages `pgshred validate` prints for
//! them (expected.txt). `PGSHRED_BLESS=1 cargo test --test validate_errors` rewrites the expected
//! files after a deliberate change; review the diff before committing.

mod common;

use std::process::Command;

use common::root;

fn run_validate(plan: &str) -> (i32, String, String) {
    let out = common::run(&["validate", plan], None);
    let (stdout, stderr) = common::text(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn every_broken_spec_reports_its_exact_message_and_location() {
    let specs = root().join("tests/specs");
    let mut cases: Vec<_> = std::fs::read_dir(&specs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let bless = std::env::var_os("PGSHRED_BLESS").is_some();
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let (code, stdout, stderr) = run_validate(&format!("tests/specs/{name}/plan.yaml"));
        assert_eq!(
            code, 3,
            "{name}: exit code (stdout: {stdout}, stderr: {stderr})"
        );
        assert!(
            stderr.contains("error["),
            "{name}: no diagnostic printed: {stderr}"
        );
        let expected_path = dir.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &stderr).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != stderr {
            failures.push(format!(
                "--- {name}\n{}",
                similar::TextDiff::from_lines(&expected, &stderr)
                    .unified_diff()
                    .header("expected", "actual")
            ));
        }
    }
    assert!(cases.len() >= 15, "only {} broken specs", cases.len());
    assert!(
        failures.is_empty(),
        "messages changed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_shipped_plan_is_valid() {
    let (code, stdout, stderr) = run_validate("plans/user_app_state.yaml");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "plans/user_app_state.yaml: ok, plan `user_app_state` with 7 entities: orgs, personas, contents, \
         accounts, leads, references, inbox_items\n"
    );
}

#[test]
fn all_errors_of_a_run_are_reported_together() {
    let (_, _, stderr) = run_validate("tests/specs/many_errors/plan.yaml");
    assert!(
        stderr.ends_with("4 errors found; nothing was compiled or applied\n"),
        "{stderr}"
    );
}

#[test]
fn json_format_gives_one_object_per_problem() {
    let out = Command::new(env!("CARGO_BIN_EXE_pgshred"))
        .args([
            "validate",
            "--format",
            "json",
            "tests/specs/unknown_parent/plan.yaml",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["code"], "E-parent-unknown");
    assert_eq!(
        line["file"],
        "tests/specs/unknown_parent/mappings/personas.yaml"
    );
    assert_eq!(
        (line["line"].as_u64(), line["column"].as_u64()),
        (Some(7), Some(11))
    );
    assert_eq!(line["hint"], "did you mean `orgs`?");
}

#[test]
fn a_missing_plan_file_is_a_located_spec_error_exit_3() {
    let (code, _, stderr) = run_validate("plans/no_such_plan.yaml");
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot read plan file") && stderr.contains("--> plans/no_such_plan.yaml"),
        "{stderr}"
    );
}
