//! References besides the parent: a field holding another entity's legacy id becomes a foreign
//! key. Checked in two steps: each mapping's own (field, column), then across entities (the target
//! exists, its legacy ids name one row, no cycle through references and parents).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::draft::{Draft, claim_name, ident_diag, path_diag};
use crate::diagnostic::Diagnostics;
use crate::ir::{OnMissingParent, UniqueWithin};
use crate::jsonpath::{self, ArrayPath, FieldPath};
use crate::spec::MappingSpec;
use crate::spec::load::SourceFile;
use crate::spec::schema::suggest;

/// Each reference's field, parsed, and its column claimed; `None` where the field is malformed.
/// A link's field is the element itself (an empty path), and needs scalar elements.
pub(super) fn check_own<'a>(
    file: &'a SourceFile<MappingSpec>,
    names: &mut HashMap<&'a str, String>,
    seen_paths: &mut BTreeMap<FieldPath, String>,
    diags: &mut Diagnostics,
) -> Vec<Option<FieldPath>> {
    if file.spec.link.is_some() && file.spec.value.is_none() {
        diags.push(
            file.at_key("E-link", "/link", "a link reads ids from scalar elements (`[\"m1\", \"m2\"]`): it needs `value`")
                .with_hint("add `value: { name: <column for the id as written>, type: text }`, or use `references` for a field of object elements"),
        );
    }
    if file.spec.value.is_some() && !file.spec.references.is_empty() {
        diags.push(
            file.at_key("E-link", "/references", "scalar elements have no fields to read a reference from")
                .with_hint("use `link: { entity: <entity>, column: <fk column> }`: the element itself is the id"),
        );
    }
    // `entity` and `column`, or `one_of` instead of both (the schema lets either through).
    for (i, r) in file.spec.references.iter().enumerate() {
        let (message, hint) = match (&r.entity, &r.column, r.one_of.is_empty()) {
            (Some(_), Some(_), true) => continue,
            (_, _, true) => (
                "a reference names its `entity` and its `column`",
                "add both, or list the entities the field may name in `one_of`",
            ),
            (None, None, false) => continue,
            (_, _, false) => (
                "`one_of` names each entity with its column, instead of `entity` and `column`",
                "remove `entity` and `column`, or `one_of`",
            ),
        };
        diags.push(
            file.at_key("E-reference", &format!("/references/{i}"), message)
                .with_hint(hint),
        );
    }
    let mut fields = Vec::new();
    for r in file.spec.all_references() {
        let ptr = r.pointer;
        if let Some(d) = ident_diag(file, &format!("{ptr}/column"), r.column, "column name") {
            diags.push(d);
        }
        claim_name(
            file,
            names,
            r.column,
            &format!("{ptr}/column"),
            &format!("the reference to `{}`", r.entity),
            diags,
        );
        if r.field.is_empty() {
            fields.push(Some(FieldPath(Vec::new())));
            continue;
        }
        let field = match jsonpath::parse_field(r.field) {
            Ok(p) => p,
            Err(e) => {
                // Said once for a `one_of`, at the field they share.
                if r.alternative == 0 {
                    let at = format!("/references/{}/field", r.group);
                    diags.push(path_diag(file, &at, r.field, e));
                }
                fields.push(None);
                continue;
            }
        };
        // The targets of one `one_of` read one field: it is claimed once.
        if r.alternative == 0 {
            if let Some(other) = seen_paths.get(&field) {
                diags.push(
                    file.at(
                        "E-path-twice",
                        &format!("/references/{}/field", r.group),
                        format!("path `{field}` is already mapped to column `{other}`"),
                    )
                    .with_hint("a field is a reference or a column, not both"),
                );
            } else {
                seen_paths.insert(field.clone(), r.column.to_string());
            }
        }
        fields.push(Some(field));
    }
    fields
}

/// Targets of references: known entities whose legacy ids each name one row of the user.
pub(super) fn check_targets(
    drafts: &[Draft],
    by_entity: &BTreeMap<&str, usize>,
    diags: &mut Diagnostics,
) {
    for d in drafts {
        for r in d.file.spec.all_references() {
            let ptr = format!("{}/entity", r.pointer);
            let Some(&j) = by_entity.get(r.entity) else {
                let mut dg = d.file.at(
                    "E-reference-unknown",
                    &ptr,
                    format!("unknown entity `{}`", r.entity),
                );
                if let Some(s) = suggest(r.entity, by_entity.keys().copied()) {
                    dg = dg.with_hint(format!("did you mean `{s}`?"));
                }
                diags.push(dg);
                continue;
            };
            if let Some(why) = not_addressable(&drafts[j]) {
                diags.push(
                    d.file
                        .at("E-reference-target", &ptr, format!("`{}` cannot be referenced by a legacy id: {why}", r.entity))
                        .with_hint("reference an entity whose elements have ids of their own (an id field, or keys)"),
                );
            }
            check_alternative(d, &r, drafts, by_entity, diags);
        }
    }
}

/// A target of a `one_of` after the first: another entity than those before it, whose ids are
/// written in the same JSON type (the round trip gives the field back in one).
fn check_alternative(
    d: &Draft,
    r: &crate::spec::RefSpec,
    drafts: &[Draft],
    by_entity: &BTreeMap<&str, usize>,
    diags: &mut Diagnostics,
) {
    if r.alternative == 0 {
        return;
    }
    let all = d.file.spec.all_references();
    let id_type = |entity: &str| {
        by_entity
            .get(entity)
            .map(|&j| drafts[j].file.spec.source.id_type.unwrap_or_default())
    };
    for before in all
        .iter()
        .filter(|o| o.group == r.group && o.alternative < r.alternative)
    {
        let at = |message: String, hint: &str| {
            d.file
                .at(
                    "E-reference-one-of",
                    &format!("{}/entity", r.pointer),
                    message,
                )
                .with_hint(hint.to_string())
        };
        if before.entity == r.entity {
            diags.push(at(
                format!("`{}` is named twice in one `one_of`", r.entity),
                "name each entity once",
            ));
        } else if id_type(before.entity) != id_type(r.entity) {
            diags.push(at(
                format!(
                    "`{}` and `{}` write their ids in different JSON types (source.id_type), and `{}` comes back in one",
                    before.entity, r.entity, r.field
                ),
                "give both entities the same id_type",
            ));
        }
    }
}

/// Why an entity's legacy ids do not each name one row of a user, if they do not.
fn not_addressable(d: &Draft) -> Option<&'static str> {
    let m = &d.file.spec;
    if d.path.as_ref().is_some_and(ArrayPath::is_root) && m.source.legacy_id.is_none() {
        Some("it is the document root, one row per user, with no id field (`legacy_id`)")
    } else if m.source.single {
        Some("it is a single object, whose legacy id is its position")
    } else if m.value.is_some() && !m.source.keyed && !m.source.distinct {
        Some("its scalar elements' legacy ids are their positions")
    } else if m.source.unique_within == Some(UniqueWithin::Parent) {
        Some("its legacy ids are unique only per parent, so one id can name several rows")
    } else {
        None
    }
}

/// A reference's target is written before the entity (or by the same statement, for its own
/// elements): references and parents together form no cycle, and a reference to the entity's
/// own elements cannot skip, since which of them are written is decided by that statement.
pub(super) fn check_order(
    drafts: &[Draft],
    by_entity: &BTreeMap<&str, usize>,
    parent_of: &[Option<usize>],
    diags: &mut Diagnostics,
) {
    let edges = dependencies(drafts, by_entity, parent_of);
    for (i, d) in drafts.iter().enumerate() {
        for r in d.file.spec.all_references() {
            let Some(&j) = by_entity.get(r.entity) else {
                continue;
            };
            let k = &r.pointer;
            if i == j {
                if r.on_missing == Some(OnMissingParent::Skip) {
                    diags.push(
                        d.file
                            .at("E-reference-skip", &format!("{k}/on_missing"), "a reference to the entity's own elements cannot skip: those elements are written by the same statement")
                            .with_hint("use `on_missing: \"null\"` (the value is kept in extra) or `error`"),
                    );
                }
                continue;
            }
            if nested_in(drafts, parent_of, j, i) {
                check_child_target(d, &r, &drafts[j], diags);
                continue;
            }
            if let Some(path) = path_between(&edges, j, i) {
                let names: Vec<&str> = std::iter::once(i)
                    .chain(path)
                    .map(|x| drafts[x].file.spec.entity.as_str())
                    .collect();
                diags.push(
                    d.file
                        .at(
                            "E-reference-cycle",
                            &format!("{k}/entity"),
                            format!(
                                "`{}` would have to be written before `{}` and after it: {}",
                                r.entity,
                                d.file.spec.entity,
                                names.join(" -> ")
                            ),
                        )
                        .with_hint(
                            "drop one of these references, or keep that id as a text column",
                        ),
                );
            }
        }
    }
}

/// A reference to an entity nested in this one is resolved against the document, before that
/// entity is written, and checked at commit: so neither it nor its target may skip elements, or
/// the row it names might not be written.
fn check_child_target(
    d: &Draft,
    r: &crate::spec::RefSpec,
    target: &Draft,
    diags: &mut Diagnostics,
) {
    let at = |ptr: String, message: String| {
        d.file.at("E-reference-child", &ptr, message).with_hint(
            "use `on_missing: \"null\"` or `error`, here and on the nested entity's references",
        )
    };
    if r.on_missing == Some(OnMissingParent::Skip) {
        diags.push(at(
            format!("{}/on_missing", r.pointer),
            format!(
                "`{}` is nested in `{}` and written after it, so a reference to it cannot skip",
                r.entity, d.file.spec.entity
            ),
        ));
    }
    if target
        .file
        .spec
        .all_references()
        .iter()
        .any(|t| t.on_missing == Some(OnMissingParent::Skip))
    {
        diags.push(at(
            format!("{}/entity", r.pointer),
            format!(
                "`{}` skips some of its elements (on_missing: skip), so a row this reference names might never be written",
                r.entity
            ),
        ));
    }
}

/// Whether entity `j` is nested, at any depth, in the elements of entity `i` (its parent, its
/// parent's parent... each through a nested path).
pub(super) fn nested_in(drafts: &[Draft], parent_of: &[Option<usize>], j: usize, i: usize) -> bool {
    let mut k = j;
    let mut seen = BTreeSet::new();
    while drafts[k].path.as_ref().is_some_and(ArrayPath::is_nested) && seen.insert(k) {
        match parent_of[k] {
            Some(p) if p == i => return true,
            Some(p) => k = p,
            None => return false,
        }
    }
    false
}

/// For each entity, the entities it depends on (its parent and the targets of its references,
/// itself and the entities nested in it excluded): they must be written first.
pub(super) fn dependencies(
    drafts: &[Draft],
    by_entity: &BTreeMap<&str, usize>,
    parent_of: &[Option<usize>],
) -> Vec<BTreeSet<usize>> {
    drafts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let refs = d
                .file
                .spec
                .all_references()
                .into_iter()
                .filter_map(|r| by_entity.get(r.entity).copied())
                .filter(|&j| !nested_in(drafts, parent_of, j, i));
            parent_of[i]
                .into_iter()
                .chain(refs)
                .filter(|&j| j != i)
                .collect()
        })
        .collect()
}

/// A chain of dependencies from `from` to `to` (`from` first), if there is one.
fn path_between(edges: &[BTreeSet<usize>], from: usize, to: usize) -> Option<Vec<usize>> {
    let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(x) = queue.pop_front() {
        if x == to {
            let mut path = vec![to];
            let mut cur = to;
            while let Some(&prev) = came_from.get(&cur) {
                path.push(prev);
                cur = prev;
            }
            path.reverse();
            return Some(path);
        }
        for &next in &edges[x] {
            if next != from && !came_from.contains_key(&next) {
                came_from.insert(next, x);
                queue.push_back(next);
            }
        }
    }
    None
}
