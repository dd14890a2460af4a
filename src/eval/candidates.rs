//! An entity's elements made candidates for rows: each with its legacy id, its parent's legacy
//! id and its place in a tree, as the SQL's `src` CTE has them, and the duplicates among them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::context::{Ctx, Kind, Severity, at, id_text, position};
use super::elements::{Element, elements, enclosing_legacy_id, parent_legacy_id};
use crate::ir::{DuplicateId, Entity, MissingId, ParentLink, UniqueWithin};

/// An element that becomes a row unless a policy says otherwise: its legacy id and the legacy id
/// of its parent.
pub(super) struct Candidate<'a> {
    pub(super) element: Element<'a>,
    pub(super) legacy: String,
    pub(super) parent_legacy: Option<String>,
    /// What identifies the row within its user: the legacy id, or with legacy ids unique per
    /// parent, the parent's legacy id with it (`ids::scoped_key`).
    pub(super) key: String,
    /// Its place in the tree, for a recursive entity.
    pub(super) tree: Tree,
}

/// The entity's elements with their legacy ids, in array order, as the SQL's src CTE has them.
pub(super) fn candidates<'a>(doc: &'a Value, e: &Entity, cx: &mut Ctx) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    for el in elements(doc, e, cx) {
        let pos = position(&el.ords);
        let parent_legacy = e.parent.as_ref().and_then(|p| match &p.field {
            Some(f) => id_text(at(el.value, f)),
            None => enclosing_key(p, &el),
        });
        let tree = Tree {
            parent: None,
            depth: 1,
        };
        push_candidate(e, el, pos, parent_legacy, tree, &mut out, cx);
    }
    out
}

/// Where an element of a recursive entity sits in its tree.
#[derive(Clone)]
pub(super) struct Tree {
    /// The legacy id of the element it is a child of (`None` at depth 1).
    pub(super) parent: Option<String>,
    pub(super) depth: u32,
}

/// The element as a candidate, then, for a recursive entity, its children in document order
/// (the SQL's `tree`, read in its order of positions). Children share their top element's parent.
fn push_candidate<'a>(
    e: &Entity,
    el: Element<'a>,
    pos: String,
    parent_legacy: Option<String>,
    tree: Tree,
    out: &mut Vec<Candidate<'a>>,
    cx: &mut Ctx,
) {
    if !el.value.is_object() && !e.scalar {
        cx.find(
            Severity::Abort,
            Kind::NotAnObject,
            &e.name,
            None,
            &e.path.to_string(),
            Some(el.value),
            format!("element at {pos} is not a JSON object"),
        );
        return;
    }
    let Some(legacy) = legacy_id(e, &el, &pos, cx) else {
        return;
    };
    let key = match (e.unique_within, &parent_legacy) {
        (UniqueWithin::User, _) => legacy.clone(),
        (UniqueWithin::Parent, Some(p)) => crate::ids::scoped_key(p, &legacy),
        // The parent's own step fails on its missing id before this entity's runs.
        (UniqueWithin::Parent, None) => return,
    };
    let children = e
        .recursive
        .as_ref()
        .map(|r| super::elements::children(e, r, &el, &pos, tree.depth, cx))
        .unwrap_or_default();
    let depth = tree.depth;
    out.push(Candidate {
        element: el,
        legacy: legacy.clone(),
        parent_legacy: parent_legacy.clone(),
        key,
        tree,
    });
    for (child, child_pos) in children {
        let tree = Tree {
            parent: Some(legacy.clone()),
            depth: depth + 1,
        };
        push_candidate(e, child, child_pos, parent_legacy.clone(), tree, out, cx);
    }
}

/// The key of a nested element's parent, as the SQL's `parent_legacy` reads it: the enclosing
/// member's key when it is keyed, else its id field (or its position); with the parent's ids
/// unique per its own parent, that one's legacy id joined to it (`ids::scoped_key`).
fn enclosing_key(p: &ParentLink, el: &Element) -> Option<String> {
    let level = el.ancestors.len();
    let (value, key, n) = el.ancestors.get(level - 1)?;
    let own = parent_legacy_id(p, value, *key, &el.ords[..*n])?;
    match &p.parent_scope {
        None => Some(own),
        Some(g) => {
            let (value, key, n) = el.ancestors.get(level - 2)?;
            let outer = enclosing_legacy_id(
                (&g.legacy_id, g.on_missing_id, false),
                value,
                *key,
                &el.ords[..*n],
            )?;
            Some(crate::ids::scoped_key(&outer, &own))
        }
    }
}

/// The element's legacy id (its position under `on_missing_id: position`); `None` when it has
/// none, which stops the batch.
fn legacy_id(e: &Entity, el: &Element, pos: &str, cx: &mut Ctx) -> Option<String> {
    let own = match el.key {
        Some(k) => Some(k.to_string()),
        // Scalar elements, single objects and a root without an id field have no id of their
        // own: their position is it.
        None if e.legacy_id.keys().is_empty() || e.scalar || e.single => None,
        None => id_text(at(el.value, &e.legacy_id)),
    };
    let legacy = match (own, e.on_missing_id) {
        // A lookup's id is the value itself (a scalar's text) or its id field; none leaves the
        // element out (the SQL's WHERE legacy_id IS NOT NULL).
        _ if e.distinct => id_text(if e.scalar {
            Some(el.value)
        } else {
            at(el.value, &e.legacy_id)
        })?,
        (Some(id), _) => id,
        // Ids unique per parent: the place in its own array, which reordering the parents keeps.
        (None, MissingId::Position)
            if e.unique_within == UniqueWithin::Parent && el.ords.len() > 1 =>
        {
            position(&el.ords[el.ords.len() - 1..])
        }
        (None, MissingId::Position) => pos.to_string(),
        (None, MissingId::Error) => {
            cx.find(
                Severity::Abort,
                Kind::MissingId,
                &e.name,
                None,
                &e.legacy_id.to_string(),
                Some(el.value),
                format!("element at {pos} has no legacy id"),
            );
            return None;
        }
    };
    if legacy.len() > crate::ids::MAX_ID_BYTES {
        // As the SQL's id_too_long() records it: its first 200 characters.
        let shown = Value::from(legacy.chars().take(200).collect::<String>());
        cx.find(
            Severity::Abort,
            Kind::IdTooLong,
            &e.name,
            Some(&format!(
                "{}...",
                legacy.chars().take(40).collect::<String>()
            )),
            &e.legacy_id.to_string(),
            Some(&shown),
            format!(
                "legacy id is {} bytes long; at most {} fit in an index",
                legacy.len(),
                crate::ids::MAX_ID_BYTES
            ),
        );
    }
    Some(legacy)
}

/// Legacy ids that appear more than once within the user.
pub(super) fn report_duplicates(e: &Entity, candidates: &[Candidate], cx: &mut Ctx) {
    // A lookup's repeated values are the point.
    if e.distinct {
        return;
    }
    let mut seen: BTreeMap<&str, (&Candidate, usize)> = BTreeMap::new();
    for c in candidates {
        seen.entry(c.key.as_str()).or_insert((c, 0)).1 += 1;
    }
    for (c, n) in seen.values().filter(|(_, n)| *n > 1) {
        let within = match (e.unique_within, &c.parent_legacy) {
            (UniqueWithin::Parent, Some(p)) => {
                format!(" under parent {}", crate::ids::shown_user(p))
            }
            _ => String::new(),
        };
        let (severity, what) = match e.on_duplicate_id {
            DuplicateId::Error => (Severity::Abort, "the batch fails (on_duplicate_id: error)"),
            DuplicateId::KeepFirst => (
                Severity::Note,
                "the first is kept (on_duplicate_id: keep_first)",
            ),
        };
        cx.find(
            severity,
            Kind::DuplicateId,
            &e.name,
            Some(&c.legacy),
            &e.legacy_id.to_string(),
            None,
            format!("legacy id appears {n} times{within}; {what}"),
        );
    }
}
