//! Checks of one mapping file on its own: names, paths, columns, types, defaults, drops, indexes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::SYSTEM_COLUMNS;
use super::draft::{Draft, claim_name, ident_diag, path_diag};
use crate::diagnostic::Diagnostics;
use crate::jsonpath::{self, ArrayPath, FieldPath};
use crate::spec::MappingSpec;
use crate::spec::load::SourceFile;
use crate::spec::schema::suggest;

pub(super) fn check<'a>(file: &'a SourceFile<MappingSpec>, diags: &mut Diagnostics) -> Draft<'a> {
    let m = &file.spec;
    for (ptr, name, what) in [
        ("/entity", &m.entity, "entity name"),
        ("/table", &m.table, "table name"),
    ] {
        if let Some(d) = ident_diag(file, ptr, name, what) {
            diags.push(d);
        }
    }
    let (path, legacy_id, parent_field) = parse_paths(file, diags);
    let (mut names, mut extra, position) = reserve_names(file, diags);
    let mut columns = Vec::new();
    if m.value.is_some() {
        columns.extend(super::columns::value_column(file, &mut names, diags));
        // A scalar has no keys to keep.
        extra = None;
    }
    let mut seen_paths: BTreeMap<FieldPath, String> = BTreeMap::new();
    for (i, c) in m.columns.iter().enumerate() {
        if let Some(col) =
            super::columns::check_column(file, i, c, &mut names, &mut seen_paths, diags)
        {
            columns.push(col);
        }
    }
    let references = super::references::check_own(file, &mut names, &mut seen_paths, diags);
    let recursion = super::recursion::check_own(file, &mut names, &seen_paths, diags);
    let route = super::routes::check_own(file, diags);
    let read: Vec<(&FieldPath, &str)> = legacy_id
        .iter()
        .map(|p| (p, "the legacy id"))
        .chain(parent_field.iter().map(|p| (p, "the parent's field")))
        .collect();
    let drop = super::columns::check_drop(file, &seen_paths, &read, diags);
    if extra.is_none()
        && let Some(i) = m.columns.iter().position(|c| c.keep_original)
    {
        diags.push(
            file.at(
                "E-keep-original",
                &format!("/columns/{i}/keep_original"),
                "keep_original keeps the source's value in the extra column, and this mapping has none",
            )
            .with_hint("remove `extra: false`, or keep_original"),
        );
    }
    Draft {
        file,
        path,
        legacy_id,
        parent_field,
        columns,
        drop,
        extra,
        position,
        references,
        recursion,
        route,
    }
}

/// The entity's array path, its legacy id field and its parent reference field, each parsed.
fn parse_paths(
    file: &SourceFile<MappingSpec>,
    diags: &mut Diagnostics,
) -> (Option<ArrayPath>, Option<FieldPath>, Option<FieldPath>) {
    let m = &file.spec;
    let path = match jsonpath::parse_array(&m.source.path) {
        Ok(p) => Some(p),
        Err(e) => {
            diags.push(path_diag(file, "/source/path", &m.source.path, e));
            None
        }
    };
    let root = path.as_ref().is_some_and(ArrayPath::is_root);
    super::shape::check(file, root, diags);
    if let Some(d) = super::shape::needless_legacy_id(file) {
        diags.push(d);
        return (path, None, None);
    }
    let legacy_id = legacy_id(file, root, diags);
    let parent_field =
        m.parent.as_ref().and_then(|p| p.field.as_ref()).and_then(
            |t| match jsonpath::parse_field(t) {
                Ok(p) => Some(p),
                Err(e) => {
                    diags.push(path_diag(file, "/parent/field", t, e));
                    None
                }
            },
        );
    (path, legacy_id, parent_field)
}

/// The field holding each element's legacy id; an empty path for the shapes whose id is implicit
/// (the root, single objects, keyed members, scalars).
fn legacy_id(
    file: &SourceFile<MappingSpec>,
    root: bool,
    diags: &mut Diagnostics,
) -> Option<FieldPath> {
    let m = &file.spec;
    if super::shape::implicit_id(m, root) {
        return Some(FieldPath(Vec::new()));
    }
    match m.source.legacy_id.as_deref() {
        None => {
            diags.push(
                file.at_key(
                    "E-legacy-id",
                    "/source",
                    "missing `legacy_id`: which field of each element holds its legacy id",
                )
                .with_hint("e.g. `legacy_id: id`; only the document root (`path: $`) has none"),
            );
            None
        }
        Some(t) if t.trim().is_empty() => {
            diags.push(
                file.at(
                    "E-legacy-id",
                    "/source/legacy_id",
                    "the legacy id field is empty",
                )
                .with_hint("name the field of each element that holds its legacy id, e.g. `id`"),
            );
            None
        }
        Some(t) => match jsonpath::parse_field(t) {
            Ok(p) => Some(p),
            Err(e) => {
                diags.push(path_diag(file, "/source/legacy_id", t, e));
                None
            }
        },
    }
}

/// Column names taken before the mapped columns: the system columns, the parent link, the extra
/// and the position columns (returned, `None` when the mapping turns them off).
fn reserve_names<'a>(
    file: &'a SourceFile<MappingSpec>,
    diags: &mut Diagnostics,
) -> (HashMap<&'a str, String>, Option<String>, Option<String>) {
    let m = &file.spec;
    // Column names: unique, valid, not a system column, not the parent or extra column.
    let mut names: HashMap<&str, String> = HashMap::new();
    for sys in SYSTEM_COLUMNS {
        names.insert(sys, "a column pgshred adds to every table".into());
    }
    if let Some(p) = &m.parent {
        if let Some(d) = ident_diag(file, "/parent/column", &p.column, "column name") {
            diags.push(d);
        }
        claim_name(
            file,
            &mut names,
            &p.column,
            "/parent/column",
            "the parent link column",
            diags,
        );
    }
    let extra = optional_column(file, &mut names, m.extra.as_ref(), "extra", diags);
    let position = optional_column(file, &mut names, m.position.as_ref(), "position", diags);
    (names, extra, position)
}

/// A column the mapping may name or turn off with `false` (`extra`, `position`), defaulting to
/// `key` itself; its name is claimed. Returns it, `None` when turned off.
fn optional_column<'a>(
    file: &'a SourceFile<MappingSpec>,
    names: &mut HashMap<&'a str, String>,
    value: Option<&'a Value>,
    key: &'static str,
    diags: &mut Diagnostics,
) -> Option<String> {
    let what = format!("the {key} column");
    let pointer = format!("/{key}");
    match value {
        None => {
            claim_name(file, names, key, "/entity", &what, diags);
            Some(key.to_string())
        }
        Some(Value::String(s)) => {
            if let Some(d) = ident_diag(file, &pointer, s, "column name") {
                diags.push(d);
            }
            claim_name(file, names, s, &pointer, &what, diags);
            Some(s.clone())
        }
        // The schema only lets a string or `false` through.
        Some(_) => None,
    }
}

/// Index columns name columns of their table.
pub(super) fn check_indexes(drafts: &[Draft], diags: &mut Diagnostics) {
    // Indexes name existing columns.
    for d in drafts {
        let m = &d.file.spec;
        // Every column of the table: mapped, `value`, the links (parent, references, `link`, the
        // tree's), `extra` and `position`.
        let refs = m.all_references();
        let known: BTreeSet<&str> = SYSTEM_COLUMNS
            .iter()
            .copied()
            .chain(d.columns.iter().map(|c| c.name.as_str()))
            .chain(m.parent.iter().map(|p| p.column.as_str()))
            .chain(refs.iter().map(|r| r.column))
            .chain(
                d.recursion
                    .iter()
                    .flat_map(|r| [r.column.as_str(), r.depth_column.as_str()]),
            )
            .chain(d.extra.iter().map(String::as_str))
            .chain(d.position.iter().map(String::as_str))
            .collect();
        for (i, idx) in m.indexes.iter().enumerate() {
            for (k, col) in idx.columns.iter().enumerate() {
                if !known.contains(col.as_str()) {
                    let mut dg = d.file.at(
                        "E-index-column",
                        &format!("/indexes/{i}/columns/{k}"),
                        format!("index column `{col}` is not a column of `{}`", m.table),
                    );
                    if let Some(s) = suggest(col, known.iter().copied()) {
                        dg = dg.with_hint(format!("did you mean `{s}`?"));
                    }
                    diags.push(dg);
                }
            }
        }
    }
}
