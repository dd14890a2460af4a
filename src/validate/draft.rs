//! What the checks of one mapping leave for the others: the `Draft` of a mapping, and the
//! diagnostics every check words the same way (identifiers, paths, names claimed twice). A leaf
//! of `validate`: the checks import it, it imports none of them.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ident::{MAX_IDENT_BYTES, is_valid_identifier};
use crate::ir::Column;
use crate::jsonpath::{ArrayPath, FieldPath, PathError};
use crate::spec::MappingSpec;
use crate::spec::load::SourceFile;

pub(super) fn ident_diag<T>(
    f: &SourceFile<T>,
    pointer: &str,
    name: &str,
    what: &str,
) -> Option<Diagnostic> {
    if is_valid_identifier(name) {
        return None;
    }
    let (msg, hint) = if name.len() > MAX_IDENT_BYTES {
        (
            format!(
                "{what} `{name}` is {} bytes long; PostgreSQL truncates names after {MAX_IDENT_BYTES}",
                name.len()
            ),
            "choose a shorter name".to_string(),
        )
    } else {
        (
            format!("{what} `{name}` is not a valid identifier"),
            format!(
                "use lower-case snake_case starting with a letter, e.g. `{}`",
                snake_case(name)
            ),
        )
    };
    Some(f.at("E-identifier", pointer, msg).with_hint(hint))
}

/// `orgId` -> `org_id`, for hints.
fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("_{out}"),
        None => "name".into(),
        _ => out,
    }
}

pub(super) fn path_diag<T>(
    f: &SourceFile<T>,
    pointer: &str,
    text: &str,
    e: PathError,
) -> Diagnostic {
    let mut d = f.at(
        "E-path",
        pointer,
        format!("malformed path `{text}`: {}", e.message),
    );
    // Point at the offending character when the value sits on one line.
    if let Some(pos) = d.pos.as_mut() {
        let line = f.text.lines().nth(pos.line - 1).unwrap_or("");
        let rest: String = line.chars().skip(pos.column - 1).collect();
        let quote = usize::from(rest.starts_with(['"', '\'']));
        if rest.get(quote..quote + text.len()) == Some(text) {
            pos.column += quote + text[..e.offset].chars().count();
        }
    }
    d.with_hint("paths are keys separated by dots, e.g. `profile.bio`; entity arrays may nest with `[*]`, e.g. `personas[*].contents`")
}

/// What is known about one mapping after its own checks, before cross-entity checks.
pub(super) struct Draft<'a> {
    pub(super) file: &'a SourceFile<MappingSpec>,
    pub(super) path: Option<ArrayPath>,
    pub(super) legacy_id: Option<FieldPath>,
    pub(super) parent_field: Option<FieldPath>,
    pub(super) columns: Vec<Column>,
    pub(super) drop: Vec<FieldPath>,
    pub(super) extra: Option<String>,
    pub(super) position: Option<String>,
    /// Each reference's field, in the mapping's order (`None`: malformed, reported).
    pub(super) references: Vec<Option<FieldPath>>,
    pub(super) recursion: Option<crate::ir::Recursion>,
    /// The `where` field and the kinds it takes.
    pub(super) route: Option<(FieldPath, Vec<String>)>,
}

pub(super) fn claim_name<'n, T>(
    file: &SourceFile<T>,
    names: &mut HashMap<&'n str, String>,
    name: &'n str,
    pointer: &str,
    what: &str,
    diags: &mut Diagnostics,
) {
    if let Some(owner) = names.get(name) {
        diags.push(
            file.at(
                "E-duplicate-column",
                pointer,
                format!("column `{name}` is defined twice: it is already {owner}"),
            )
            .with_hint("rename one of them"),
        );
    } else {
        names.insert(name, what.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_cases_hints() {
        assert_eq!(snake_case("orgId"), "org_id");
        assert_eq!(snake_case("Inbox Items"), "inbox_items");
        assert_eq!(snake_case("1st"), "_1st");
    }
}
