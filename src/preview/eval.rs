//! The mapping evaluated in Rust, for one user's document, by the same rules as the compiled SQL
//! (`03_forward.sql`): the same elements, legacy ids, duplicate and orphan policies, conversions,
//! defaults, `extra` and ids. Tests hold the two equal row by row.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use super::elements::{Element, elements};
use crate::cast;
use crate::ir::{DuplicateId, Entity, MissingId, NotADocument, ParentLink, Plan, UniqueWithin};
use crate::jsonpath::FieldPath;

/// One row that would be written: its table and the row as `to_jsonb` of it would read (without
/// `created_at` and `updated_at`, which the database sets).
#[derive(Debug, Clone)]
pub struct Row {
    pub table: String,
    pub entity: String,
    pub values: Map<String, Value>,
}

/// Would this finding stop the batch holding the user?
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The batch would fail and roll back.
    Abort,
    /// Handled by a policy (or kept in `extra`), but worth knowing.
    Note,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    /// Stable name: not_a_document, id_too_long, cast, missing_required, missing_id, not_an_object,
    /// not_an_array, duplicate_id, orphan, unmapped_key, duplicate_user.
    pub kind: &'static str,
    pub entity: String,
    pub user_id: String,
    pub legacy_id: Option<String>,
    pub path: String,
    pub value: Option<Value>,
    pub message: String,
}

pub(super) fn at<'a>(v: &'a Value, path: &FieldPath) -> Option<&'a Value> {
    path.keys()
        .iter()
        .try_fold(v, |cur, k| cur.as_object()?.get(k))
}

/// The text of a legacy id or reference: a non-empty string or a number, as `#>>` gives it.
pub(crate) fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        n @ Value::Number(_) => cast::scalar_text(n),
        _ => None,
    }
}

/// The JSON type as `jsonb_typeof` names it (SQL NULL reaches the evaluator as JSON null).
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn position(ords: &[usize]) -> String {
    format!(
        "#{}",
        ords.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".")
    )
}

pub(super) struct Ctx<'a> {
    pub(super) user: &'a str,
    findings: &'a mut Vec<Finding>,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn find(
        &mut self,
        severity: Severity,
        kind: &'static str,
        entity: &str,
        legacy_id: Option<&str>,
        path: &str,
        value: Option<&Value>,
        message: String,
    ) {
        self.findings.push(Finding {
            severity,
            kind,
            entity: entity.to_string(),
            user_id: self.user.to_string(),
            legacy_id: legacy_id.map(str::to_string),
            path: path.to_string(),
            value: value.cloned(),
            message,
        });
    }
}

/// What is left of an element once consumed paths are removed; emptied objects are pruned.
pub(super) fn residual(elem: &Map<String, Value>, consumed: &[FieldPath]) -> Map<String, Value> {
    let mut out = elem.clone();
    for p in consumed {
        remove_path(&mut out, p.keys());
    }
    out
}

/// Removes `keys` from `obj`, and objects the removal leaves empty (the SQL's `#-` and prune).
pub fn remove_path(obj: &mut Map<String, Value>, keys: &[String]) {
    match keys {
        [] => {}
        [last] => {
            obj.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = obj.get_mut(first) {
                remove_path(inner, rest);
                if inner.is_empty() {
                    obj.remove(first);
                }
            }
        }
    }
}

/// Sets `keys` to `v`, creating objects on the way (the SQL's assemble).
pub fn set_path(obj: &mut Map<String, Value>, keys: &[String], v: Value) {
    match keys {
        [] => {}
        [last] => {
            obj.insert(last.clone(), v);
        }
        [first, rest @ ..] => {
            let entry = obj
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, v);
            }
        }
    }
}

/// Dotted paths of the leaves (or whole non-object values) in a residual, for the lint report.
pub(super) fn leaf_paths(obj: &Map<String, Value>, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in obj {
        let k = crate::jsonpath::shown_key(k);
        let p = if prefix.is_empty() {
            k.into_owned()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if !inner.is_empty() => leaf_paths(inner, &p, out),
            _ => out.push(p),
        }
    }
}

/// Rows and findings for one user's document.
pub fn evaluate(plan: &Plan, user: &str, doc: &Value, findings: &mut Vec<Finding>) -> Vec<Row> {
    let mut cx = Ctx { user, findings };
    if !document_is_usable(plan, user, doc, &mut cx) {
        return Vec::new();
    }
    unmapped_document_keys(plan, doc, &mut cx);
    let mut created: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut rows = Vec::new();
    for e in &plan.entities {
        let candidates = candidates(doc, e, &mut cx);
        report_duplicates(e, &candidates, &mut cx);
        if e.references.iter().any(|r| r.to_self) {
            // A reference to the entity's own elements names any its statement writes.
            let own = will_be_written(e, &candidates, &created);
            created.insert(e.name.as_str(), own);
        }
        let mut kept: HashSet<String> = HashSet::new();
        for c in candidates {
            if !kept.insert(c.key.clone()) {
                continue; // keep_first keeps the earliest; error was reported above
            }
            if let Some(row) = super::row::build(plan, e, &c, &created, &mut cx) {
                created.entry(e.name.as_str()).or_default().insert(c.key);
                rows.push(row);
            }
        }
    }
    rows
}

/// The keys of the rows an entity's statement writes: the first of each key, unless a parent
/// that is missing skips it (the SQL's `x`, as its self-references see it).
fn will_be_written(
    e: &Entity,
    candidates: &[Candidate],
    created: &HashMap<&str, HashSet<String>>,
) -> HashSet<String> {
    candidates
        .iter()
        .filter(|c| match &e.parent {
            Some(p) if p.on_missing == crate::ir::OnMissingParent::Skip => {
                c.parent_legacy.as_ref().is_some_and(|pl| {
                    created
                        .get(p.entity.as_str())
                        .is_some_and(|rows| rows.contains(pl))
                })
            }
            _ => true,
        })
        .map(|c| c.key.clone())
        .collect()
}

/// A user id too long for an index, or a document that is not an object, gives no rows.
fn document_is_usable(plan: &Plan, user: &str, doc: &Value, cx: &mut Ctx) -> bool {
    if user.len() > crate::ids::MAX_ID_BYTES {
        cx.find(
            Severity::Abort,
            "id_too_long",
            "(document)",
            None,
            "user id",
            None,
            format!(
                "the user id is {} bytes long; at most {} fit in an index: apply leaves the user out and verify lists it",
                user.len(),
                crate::ids::MAX_ID_BYTES
            ),
        );
        return false;
    }
    if doc.is_object() {
        return true;
    }
    let (severity, outcome) = match plan.source.not_a_document {
        NotADocument::Error => (
            Severity::Abort,
            "the batch fails (source.not_a_document: error)",
        ),
        NotADocument::Skip => (
            Severity::Note,
            "migrated with no rows (source.not_a_document: skip)",
        ),
    };
    cx.find(
        severity,
        "not_a_document",
        "(document)",
        None,
        "$",
        Some(doc),
        format!(
            "the document is {}, not a JSON object: {outcome}",
            json_type(doc)
        ),
    );
    false
}

/// Document keys outside every entity's array are not migrated at all (unless a root entity
/// reads the root, which reports its own keys).
fn unmapped_document_keys(plan: &Plan, doc: &Value, cx: &mut Ctx) {
    let Value::Object(top) = doc else { return };
    if plan.entities.iter().any(Entity::is_root) {
        return;
    }
    let mut rest = top.clone();
    for e in plan.entities.iter().filter(|e| !e.path.is_nested()) {
        remove_path(&mut rest, e.path.levels()[0].keys());
    }
    let mut paths = Vec::new();
    leaf_paths(&rest, "", &mut paths);
    for p in paths {
        cx.find(
            Severity::Note,
            "unmapped_document_key",
            "",
            None,
            &p,
            None,
            "no entity reads it: it is not migrated (verify --roundtrip reports it)".into(),
        );
    }
}

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
fn candidates<'a>(doc: &'a Value, e: &Entity, cx: &mut Ctx) -> Vec<Candidate<'a>> {
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
            "not_an_object",
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
    let legacy_at = |depth: usize, field: &FieldPath, policy: MissingId| -> Option<String> {
        let (value, key) = el.ancestors.get(depth)?;
        match key {
            Some(k) => Some(k.to_string()),
            None => id_text(at(value, field))
                .or_else(|| (policy == MissingId::Position).then(|| position(&el.ords[..=depth]))),
        }
    };
    let own = legacy_at(level - 1, &p.parent_legacy_id, p.parent_on_missing_id)?;
    match &p.parent_scope {
        None => Some(own),
        Some(g) => {
            let outer = legacy_at(level - 2, &g.legacy_id, g.on_missing_id)?;
            Some(crate::ids::scoped_key(&outer, &own))
        }
    }
}

/// The element's legacy id (its position under `on_missing_id: position`); `None` when it has
/// none, which stops the batch.
fn legacy_id(e: &Entity, el: &Element, pos: &str, cx: &mut Ctx) -> Option<String> {
    let own = match el.key {
        Some(k) => Some(k.to_string()),
        // The root and scalar elements have no id of their own: their position is it.
        None if e.is_root() || e.scalar || e.single => None,
        None => id_text(at(el.value, &e.legacy_id)),
    };
    let legacy = match (own, e.on_missing_id) {
        (Some(id), _) => id,
        (None, MissingId::Position) => pos.to_string(),
        (None, MissingId::Error) => {
            cx.find(
                Severity::Abort,
                "missing_id",
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
            "id_too_long",
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
fn report_duplicates(e: &Entity, candidates: &[Candidate], cx: &mut Ctx) {
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
            "duplicate_id",
            &e.name,
            Some(&c.legacy),
            &e.legacy_id.to_string(),
            None,
            format!("legacy id appears {n} times{within}; {what}"),
        );
    }
}
