//! Checks across entities: unique names, tables and arrays; parents that exist, agree with the
//! nesting of paths and form no cycle.

use std::collections::BTreeMap;

use super::AUDIT_TABLES;
use super::draft::Draft;
use crate::diagnostic::Diagnostics;
use crate::ir::UniqueWithin;
use crate::jsonpath::ArrayPath;
use crate::spec::PlanSpec;
use crate::spec::load::LoadedSpec;
use crate::spec::schema::suggest;

/// Entities, tables and arrays appear once in a plan; returns each entity's index.
pub(super) fn check_unique<'a>(
    p: &PlanSpec,
    drafts: &'a [Draft],
    diags: &mut Diagnostics,
) -> BTreeMap<&'a str, usize> {
    // Entities and tables must be unique across the plan.
    let mut by_entity: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_table: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_path: BTreeMap<String, usize> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        let m = &d.file.spec;
        if let Some(&j) = by_entity.get(m.entity.as_str()) {
            diags.push(
                d.file
                    .at(
                        "E-duplicate-entity",
                        "/entity",
                        format!(
                            "entity `{}` is also defined in {}",
                            m.entity,
                            drafts[j].file.path.display()
                        ),
                    )
                    .with_hint("each entity has one mapping file; is it listed twice in the plan?"),
            );
        } else {
            by_entity.insert(&m.entity, i);
        }
        if let Some(&j) = by_table.get(m.table.as_str()) {
            diags.push(
                d.file
                    .at(
                        "E-duplicate-table",
                        "/table",
                        format!(
                            "table `{}` is also the target of {}",
                            m.table,
                            drafts[j].file.path.display()
                        ),
                    )
                    .with_hint("give each entity its own table"),
            );
        } else {
            by_table.insert(&m.table, i);
        }
        if p.target.schema == p.target.audit_schema && AUDIT_TABLES.contains(&m.table.as_str()) {
            diags.push(
                d.file
                    .at(
                        "E-duplicate-table",
                        "/table",
                        format!("table `{}` is one of pgshred's audit tables", m.table),
                    )
                    .with_hint("rename the table, or set target.audit_schema to another schema"),
            );
        }
        check_path(drafts, i, &mut by_path, diags);
        check_unique_by_user(p, d, diags);
    }
    by_entity
}

/// On tables split by user_id, PostgreSQL and Citus enforce a unique index only when it
/// includes user_id: a key unique over all users cannot be kept.
fn check_unique_by_user(p: &PlanSpec, d: &Draft, diags: &mut Diagnostics) {
    if !p.target.layout.splits_by_user() {
        return;
    }
    for (i, idx) in d.file.spec.indexes.iter().enumerate() {
        if idx.unique && !idx.columns.iter().any(|c| c == "user_id") {
            diags.push(
                d.file
                    .at(
                        "E-layout",
                        &format!("/indexes/{i}/columns"),
                        format!(
                            "unique index on ({}) of `{}` does not include user_id, which target.layout splits the table by",
                            idx.columns.join(", "),
                            d.file.spec.table
                        ),
                    )
                    .with_hint("add user_id to the index (unique per user), or drop `unique`"),
            );
        }
    }
}

/// An array is read by one entity, or shared by entities routing its kinds (`where`, checked in
/// `routes`); a lookup (`distinct`) copies from the array another entity reads.
fn check_path(
    drafts: &[Draft],
    i: usize,
    by_path: &mut BTreeMap<String, usize>,
    diags: &mut Diagnostics,
) {
    let d = &drafts[i];
    if d.file.spec.source.distinct {
        return;
    }
    if let Some(path) = &d.path {
        let key = path.to_string();
        // Entities routing one array of many kinds share it (checked in `routes`).
        let routed = |x: &Draft| x.file.spec.source.route.is_some();
        if let Some(&j) = by_path
            .get(&key)
            .filter(|&&j| !(routed(d) && routed(&drafts[j])))
        {
            diags.push(
                d.file
                    .at(
                        "E-path-twice",
                        "/source/path",
                        format!(
                            "array `{key}` is already read by entity `{}`",
                            drafts[j].file.spec.entity
                        ),
                    )
                    .with_hint("two entities cannot read the same array"),
            );
        } else {
            by_path.insert(key, i);
        }
    }
}

/// The parent of each entity (its index), when it names a known entity; a parent must agree with
/// the nesting of paths.
pub(super) fn parents(
    spec: &LoadedSpec,
    drafts: &[Draft],
    by_entity: &BTreeMap<&str, usize>,
    diags: &mut Diagnostics,
) -> Vec<Option<usize>> {
    // Parents: known, consistent with nesting, no cycles.
    let mut parent_of: Vec<Option<usize>> = vec![None; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        let m = &d.file.spec;
        let nested = d.path.as_ref().is_some_and(ArrayPath::is_nested);
        let Some(pspec) = &m.parent else {
            // A lookup is per user: its rows come from every element at the path.
            if nested && !m.source.distinct {
                diags.push(
                    d.file
                        .at("E-parent-nested", "/source/path", format!("nested path `{}` needs a `parent`", m.source.path))
                        .with_hint("add `parent: {entity: <entity of the enclosing array>, column: <fk column>}`"),
                );
            }
            continue;
        };
        let Some(&j) = by_entity.get(pspec.entity.as_str()) else {
            if spec.unusable_entities.contains(&pspec.entity) {
                continue; // its own file's errors are already reported
            }
            let mut dg = d.file.at(
                "E-parent-unknown",
                "/parent/entity",
                format!("unknown parent entity `{}`", pspec.entity),
            );
            dg = match suggest(&pspec.entity, by_entity.keys().copied()) {
                Some(s) => dg.with_hint(format!("did you mean `{s}`?")),
                None => dg.with_hint(format!(
                    "entities in this plan: {}; is its mapping file listed in the plan?",
                    by_entity.keys().copied().collect::<Vec<_>>().join(", ")
                )),
            };
            diags.push(dg);
            continue;
        };
        let is_root = |d: &Draft| d.path.as_ref().is_some_and(ArrayPath::is_root);
        // A root naming its id field is a parent its top-level entities link to by a field.
        let root_parent_by_field = is_root(&drafts[j])
            && drafts[j].file.spec.source.legacy_id.is_some()
            && pspec.field.is_some();
        if is_root(d) || (is_root(&drafts[j]) && !root_parent_by_field) {
            diags.push(
                d.file
                    .at_key(
                        "E-parent-root",
                        "/parent",
                        "the document root (`path: $`) has no parent, and is a parent only by a field naming its id: every top-level entity hangs from the document itself",
                    )
                    .with_hint("remove `parent`, or give the root `legacy_id` and the parent link a `field`"),
            );
            continue;
        }
        parent_of[i] = Some(j);
        check_link(d, &drafts[j], nested, diags);
    }
    parent_of
}

/// Legacy ids unique per parent need a parent that encloses the element (the parent's id is part
/// of the element's). Children may nest in such an entity, but not link to it by a field (an id
/// names several rows), and not below two such levels (not supported yet).
pub(super) fn check_unique_within(
    drafts: &[Draft],
    parent_of: &[Option<usize>],
    diags: &mut Diagnostics,
) {
    for (i, d) in drafts.iter().enumerate() {
        let m = &d.file.spec;
        if m.source.unique_within != Some(UniqueWithin::Parent) {
            continue;
        }
        let enclosed = m.parent.as_ref().is_some_and(|p| p.field.is_none())
            && d.path.as_ref().is_some_and(ArrayPath::is_nested);
        if !enclosed {
            diags.push(
                d.file
                    .at_key(
                        "E-unique-within",
                        "/source/unique_within",
                        "legacy ids unique per parent need the entity nested in its parent's elements (`path: <parent path>[*].<key>`, a parent without `field`)",
                    )
                    .with_hint("nest the entity under its parent, or remove `unique_within` (ids are then unique per user)"),
            );
        }
        let scoped =
            |j: usize| drafts[j].file.spec.source.unique_within == Some(UniqueWithin::Parent);
        for c in (0..drafts.len()).filter(|&c| parent_of[c] == Some(i)) {
            let child = &drafts[c].file.spec;
            let message = if let Some(field) = child.parent.as_ref().and_then(|p| p.field.as_ref())
            {
                format!(
                    "`{}` links to `{}` by `{field}`, but `{}`'s legacy ids are unique only per parent: one id can name several rows",
                    child.entity, m.entity, m.entity
                )
            } else if parent_of[i].is_some_and(scoped) {
                format!(
                    "`{}` is nested in `{}`, and both it and its parent have legacy ids unique per parent: two such levels above an entity are not supported yet",
                    child.entity, m.entity
                )
            } else {
                continue;
            };
            diags.push(
                d.file
                    .at_key("E-unique-within", "/source/unique_within", message)
                    .with_hint("remove `unique_within` here (ids are then unique per user), or nest the child without a field"),
            );
        }
    }
}

/// A parent link agrees with the paths: a nested entity's parent is the entity of its enclosing
/// array (and names no field), a top-level entity's names the field holding the parent's id.
fn check_link(d: &Draft, parent: &Draft, nested: bool, diags: &mut Diagnostics) {
    let pspec = d
        .file
        .spec
        .parent
        .as_ref()
        .expect("only linked entities are checked");
    if nested {
        if pspec.field.is_some() {
            diags.push(
                d.file
                    .at_key("E-parent-nested", "/parent/field", "`field` is not used for a nested entity: the enclosing element is the parent")
                    .with_hint("remove `field`"),
            );
        }
        let expected = d.path.as_ref().and_then(ArrayPath::parent);
        if let (Some(exp), Some(ppath)) = (&expected, &parent.path)
            && exp != ppath
        {
            diags.push(
                d.file
                    .at(
                        "E-parent-nested",
                        "/parent/entity",
                        format!(
                            "parent `{}` reads `{ppath}`, but this path is nested in `{exp}`",
                            pspec.entity
                        ),
                    )
                    .with_hint(
                        "the parent of a nested entity is the entity of its enclosing array",
                    ),
            );
        }
    } else if pspec.field.is_none() {
        diags.push(
            d.file
                .at(
                    "E-parent-field",
                    "/parent",
                    "a top-level entity needs `field`: which key holds the parent's legacy id",
                )
                .with_hint("e.g. `field: orgId`"),
        );
    }
}

/// Parent links never form a cycle (parents are created before children).
pub(super) fn check_cycles(drafts: &[Draft], parent_of: &[Option<usize>], diags: &mut Diagnostics) {
    for start in 0..drafts.len() {
        let mut seen = vec![start];
        let mut cur = start;
        while let Some(next) = parent_of[cur] {
            if next == start {
                let names: Vec<&str> = seen
                    .iter()
                    .chain([&start])
                    .map(|&k| drafts[k].file.spec.entity.as_str())
                    .collect();
                // Report the cycle once, at the entity whose name sorts first.
                if seen
                    .iter()
                    .all(|&k| drafts[k].file.spec.entity >= drafts[start].file.spec.entity)
                {
                    diags.push(
                        drafts[start]
                            .file
                            .at("E-parent-cycle", "/parent/entity", format!("parent links form a cycle: {}", names.join(" -> ")))
                            .with_hint("parents are created before children, so a cycle can never be migrated; remove one link"),
                    );
                }
                break;
            }
            if seen.contains(&next) {
                break;
            }
            seen.push(next);
            cur = next;
        }
    }
}

/// With a document root entity, top-level entity paths are one key, so the root knows which of
/// its keys other entities carry.
pub(super) fn check_root(drafts: &[Draft], diags: &mut Diagnostics) {
    if !drafts
        .iter()
        .any(|d| d.path.as_ref().is_some_and(ArrayPath::is_root))
    {
        return;
    }
    for d in drafts {
        if let Some(p) = &d.path
            && !p.is_root()
            && !p.is_nested()
            && p.levels()[0].keys().len() > 1
        {
            diags.push(
                d.file
                    .at(
                        "E-path-root",
                        "/source/path",
                        format!("`{p}` is more than one key, which a plan with a document root entity does not support yet"),
                    )
                    .with_hint("map the enclosing object as its own entity, or read the array from a top-level key"),
            );
        }
    }
}
