//! Resolution of a checked spec into the plan IR: entities in foreign-key order, parent links,
//! indexes. Every check has passed by now, so nothing here can fail.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::draft::Draft;
use crate::ident::derived_name;
use crate::ir::{
    Batch, ChildArray, DuplicateId, Entity, Index, Layout, MissingId, NotADocument,
    OnMissingParent, OtherShapes, ParentLink, ParentScope, Plan, Reference, Shape, Source,
    UniqueWithin,
};
use crate::jsonpath::ArrayPath;
use crate::spec::PlanSpec;

pub(super) fn resolve(
    p: &PlanSpec,
    namespace: Uuid,
    drafts: Vec<Draft>,
    parent_of: &[Option<usize>],
    depends_on: &[BTreeSet<usize>],
) -> Plan {
    let child_arrays = child_arrays(&drafts, parent_of);
    let mut entities: Vec<Entity> = fk_order(depends_on)
        .into_iter()
        .map(|i| entity(&drafts, i, parent_of, &child_arrays[i]))
        .collect();
    let layout = layout(&p.target.layout);
    if layout.keyed_by_user() {
        for e in &mut entities {
            lead_link_indexes_with_user(e);
        }
    }
    Plan {
        name: p.plan.clone(),
        description: p.description.clone(),
        source: Source {
            schema: p.source.schema.clone(),
            table: p.source.table.clone(),
            key_column: p.source.key_column.clone(),
            key_type: p.source.key_type.clone().unwrap_or_else(|| "text".into()),
            not_a_document: p.source.not_a_document.unwrap_or(NotADocument::Error),
            document_column: p.source.document_column.clone(),
            order_column: p.source.order_column.clone(),
        },
        target_schema: p.target.schema.clone(),
        audit_schema: p.target.audit_schema.clone(),
        namespace,
        batch: Batch {
            size: p.batch.size,
            lock_timeout: p.batch.lock_timeout.clone(),
            statement_timeout: p.batch.statement_timeout.clone(),
        },
        owner_expression: p.security.owner_expression.trim().to_string(),
        row_level_security: p.security.row_level_security,
        layout,
        entities,
    }
}

fn layout(l: &crate::spec::LayoutSpec) -> Layout {
    match (&l.partition_by, &l.distribute_by) {
        (Some(_), _) => Layout::Partitioned {
            partitions: l.partitions.unwrap_or(DEFAULT_PARTITIONS),
        },
        (None, Some(_)) => Layout::Distributed,
        (None, None) => Layout::Plain,
    }
}

/// Hash partitions per table when `target.layout.partitions` is not given.
pub const DEFAULT_PARTITIONS: u32 = 16;

/// With keys by user, a link's index leads with user_id, as the foreign key it serves does.
fn lead_link_indexes_with_user(e: &mut Entity) {
    let links: Vec<&String> = e
        .parent
        .iter()
        .map(|p| &p.column)
        .chain(e.references.iter().map(|r| &r.column))
        .chain(e.recursive.iter().map(|r| &r.column))
        .collect();
    for i in &mut e.indexes {
        if let [only] = i.columns.as_slice()
            && links.contains(&only)
        {
            i.columns.insert(0, "user_id".into());
        }
    }
}

/// Entity indexes, parents and referenced entities first (Kahn's algorithm, taking ready
/// entities in the plan's order so the output is stable).
fn fk_order(depends_on: &[BTreeSet<usize>]) -> Vec<usize> {
    let n = depends_on.len();
    let mut order = Vec::new();
    let mut placed = vec![false; n];
    while order.len() < n {
        let next = (0..n).find(|&i| !placed[i] && depends_on[i].iter().all(|&j| placed[j]));
        let Some(i) = next else { break };
        placed[i] = true;
        order.push(i);
    }
    order
}

/// Per entity, the keys of the arrays nested in its elements that other entities read, sorted,
/// each once (entities of one array of many kinds share it, and its `other_shapes`: checked).
fn child_arrays(drafts: &[Draft], parent_of: &[Option<usize>]) -> Vec<Vec<ChildArray>> {
    let mut out: Vec<Vec<ChildArray>> = vec![Vec::new(); drafts.len()];
    let child = |d: &Draft, key: &str| ChildArray {
        key: key.to_string(),
        keeps_other_than: (other_shapes(d) == OtherShapes::Keep).then(|| shape(d)),
    };
    // The document root carries the keys of the top-level entity arrays (one key each: checked).
    let root = drafts
        .iter()
        .position(|d| d.path.as_ref().is_some_and(ArrayPath::is_root));
    for (i, d) in drafts.iter().enumerate() {
        if let (Some(r), Some(path)) = (root, &d.path)
            && r != i
            && !path.is_nested()
        {
            out[r].push(child(d, path.levels()[0].head()));
        }
        if let (Some(j), Some(path)) = (parent_of[i], &d.path)
            && path.is_nested()
            && !path.reads_members()
            && let Some(last) = path.levels().last()
        {
            out[j].push(child(d, last.head()));
        }
    }
    // A recursive entity's children are its own elements, under their key.
    for (i, d) in drafts.iter().enumerate() {
        if let Some(r) = &d.recursion {
            out[i].push(ChildArray {
                key: r.key.head().to_string(),
                keeps_other_than: (other_shapes(d) == OtherShapes::Keep).then_some(Shape::Array),
            });
        }
    }
    for arrays in &mut out {
        arrays.sort_by(|a, b| a.key.cmp(&b.key));
        arrays.dedup_by(|a, b| a.key == b.key);
    }
    out
}

/// What an entity's path holds at its own level.
fn shape(d: &Draft) -> Shape {
    match (d.file.spec.source.keyed, d.file.spec.source.single) {
        (true, _) => Shape::Keyed,
        (_, true) => Shape::Single,
        _ => Shape::Array,
    }
}

fn other_shapes(d: &Draft) -> OtherShapes {
    d.file.spec.source.other_shapes.unwrap_or_default()
}

fn entity(
    drafts: &[Draft],
    i: usize,
    parent_of: &[Option<usize>],
    child_arrays: &[ChildArray],
) -> Entity {
    let d = &drafts[i];
    let m = &d.file.spec;
    let parent = m.parent.as_ref().map(|ps| {
        let pd = &drafts[parent_of[i].expect("resolved by the checks")];
        ParentLink {
            entity: ps.entity.clone(),
            table: pd.file.spec.table.clone(),
            field: d.parent_field.clone(),
            parent_legacy_id: pd.legacy_id.clone().expect("validated"),
            parent_on_missing_id: missing_id_policy(pd),
            column: ps.column.clone(),
            on_missing: ps.on_missing.unwrap_or(OnMissingParent::Error),
            id_type: pd.file.spec.source.id_type.unwrap_or_default(),
            parent_scope: parent_scope(drafts, parent_of[i].expect("resolved"), parent_of),
        }
    });
    Entity {
        references: references(drafts, i, parent_of),
        level_shapes: per_level(drafts, i, parent_of, shape),
        level_keeps: per_level(drafts, i, parent_of, |d| {
            other_shapes(d) == OtherShapes::Keep
        }),
        level_trees: {
            let mut trees = per_level(drafts, i, parent_of, |d| {
                d.recursion.as_ref().map(|r| r.key.head().to_string())
            });
            if let Some(own) = trees.last_mut() {
                *own = None;
            }
            trees
        },
        enclosing_routes: enclosing_routes(drafts, i, parent_of),
        name: m.entity.clone(),
        description: m.description.clone(),
        table: m.table.clone(),
        path: d.path.clone().expect("validated"),
        legacy_id: d.legacy_id.clone().expect("validated"),
        keyed: m.source.keyed,
        scalar: m.value.is_some(),
        distinct: m.source.distinct,
        single: m.source.single,
        on_missing_id: missing_id_policy(d),
        // A lookup keeps the first element of each id; the others are the same value again.
        on_duplicate_id: if m.source.distinct {
            DuplicateId::KeepFirst
        } else {
            m.source.on_duplicate_id.unwrap_or(DuplicateId::Error)
        },
        id_type: m.source.id_type.unwrap_or_default(),
        unique_within: m.source.unique_within.unwrap_or_default(),
        recursive: d.recursion.clone(),
        route: super::routes::resolve(drafts, i),
        indexes: indexes(d, parent.as_ref()),
        parent,
        columns: d.columns.clone(),
        extra: d.extra.clone().filter(|_| !m.source.distinct),
        // The root is not an array: nothing to order.
        position: d.position.clone().filter(|_| {
            !d.path.as_ref().is_some_and(ArrayPath::is_root)
                && !m.source.single
                && !m.source.distinct
        }),
        drop: d.drop.clone(),
        child_arrays: child_arrays.to_vec(),
        members_entity: (0..drafts.len())
            .find(|&j| {
                parent_of[j] == Some(i)
                    && drafts[j]
                        .path
                        .as_ref()
                        .is_some_and(ArrayPath::reads_members)
            })
            .map(|j| drafts[j].file.spec.entity.clone()),
    }
}

/// The entity's references, with the tables they point at.
fn references(drafts: &[Draft], i: usize, parent_of: &[Option<usize>]) -> Vec<Reference> {
    let d = &drafts[i];
    let all = d.file.spec.all_references();
    let groups: Vec<usize> = all.iter().map(|r| r.group).collect();
    all.into_iter()
        .zip(&d.references)
        .map(|(r, field)| {
            let target = drafts
                .iter()
                .find(|t| t.file.spec.entity == r.entity)
                .expect("checked");
            Reference {
                entity: r.entity.to_string(),
                table: target.file.spec.table.clone(),
                field: field.clone().expect("checked"),
                column: r.column.to_string(),
                on_missing: r.on_missing.unwrap_or(OnMissingParent::Error),
                to_self: r.entity == d.file.spec.entity,
                to_child: drafts
                    .iter()
                    .position(|t| t.file.spec.entity == r.entity)
                    .is_some_and(|j| super::references::nested_in(drafts, parent_of, j, i)),
                id_type: target.file.spec.source.id_type.unwrap_or_default(),
                group: (0..groups.len())
                    .filter(|&j| groups[j] == r.group)
                    .collect(),
            }
        })
        .collect()
}

/// The entity enclosing parent `p`, when `p`'s legacy ids are unique per parent.
fn parent_scope(drafts: &[Draft], p: usize, parent_of: &[Option<usize>]) -> Option<ParentScope> {
    let pd = &drafts[p];
    if pd.file.spec.source.unique_within != Some(UniqueWithin::Parent) {
        return None;
    }
    let g = &drafts[parent_of[p]?];
    Some(ParentScope {
        entity: g.file.spec.entity.clone(),
        legacy_id: g.legacy_id.clone().expect("validated"),
        on_missing_id: missing_id_policy(g),
    })
}

/// What stands in for a missing legacy id. The root, single objects and unkeyed scalars have no
/// id field: their row's legacy id is their position (`#1`, `#2.3`).
fn missing_id_policy(d: &Draft) -> MissingId {
    let m = &d.file.spec;
    if d.path.as_ref().is_some_and(ArrayPath::is_root)
        || (m.value.is_some() && !m.source.keyed)
        || m.source.single
    {
        MissingId::Position
    } else {
        m.source.on_missing_id.unwrap_or(MissingId::Error)
    }
}

/// What `of` says of each level of an entity's path: its own last, its enclosing entities'
/// before (their shapes, their `other_shapes`).
fn per_level<T>(
    drafts: &[Draft],
    i: usize,
    parent_of: &[Option<usize>],
    of: impl Fn(&Draft) -> T,
) -> Vec<T> {
    let mut out = vec![of(&drafts[i])];
    let mut j = keeper(drafts, i);
    while drafts[j].path.as_ref().is_some_and(ArrayPath::is_nested) {
        let Some(p) = parent_of[j] else { break };
        out.push(of(&drafts[p]));
        j = p;
    }
    out.reverse();
    out
}

/// The entity whose enclosing levels are this one's: itself, or for a lookup (no parent), the
/// entity that keeps the elements of its path.
fn keeper(drafts: &[Draft], i: usize) -> usize {
    if !drafts[i].file.spec.source.distinct {
        return i;
    }
    (0..drafts.len())
        .find(|&j| !drafts[j].file.spec.source.distinct && drafts[j].path == drafts[i].path)
        .unwrap_or(i)
}

/// For each level of a nested entity's path but its own, the kinds the entity enclosing it
/// takes (`None`: every element), outermost first: an entity nested in a routed one reads the
/// elements of that entity's kinds only.
fn enclosing_routes(
    drafts: &[Draft],
    i: usize,
    parent_of: &[Option<usize>],
) -> Vec<Option<crate::ir::Route>> {
    let mut routes = Vec::new();
    let mut j = keeper(drafts, i);
    while drafts[j].path.as_ref().is_some_and(ArrayPath::is_nested) {
        let Some(p) = parent_of[j] else { break };
        routes.push(super::routes::resolve(drafts, p));
        j = p;
    }
    routes.reverse();
    routes
}

/// The index on the parent link, then the mapping's own (one per column list).
fn indexes(d: &Draft, parent: Option<&ParentLink>) -> Vec<Index> {
    let m = &d.file.spec;
    let mut indexes: Vec<Index> = Vec::new();
    // Foreign-key columns are indexed, so deleting a referenced row (rollback) finds its
    // referrers without scanning.
    let links = parent
        .map(|pl| &pl.column)
        .into_iter()
        .map(String::as_str)
        .chain(m.all_references().into_iter().map(|r| r.column))
        .chain(d.recursion.as_ref().map(|r| r.column.as_str()));
    for column in links {
        indexes.push(Index {
            name: derived_name(&[&m.table, column], "idx"),
            columns: vec![column.to_string()],
            unique: false,
        });
    }
    for idx in &m.indexes {
        let cols: Vec<&str> = idx.columns.iter().map(String::as_str).collect();
        let name = derived_name(
            &[&[m.table.as_str()][..], &cols].concat(),
            if idx.unique { "key" } else { "idx" },
        );
        if !indexes.iter().any(|x| x.columns == idx.columns) {
            indexes.push(Index {
                name,
                columns: idx.columns.clone(),
                unique: idx.unique,
            });
        }
    }
    indexes
}
