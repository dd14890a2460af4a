//! `pgshred diff PLAN --against REV`: what a change to plans or mappings does to the compiled SQL,
//! for a pull request. The plan is compiled as it stands at the git revision REV (from `git
//! archive`, into a scratch directory) and as it stands in the working tree.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::artifacts::{Files, diff_files};
use crate::ir::Plan;
use crate::{Error, codegen, impact, validate};

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, Error> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("running git", e))?;
    if !out.status.success() {
        return Err(Error::Input(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The plan at `rev` and its compiled files (none, when the plan did not exist there).
fn compiled_at(plan: &Path, rev: &str) -> Result<(Option<Plan>, Files), Error> {
    let plan = std::fs::canonicalize(plan)
        .map_err(|e| Error::io(format!("reading {}", plan.display()), e))?;
    let dir = plan.parent().unwrap_or(Path::new("."));
    let top = PathBuf::from(
        String::from_utf8_lossy(&git(dir, &["rev-parse", "--show-toplevel"])?).trim(),
    );
    let rel = plan.strip_prefix(&top).map_err(|_| {
        Error::Input(format!(
            "{} is not inside {}",
            plan.display(),
            top.display()
        ))
    })?;
    let commit = String::from_utf8_lossy(&git(
        &top,
        &["rev-parse", "--verify", &format!("{rev}^{{commit}}")],
    )?)
    .trim()
    .to_string();
    let scratch = Scratch(std::env::temp_dir().join(format!(
        "pgshred-diff-{}-{}",
        std::process::id(),
        &commit[..12]
    )));
    std::fs::create_dir_all(&scratch.0)
        .map_err(|e| Error::io(format!("creating {}", scratch.0.display()), e))?;
    let tar = git(&top, &["archive", "--format=tar", &commit])?;
    let mut untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&scratch.0)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("running tar", e))?;
    use std::io::Write;
    untar
        .stdin
        .take()
        .expect("piped")
        .write_all(&tar)
        .map_err(|e| Error::io("unpacking the revision", e))?;
    let status = untar
        .wait()
        .map_err(|e| Error::io("unpacking the revision", e))?;
    if !status.success() {
        return Err(Error::Input(format!("could not unpack revision {rev}")));
    }
    let old_plan = scratch.0.join(rel);
    if !old_plan.exists() {
        return Ok((None, Files::new()));
    }
    let p = validate::load_plan(&old_plan).map_err(|e| match e {
        Error::Spec(d) => Error::Input(format!("the plan at {rev} is not valid:\n{}", d.render())),
        other => other,
    })?;
    let files = codegen::render(&p)?;
    Ok((Some(p), files))
}

/// What the change since `rev` does to data already migrated, in words, then the per-file SQL
/// diff; empty when nothing changed.
pub fn diff_against(plan: &Path, rev: &str) -> Result<String, Error> {
    let (old_plan, before) = compiled_at(plan, rev)?;
    let new_plan = validate::load_plan(plan)?;
    let after = codegen::render(&new_plan)?;
    let sql = diff_files(&before, &after, rev, "now");
    if sql.is_empty() {
        return Ok(sql);
    }
    let said = impact::describe(old_plan.as_ref(), &before, &new_plan, &after);
    let mut out = format!("What this change does to data already migrated (since {rev}):\n");
    if said.is_empty() {
        out.push_str("  nothing: every entity's statement is the same, so no user needs a backfill or a re-migration\n");
    }
    for s in &said {
        out.push_str(&format!("  - {s}\n"));
    }
    out.push('\n');
    out.push_str(&sql);
    Ok(out)
}
