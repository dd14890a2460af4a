//! Writing compiled SQL to `generated/<plan>/` and checking that what is committed there is current.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use similar::TextDiff;

use crate::Error;

/// Compiled files: name -> contents, sorted by name.
pub type Files = BTreeMap<String, String>;

fn existing(dir: &Path) -> Result<Files, Error> {
    let mut out = Files::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        let path = entry.path();
        if path.is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            out.insert(name, text);
        }
    }
    Ok(out)
}

/// Writes every file (through a temporary name, so a failure never leaves half a file) and removes
/// files pgshred no longer generates. Returns a one-line summary.
pub fn write(dir: &Path, files: &Files) -> Result<String, Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let before = existing(dir)?;
    let (mut written, mut unchanged) = (0, 0);
    for (name, text) in files {
        if before.get(name) == Some(text) {
            unchanged += 1;
            continue;
        }
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        fs::write(&tmp, text).map_err(|e| Error::io(format!("writing {}", tmp.display()), e))?;
        fs::rename(&tmp, &path)
            .map_err(|e| Error::io(format!("renaming {} into place", tmp.display()), e))?;
        written += 1;
    }
    let mut removed = 0;
    for name in before.keys().filter(|n| !files.contains_key(*n)) {
        let path = dir.join(name);
        fs::remove_file(&path)
            .map_err(|e| Error::io(format!("removing stale {}", path.display()), e))?;
        removed += 1;
    }
    Ok(format!(
        "{}: {written} written, {unchanged} unchanged, {removed} removed",
        dir.display()
    ))
}

/// A unified diff per differing file, empty when `dir` holds exactly `files`.
pub fn diff(dir: &Path, files: &Files) -> Result<String, Error> {
    Ok(diff_files(&existing(dir)?, files, "committed", "compiled"))
}

/// A unified diff per file between two sets of compiled files (`/dev/null` for a file only one
/// side has), empty when they are equal.
pub fn diff_files(before: &Files, after: &Files, before_label: &str, after_label: &str) -> String {
    let mut report = String::new();
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let (old, new) = (before.get(name), after.get(name));
        if old == new {
            continue;
        }
        let label = |side: Option<&String>, prefix: &str| match side {
            Some(_) => format!("{prefix}/{name}"),
            None => "/dev/null".into(),
        };
        report.push_str(
            &TextDiff::from_lines(
                old.map_or("", String::as_str),
                new.map_or("", String::as_str),
            )
            .unified_diff()
            .context_radius(3)
            .header(&label(old, before_label), &label(new, after_label))
            .to_string(),
        );
    }
    report
}

/// Fails with the diff when `dir` does not hold exactly `files`.
pub fn check(dir: &Path, files: &Files) -> Result<(), Error> {
    let report = diff(dir, files)?;
    if report.is_empty() {
        Ok(())
    } else {
        Err(Error::Stale {
            dir: dir.to_path_buf(),
            report,
        })
    }
}
