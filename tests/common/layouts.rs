//! What the layout and Citus tests share: running pgshred against a database with an
//! environment, and the shipped plan rewritten with a layout and other mappings.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::{read, root, text};

/// Runs pgshred against `url`, with `env` set.
pub fn pgshred(url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_pgshred"));
    c.args(args).arg("--database-url").arg(url);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("running pgshred")
}

/// `apply --create-schema` of `plan`, which must succeed.
pub fn first_apply(url: &str, plan: &str) {
    let args = ["apply", plan, "--create-schema", "--allow-duplicates"];
    ok(pgshred(url, &args, &[]), "apply");
}

pub fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    text(&o).0
}

/// The shipped plan, its mappings in `mappings` and `layout` (YAML lines under `target:`), in
/// `dir` as `name` (a plan named after the file when it is not `v1` or `v2`).
pub fn plan_file(dir: &Path, name: &str, mappings: &Path, layout: &str) -> PathBuf {
    let shipped = read("plans/user_app_state.yaml");
    let stem = name.trim_end_matches(".yaml");
    let plan_name = if stem.starts_with('v') {
        "user_app_state".to_string()
    } else {
        format!("plan_{stem}")
    };
    let plan = shipped
        .replace("plan: user_app_state\n", &format!("plan: {plan_name}\n"))
        .replace("../mappings/", &format!("{}/", mappings.display()))
        .replace(
            "  audit_schema: pgshred",
            &format!("{layout}  audit_schema: pgshred"),
        );
    let path = dir.join(name);
    std::fs::write(&path, plan).unwrap();
    path
}

/// The shipped mappings copied into `dir/name`, with `from` replaced by `to` in `file`.
pub fn edited_mappings(dir: &Path, name: &str, file: &str, from: &str, to: &str) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let shipped = root().join("mappings");
    for f in std::fs::read_dir(&shipped).unwrap() {
        let f = f.unwrap().path();
        if !f.is_file() {
            continue;
        }
        let mut text = std::fs::read_to_string(&f).unwrap();
        if f.ends_with(file) {
            assert!(text.contains(from), "{file} has {from}");
            text = text.replace(from, to);
        }
        std::fs::write(out.join(f.file_name().unwrap()), text).unwrap();
    }
    out
}

/// The shipped mappings, and a copy whose personas mapping changed (a new default tone), for
/// --remap.
pub fn mappings(dir: &Path) -> (PathBuf, PathBuf) {
    let v2 = edited_mappings(
        dir,
        "mappings_v2",
        "personas.yaml",
        "default: neutral",
        "default: calm",
    );
    (root().join("mappings"), v2)
}
