//! The elements of an entity in one document, in the order the SQL takes them: array items,
//! keyed members, single objects, the document root, at every level of nesting.

use serde_json::Value;

use super::context::{Ctx, Kind, Severity, at, id_text, position};
use crate::ir::{Entity, MissingId, ParentLink, Recursion, Rest, Route, Shape};
use crate::jsonpath::FieldPath;

/// An element of an entity's array, with its position at every level and its enclosing element.
pub(super) struct Element<'a> {
    pub(super) value: &'a Value,
    pub(super) ords: Vec<usize>,
    /// The member's key, for an object keyed by id.
    pub(super) key: Option<&'a str>,
    /// The elements enclosing this one, outermost first, each with its key when it is a member
    /// of an object keyed by id, and how many of `ords` are its place (a tree node's place is
    /// its path of positions, several of them).
    pub(super) ancestors: Vec<(&'a Value, Option<&'a str>, usize)>,
}

/// Where a level of an entity's path is read, for what a wrong shape there says: the path as
/// shown, the element holding it (`inside`, as the SQL's: `None` at the top), whether this
/// entity reports it (a level of an enclosing entity is that entity's to report) and whether a
/// value of another shape stays in the enclosing element's extra (`other_shapes: keep`).
struct Level<'s> {
    shown: &'s str,
    inside: Option<&'s str>,
    report: bool,
    keep: bool,
}

/// The array at `path` of `v`: missing or null is empty; anything else that is not an array stops
/// the batch (the SQL's array_at), or is kept.
fn array_at<'a>(
    v: &'a Value,
    path: &FieldPath,
    e: &Entity,
    l: &Level,
    cx: &mut Ctx,
) -> &'a [Value] {
    match at(v, path) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            other_shape(e, l, other, "expected an array", Kind::NotAnArray, cx);
            &[]
        }
    }
}

/// A value of another shape than the level reads: a finding that fails the batch, or a note
/// that `extra` keeps it.
fn other_shape(e: &Entity, l: &Level, value: &Value, expected: &str, kind: Kind, cx: &mut Ctx) {
    if !l.report {
        return;
    }
    let (severity, kind, message) = if l.keep {
        (
            Severity::Note,
            Kind::OtherShape,
            format!(
                "{}: kept whole in {} extra (other_shapes: keep)",
                words(&expected.replacen("expected", "not", 1), l.inside),
                if l.inside.is_some() {
                    "that element's"
                } else {
                    "the document root's"
                }
            ),
        )
    } else {
        (Severity::Abort, kind, words(expected, l.inside))
    };
    cx.find(severity, kind, &e.name, None, l.shown, Some(value), message);
}

/// A wrong shape in words, with the element holding it.
fn words(what: &str, inside: Option<&str>) -> String {
    match inside {
        Some(i) => format!("{what} inside {i}"),
        None => what.to_string(),
    }
}

/// The legacy id of the element enclosing a nested entity's own level, as the SQL's
/// `level_legacy` reads it (see [`enclosing_legacy_id`]).
pub(super) fn parent_legacy_id(
    p: &ParentLink,
    value: &Value,
    key: Option<&str>,
    ords: &[usize],
) -> Option<String> {
    let scoped = p.parent_scope.is_some();
    enclosing_legacy_id(
        (&p.parent_legacy_id, p.parent_on_missing_id, scoped),
        value,
        key,
        ords,
    )
}

/// The legacy id of an enclosing element at `ords`: the member's key when keyed, else its id
/// `field`, else (under `on_missing_id: position`) its place: in its own array when its ids are
/// unique per parent (`scoped`), else at every level.
pub(super) fn enclosing_legacy_id(
    (field, policy, scoped): (&FieldPath, MissingId, bool),
    value: &Value,
    key: Option<&str>,
    ords: &[usize],
) -> Option<String> {
    if let Some(k) = key {
        return Some(k.to_string());
    }
    id_text(at(value, field)).or_else(|| {
        let from = if scoped {
            ords.len().saturating_sub(1)
        } else {
            0
        };
        (policy == MissingId::Position).then(|| position(&ords[from..]))
    })
}

pub(super) fn elements<'a>(doc: &'a Value, e: &Entity, cx: &mut Ctx) -> Vec<Element<'a>> {
    if e.is_root() {
        // The document itself is the root's one element (documents are objects by now).
        return vec![Element {
            value: doc,
            ords: vec![1],
            key: None,
            ancestors: Vec::new(),
        }];
    }
    let levels = e.path.levels();
    let prefixes: Vec<String> = (1..=levels.len())
        .map(|n| crate::jsonpath::ArrayPath(levels[..n].to_vec()).to_string())
        .collect();
    let mut current = vec![Element {
        value: doc,
        ords: Vec::new(),
        key: None,
        ancestors: Vec::new(),
    }];
    let own_level = levels.len() - 1;
    for (depth, level) in levels.iter().enumerate() {
        let shape = e.level_shapes[depth];
        let mut next = Vec::new();
        for parent in &current {
            // What holds this level, as a wrong shape here is worded (the SQL's `inside`).
            let inside = match (&e.parent, depth) {
                (_, 0) => None,
                (Some(p), d) if d == own_level => Some(format!(
                    "{} {}",
                    p.entity,
                    parent_legacy_id(p, parent.value, parent.key, &parent.ords)
                        .unwrap_or_else(|| "?".into())
                )),
                _ => Some(format!("the element at {}", position(&parent.ords))),
            };
            let l = Level {
                shown: &prefixes[depth],
                inside: inside.as_deref(),
                report: depth == own_level,
                keep: e.level_keeps[depth],
            };
            let items: Vec<(Option<&str>, &Value, Vec<usize>)> =
                if let Some(key) = &e.level_trees[depth] {
                    // Every node of the tree, at any depth, with its path of positions.
                    tree_nodes(at(parent.value, level), key)
                } else if shape == Shape::Single {
                    // One object, when there is one (a non-object is flagged as an element, or kept).
                    match at(parent.value, level) {
                        None | Some(Value::Null) => Vec::new(),
                        Some(x) if l.keep && !x.is_object() => {
                            other_shape(e, &l, x, "expected an object", Kind::NotAnObject, cx);
                            Vec::new()
                        }
                        Some(x) => vec![(None, x, vec![1])],
                    }
                } else {
                    members(parent.value, level, shape == Shape::Keyed, e, &l, cx)
                        .into_iter()
                        .enumerate()
                        .map(|(i, (key, v))| (key, v, vec![i + 1]))
                        .collect()
                };
            for (key, v, place) in items {
                let mut ords = parent.ords.clone();
                ords.extend(place);
                let mut ancestors = parent.ancestors.clone();
                if depth > 0 {
                    ancestors.push((parent.value, parent.key, parent.ords.len()));
                }
                next.push(Element {
                    value: v,
                    ords,
                    key,
                    ancestors,
                });
            }
        }
        current = next;
        // Inside an array of many kinds, only the elements the enclosing entity takes.
        if let Some(Some(route)) = e.enclosing_routes.get(depth) {
            current.retain(|el| route.holds(el.value));
        }
    }
    match &e.route {
        Some(route) => current
            .into_iter()
            .filter(|el| takes(e, route, el, cx))
            .collect(),
        None => current,
    }
}

/// The nodes of a tree at any depth, depth first, each with its path of positions (`[2, 1, 3]`:
/// the third child of the first child of the second top node), as the SQL's recursive level
/// reads them: what is not an array holds no nodes (the tree's own statement reports it).
fn tree_nodes<'a>(
    top: Option<&'a Value>,
    key: &str,
) -> Vec<(Option<&'a str>, &'a Value, Vec<usize>)> {
    let mut out = Vec::new();
    let mut stack: Vec<(&Value, Vec<usize>)> = match top {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .rev()
            .map(|(i, v)| (v, vec![i + 1]))
            .collect(),
        _ => Vec::new(),
    };
    while let Some((v, place)) = stack.pop() {
        if let Some(Value::Array(kids)) = v.get(key) {
            for (i, k) in kids.iter().enumerate().rev() {
                let mut p = place.clone();
                p.push(i + 1);
                stack.push((k, p));
            }
        }
        out.push((None, v, place));
    }
    out
}

/// Whether an entity of an array of many kinds takes this element (the SQL's `WHERE CASE`): its
/// kinds, not the others' kinds, and the rest as the route says (a finding when it fails the
/// batch or drops the element).
fn takes(e: &Entity, route: &Route, el: &Element, cx: &mut Ctx) -> bool {
    let kind = route.kind_of(el.value);
    let named = |list: &[String]| kind.as_ref().is_some_and(|k| list.contains(k));
    if named(&route.values) {
        return true;
    }
    if named(&route.taken_by_others) {
        return false;
    }
    let shown = kind
        .as_deref()
        .map_or("no kind".to_string(), |k| format!("kind `{k}`"));
    let path = format!("{}[*].{}", e.path, route.field);
    match route.rest {
        Rest::Take => true,
        Rest::Leave => false,
        Rest::Drop => {
            cx.find(
                Severity::Note,
                Kind::Unrouted,
                &e.name,
                None,
                &path,
                kind.map(Value::String).as_ref(),
                format!(
                    "an element of {shown}, which no entity takes: dropped (where.others: drop)"
                ),
            );
            false
        }
        Rest::Error => {
            cx.find(Severity::Abort, Kind::Unrouted, &e.name, None, &path, kind.map(Value::String).as_ref(),
                format!("an element of {shown}, which no entity takes: the batch fails (add it to a where.in, or set where.others)"));
            false
        }
    }
}

/// The elements at `path` of `v`, in the order the SQL takes them: an array's items, or a keyed
/// object's members (with their keys) in jsonb's order, shorter keys first (the SQL's
/// `jsonb_each`). Missing or null is none; anything else stops the batch.
fn members<'a>(
    v: &'a Value,
    path: &FieldPath,
    keyed: bool,
    e: &Entity,
    l: &Level,
    cx: &mut Ctx,
) -> Vec<(Option<&'a str>, &'a Value)> {
    if !keyed {
        return array_at(v, path, e, l, cx)
            .iter()
            .map(|x| (None, x))
            .collect();
    }
    match at(v, path) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => {
            let mut items: Vec<(Option<&str>, &Value)> =
                m.iter().map(|(k, x)| (Some(k.as_str()), x)).collect();
            items.sort_by(|a, b| {
                let (ka, kb) = (a.0.unwrap_or_default(), b.0.unwrap_or_default());
                (ka.len(), ka.as_bytes()).cmp(&(kb.len(), kb.as_bytes()))
            });
            items
        }
        Some(other) => {
            let expected = "expected an object keyed by id";
            other_shape(e, l, other, expected, Kind::NotAnObject, cx);
            Vec::new()
        }
    }
}

/// The children of a recursive entity's element, with their positions (`#1.2.3`), as the SQL's
/// `tree` takes them: an array under the children's key (missing or null: none; anything else
/// stops the batch), none of them deeper than the entity allows.
pub(super) fn children<'a>(
    e: &Entity,
    r: &Recursion,
    el: &Element<'a>,
    pos: &str,
    depth: u32,
    cx: &mut Ctx,
) -> Vec<(Element<'a>, String)> {
    let shown = format!("{}[*].{}", e.path, r.key);
    let legacy = |x: &Value, pos: String| id_text(at(x, &e.legacy_id)).unwrap_or(pos);
    let inside = format!("{} {}", e.name, legacy(el.value, pos.to_string()));
    let l = Level {
        shown: &shown,
        inside: Some(&inside),
        report: true,
        keep: e.keeps_other_shapes(),
    };
    let items = array_at(el.value, &r.key, e, &l, cx);
    if depth >= r.max_depth
        && let Some(first) = items.first()
    {
        // Named by its legacy id (its position when it has none), as the SQL's too_deep.
        let id = legacy(first, format!("{pos}.1"));
        cx.find(
            Severity::Abort,
            Kind::TooDeep,
            &e.name,
            Some(&id),
            &shown,
            Some(first),
            format!(
                "element at {pos}.1 is nested deeper than {} levels",
                r.max_depth
            ),
        );
        return Vec::new();
    }
    let outer = &el.ords[..el.ords.len() - 1];
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut ords = outer.to_vec();
            ords.push(i + 1);
            let child = Element {
                value: v,
                ords,
                key: None,
                ancestors: el.ancestors.clone(),
            };
            (child, format!("{pos}.{}", i + 1))
        })
        .collect()
}
