//! What ARCHITECTURE.md says of the modules' arrows, held to the source: within one folder, no two
//! files import each other, directly or through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The sibling modules a file names through `super::` (outside its tests and comments).
fn siblings_named(text: &str, siblings: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut named = BTreeSet::new();
    for (i, _) in code.match_indices("super::") {
        let rest = &code[i + "super::".len()..];
        let words: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .collect(),
            None => vec![
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or(""),
            ],
        };
        named.extend(
            words
                .into_iter()
                .filter(|w| siblings.contains(*w))
                .map(str::to_string),
        );
    }
    named
}

fn folders(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    out.push(dir.to_path_buf());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            folders(&path, out);
        }
    }
}

#[test]
fn no_two_files_of_a_folder_import_each_other() {
    let mut dirs = Vec::new();
    folders(Path::new("src"), &mut dirs);
    let mut cycles = Vec::new();
    for dir in dirs {
        let mut files = BTreeMap::new();
        let mut siblings = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                siblings.insert(name);
            } else if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
                siblings.insert(name.clone());
                files.insert(name, std::fs::read_to_string(&path).unwrap());
            }
        }
        // Submodules of the crate root are reached as `crate::x`, not `super::x`.
        if dir == Path::new("src") {
            continue;
        }
        let edges: BTreeMap<String, BTreeSet<String>> = files
            .iter()
            .map(|(name, text)| {
                let mut to = siblings_named(text, &siblings);
                to.remove(name);
                (name.clone(), to)
            })
            .collect();
        for (from, to) in &edges {
            for next in to {
                // Depth-first from `next`: does it come back to `from`?
                let mut stack = vec![next.clone()];
                let mut seen = BTreeSet::new();
                while let Some(n) = stack.pop() {
                    if n == *from {
                        cycles.push(format!("{}: {from} <-> {next}", dir.display()));
                        break;
                    }
                    if seen.insert(n.clone()) {
                        stack.extend(edges.get(&n).into_iter().flatten().cloned());
                    }
                }
            }
        }
    }
    assert!(cycles.is_empty(), "files importing each other: {cycles:#?}");
}

#[test]
fn the_check_sees_an_import_both_ways() {
    let siblings: BTreeSet<String> = ["batch", "failure"].map(String::from).into();
    let named = siblings_named(
        "use super::{failure::Problem, x};\n// super::batch in a comment\nfn f() { super::batch::run() }",
        &siblings,
    );
    assert_eq!(named, siblings);
}
