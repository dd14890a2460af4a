//! Trees of unknown depth in one entity (`source.recursive`): the key holding each element's
//! children, the columns that keep the tree, and the shapes it combines with.

use std::collections::{BTreeMap, HashMap};

use super::draft::{Draft, claim_name, ident_diag, path_diag};
use crate::diagnostic::Diagnostics;
use crate::ir::{Recursion, UniqueWithin};
use crate::jsonpath::{self, FieldPath};
use crate::spec::MappingSpec;
use crate::spec::load::SourceFile;

/// The mapping's recursion, its key parsed and its columns claimed; `None` without one or when
/// it cannot be used.
pub(super) fn check_own<'a>(
    file: &'a SourceFile<MappingSpec>,
    names: &mut HashMap<&'a str, String>,
    seen_paths: &BTreeMap<FieldPath, String>,
    diags: &mut Diagnostics,
) -> Option<Recursion> {
    let m = &file.spec;
    let r = m.source.recursive.as_ref()?;
    let ptr = "/source/recursive";
    let shape = if m.source.keyed {
        Some("an object keyed by id")
    } else if m.source.single {
        Some("a single object")
    } else if m.value.is_some() {
        Some("scalar elements")
    } else if m.source.path == "$" {
        Some("the document root")
    } else if m.source.unique_within == Some(UniqueWithin::Parent) {
        Some("legacy ids unique per parent")
    } else {
        None
    };
    if let Some(shape) = shape {
        diags.push(
            file.at_key("E-recursive", ptr, format!("a recursive entity is an array of objects with ids unique per user, not {shape}"))
                .with_hint("remove `recursive`, or read the tree from an array of objects"),
        );
    }
    for (key, name, what) in [
        ("column", &r.column, "the tree's parent column"),
        ("depth_column", &r.depth_column, "the tree's depth column"),
    ] {
        let at = format!("{ptr}/{key}");
        if let Some(d) = ident_diag(file, &at, name, "column name") {
            diags.push(d);
        }
        claim_name(file, names, name, &at, what, diags);
    }
    let key = match jsonpath::parse_field(&r.key) {
        Ok(k) if k.keys().len() == 1 => k,
        Ok(_) => {
            diags.push(
                file.at(
                    "E-recursive",
                    &format!("{ptr}/key"),
                    format!(
                        "the children's key `{}` is a path; it is one key of each element",
                        r.key
                    ),
                )
                .with_hint("name the key that holds the children, e.g. `children`"),
            );
            return None;
        }
        Err(e) => {
            diags.push(path_diag(file, &format!("{ptr}/key"), &r.key, e));
            return None;
        }
    };
    if let Some(col) = seen_paths.get(&key) {
        diags.push(
            file.at(
                "E-path-twice",
                &format!("{ptr}/key"),
                format!("`{key}` holds the children, and is also mapped to column `{col}`"),
            )
            .with_hint("remove the column: the children are rows of this entity"),
        );
    }
    (shape.is_none()).then(|| Recursion {
        key,
        column: r.column.clone(),
        depth_column: r.depth_column.clone(),
        max_depth: r.max_depth,
    })
}

/// Entities nested inside a recursive entity's elements would have to be found at every depth:
/// not supported yet.
pub(super) fn check_nested(drafts: &[Draft], parent_of: &[Option<usize>], diags: &mut Diagnostics) {
    for (i, d) in drafts.iter().enumerate() {
        let Some(p) = parent_of[i] else { continue };
        let nested = d
            .file
            .spec
            .parent
            .as_ref()
            .is_some_and(|ps| ps.field.is_none());
        if nested && d.recursion.is_some() && drafts[p].recursion.is_some() {
            diags.push(
                d.file
                    .at_key("E-recursive", "/parent/entity", format!("`{}` is recursive: a tree nested in the nodes of another tree is not supported yet", drafts[p].file.spec.entity))
                    .with_hint("read the inner tree as elements of the outer one, or link it by a field"),
            );
        }
    }
}
