//! Golden tests: the committed generated/ is exactly what the shipped plan compiles to.
//! `PGSHRED_BLESS=1 cargo test --test golden` rewrites it after a deliberate change.

mod common;

use common::root;

fn pgshred(args: &[&str], cwd: &std::path::Path) -> (i32, String, String) {
    let out = common::run_in(cwd, args, None);
    let (stdout, stderr) = common::text(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// Every plan under plans/: the shipped one and the examples.
const PLANS: [&str; 6] = [
    "user_app_state",
    "kanban",
    "refman",
    "outliner",
    "user_app_state_partitioned",
    "user_app_state_distributed",
];

#[test]
fn every_plan_compiles_to_the_committed_generated_sql() {
    let listed: Vec<String> = std::fs::read_dir(root().join("plans"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".yaml").map(str::to_string)
        })
        .collect();
    for name in &listed {
        assert!(
            PLANS.contains(&name.as_str()),
            "plans/{name}.yaml is not golden-tested"
        );
    }
    for name in PLANS {
        let plan = pgshred::validate::load_plan(&root().join(format!("plans/{name}.yaml")))
            .unwrap_or_else(|e| panic!("{e}"));
        let files = pgshred::codegen::render(&plan).unwrap();
        let dir = root().join("generated").join(&plan.name);
        if std::env::var_os("PGSHRED_BLESS").is_some() {
            pgshred::artifacts::write(&dir, &files).unwrap();
        }
        let diff = pgshred::artifacts::diff(&dir, &files).unwrap();
        assert!(
            diff.is_empty(),
            "generated/{name} is stale; run `pgshred compile plans/{name}.yaml`:\n{diff}"
        );
        // A distributed plan has the script that distributes its tables; no other plan has it.
        let distribute = name
            .ends_with("_distributed")
            .then_some("01b_distribute.sql");
        assert_eq!(
            files.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                Some("01_schema.sql"),
                distribute,
                Some("02_audit.sql"),
                Some("03_forward.sql"),
                Some("04_verify.sql"),
                Some("05_rollback.sql"),
                Some("06_reconstruct.sql"),
                Some("backup.sql"),
                Some("dedupe.sql"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
        );
    }
}

#[test]
fn output_does_not_depend_on_where_or_when_it_is_compiled() {
    let guard = common::TempDir::new("golden");
    let tmp = guard.path().to_path_buf();
    let plan = root().join("plans/user_app_state.yaml");
    let plan = plan.to_str().unwrap();
    let out = tmp.join("out");
    // Compiled from another directory, with an absolute plan path, twice.
    for _ in 0..2 {
        let (code, _, stderr) = pgshred(&["compile", plan, "--out", out.to_str().unwrap()], &tmp);
        assert_eq!(code, 0, "{stderr}");
    }
    for name in ["01_schema.sql", "03_forward.sql", "04_verify.sql"] {
        let a = std::fs::read(out.join("user_app_state").join(name)).unwrap();
        let b = std::fs::read(root().join("generated/user_app_state").join(name)).unwrap();
        assert!(a == b, "{name} differs when compiled elsewhere");
        assert!(
            !String::from_utf8_lossy(&a).contains(root().to_str().unwrap()),
            "{name} contains an absolute path"
        );
    }
}

#[test]
fn check_exits_1_with_a_diff_when_generated_sql_is_stale() {
    let guard = common::TempDir::new("check");
    let tmp = guard.path().to_path_buf();
    let out = tmp.to_str().unwrap();
    let (code, _, _) = pgshred(
        &["compile", "plans/user_app_state.yaml", "--out", out],
        &root(),
    );
    assert_eq!(code, 0);
    let (code, stdout, _) = pgshred(
        &["check", "plans/user_app_state.yaml", "--out", out],
        &root(),
    );
    assert_eq!(
        (code, stdout.trim_end().ends_with("up to date (8 files)")),
        (0, true),
        "{stdout}"
    );

    let forward = tmp.join("user_app_state/03_forward.sql");
    let text = std::fs::read_to_string(&forward)
        .unwrap()
        .replace("ON CONFLICT (\"id\") DO NOTHING", "ON CONFLICT DO UPDATE");
    std::fs::write(&forward, text).unwrap();
    std::fs::write(tmp.join("user_app_state/stray.sql"), "SELECT 1;\n").unwrap();
    let (code, _, stderr) = pgshred(
        &["check", "plans/user_app_state.yaml", "--out", out],
        &root(),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("--- committed/03_forward.sql\n+++ compiled/03_forward.sql\n"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("-        ON CONFLICT DO UPDATE\n+        ON CONFLICT (\"id\") DO NOTHING\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--- committed/stray.sql\n+++ /dev/null\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is stale; run `pgshred compile` and commit the result"),
        "{stderr}"
    );

    // compile repairs it and removes the file it no longer generates.
    let (code, stdout, _) = pgshred(
        &["compile", "plans/user_app_state.yaml", "--out", out],
        &root(),
    );
    assert_eq!(code, 0);
    assert!(
        stdout.contains("1 written, 7 unchanged, 1 removed"),
        "{stdout}"
    );
}

#[test]
fn schema_command_prints_the_shipped_schema() {
    let (code, stdout, _) = pgshred(&["schema"], &root());
    assert_eq!(code, 0);
    assert_eq!(stdout, common::read("schema/pgshred.schema.json"));
    let (code, stdout, _) = pgshred(&["schema", "--kind", "mapping"], &root());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["$ref"], "#/$defs/mapping");
}

#[test]
fn compile_summary_prints_mapping_diagram_and_risks() {
    let (code, out, err) = pgshred(
        &["compile", "plans/user_app_state.yaml", "--summary"],
        &root(),
    );
    assert_eq!(code, 0, "{err}");
    for expected in [
        "## pgshred plan `user_app_state`\n",
        "```mermaid\nerDiagram\n    orgs ||--o{ personas : \"org_id\"\n",
        "        text_array tags\n",
        "| `profile.bio` | `bio` | text | optional |\n",
        "| `_localCache` | - | - | dropped |\n",
        "- `references`: elements whose parent is missing are not migrated (on_missing: skip).\n",
        "- `contents`: conversions that can fail a batch: `tags` (text[]), `word_count` (integer), `published_at` (timestamptz), `source_created_at` (timestamptz).\n",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // A nested entity's parent is the element it sits in: no risk of a missing one is noted.
    let (code, out, err) = pgshred(
        &["compile", "tests/plans/nested/plan.yaml", "--summary"],
        &root(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("a missing parent"), "{out}");
    // The summary is printed, not written into generated/.
    let (code, _, _) = pgshred(&["check", "plans/user_app_state.yaml"], &root());
    assert_eq!(code, 0);
}

#[test]
fn check_finds_generated_sql_from_the_plan_not_the_working_directory() {
    let (code, out, err) = pgshred(&["check", "user_app_state.yaml"], &root().join("plans"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.ends_with("generated/user_app_state: up to date (8 files)\n"),
        "{out}"
    );
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let commands = [
        "validate",
        "schema",
        "compile",
        "demo",
        "apply",
        "preview",
        "generate",
        "verify",
        "backup",
        "restore",
        "dedupe",
        "status",
        "rollback",
        "diff",
        "check",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, err) = pgshred(&["completions", shell], &root());
        assert_eq!(code, 0, "{err}");
        for c in commands {
            assert!(out.contains(c), "{shell} completion lacks {c}");
        }
        assert!(
            out.contains("max-bad-users"),
            "{shell}: options are completed"
        );
    }
    let (code, page, _) = pgshred(&["man"], &root());
    assert_eq!(code, 0);
    assert!(
        page.starts_with(".ie") && page.contains(".TH pgshred 1"),
        "{page}"
    );
    for c in commands {
        assert!(page.contains(c), "the man page lacks {c}");
    }
    let dir = common::TempDir::new("man");
    let (code, _, err) = pgshred(&["man", "--out", dir.path().to_str().unwrap()], &root());
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("pgshred-apply.1").exists());
}

/// The generated SQL reads without scrolling sideways: no line of any committed file is wider
/// than 120 characters (long expressions are folded, long patterns are named functions).
#[test]
fn no_generated_line_is_wider_than_120_characters() {
    let mut wide = Vec::new();
    for dir in std::fs::read_dir(root().join("generated")).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.chars().count() > 120 {
                    wide.push(format!(
                        "{}:{}: {}",
                        path.display(),
                        n + 1,
                        line.chars().count()
                    ));
                }
            }
        }
    }
    assert!(wide.is_empty(), "{wide:#?}");
}

/// Every generated script splits into whole statements (what a distributed plan's schema runs one
/// by one on Citus): each ends with `;`, and together they are the script, less a trailing
/// comment.
#[test]
fn every_generated_script_splits_into_whole_statements() {
    let mut scripts = 0;
    for plan in std::fs::read_dir(root().join("generated")).unwrap() {
        for file in std::fs::read_dir(plan.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_none_or(|x| x != "sql") {
                continue;
            }
            let sql = std::fs::read_to_string(&path).unwrap();
            let parts = pgshred::statements::split(&sql);
            assert!(!parts.is_empty(), "{}", path.display());
            for p in &parts {
                assert!(p.ends_with(';'), "{}: {p}", path.display());
            }
            let joined = parts.concat();
            assert!(
                sql.starts_with(&joined)
                    && pgshred::statements::split(&sql[joined.len()..]).is_empty(),
                "{}",
                path.display()
            );
            scripts += 1;
        }
    }
    assert!(scripts >= 40, "{scripts} scripts");
}
