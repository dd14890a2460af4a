//! Where files are when a command is not told: found from the plan file or the project, not the
//! directory the command happens to run in.

use std::path::{Path, PathBuf};

/// `generated/` of the project the plan belongs to: the nearest folder above the plan holding a
/// `generated/` folder (then one holding `.git`), else `generated/` here as before.
pub fn generated_dir(plan: &Path) -> PathBuf {
    let dir = plan
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let ancestors = || dir.iter().flat_map(|d| d.ancestors());
    let found = ancestors()
        .find(|a| a.join("generated").is_dir())
        .or_else(|| ancestors().find(|a| a.join(".git").exists()))
        .map_or_else(|| PathBuf::from("generated"), |a| a.join("generated"));
    // Shown relative to here when below it, as the user would write it.
    let here = std::env::current_dir().and_then(|d| d.canonicalize());
    match here.as_deref().map(|h| found.strip_prefix(h)) {
        Ok(Ok(rel)) => rel.to_path_buf(),
        _ => found,
    }
}

/// A project file named relative to the project root (`plans/user_app_state.yaml`): as given
/// when it exists from here, else from the nearest folder above holding it, else from the source
/// tree this binary was built from.
pub fn project_file(relative: &Path) -> PathBuf {
    if relative.is_absolute() || relative.exists() {
        return relative.to_path_buf();
    }
    let here = std::env::current_dir().unwrap_or_default();
    here.ancestors()
        .skip(1)
        .chain([Path::new(env!("CARGO_MANIFEST_DIR"))])
        .map(|a| a.join(relative))
        .find(|p| p.exists())
        .unwrap_or_else(|| relative.to_path_buf())
}
