//! From what the documents hold ([`Node`]) to the entities of a plan: which places are tables, by
//! which legacy id, under which parent, with which columns of which types. Every decision keeps
//! its evidence, which the written mappings show as comments.

use std::collections::BTreeSet;

use crate::ir::SqlType;
use crate::jsonpath::FieldPath;

use super::kinds::{Route, Split, kinds_note, plural, split_by_kind};
use super::names::{shown_path, singular, snake, unique_name};
use super::profile::Node;
pub use super::types::Column;
use super::types::{jsonb, scalar_column};

/// One drafted entity mapping.
#[derive(Debug, Clone)]
pub struct Entity {
    pub name: String,
    /// Where its elements are: one key path per level (`[["personas"], ["contents"]]`);
    /// `[[]]` is the document root.
    pub levels: Vec<Vec<String>>,
    pub shape: Shape,
    pub id: Id,
    /// The entity whose elements hold this one's (a nested path).
    pub enclosing: Option<usize>,
    pub parent: Option<Link>,
    pub references: Vec<Link>,
    pub columns: Vec<Column>,
    /// For arrays of scalars: the value column.
    pub value: Option<Column>,
    /// For arrays of scalars naming another entity's elements.
    pub link: Option<Link>,
    pub recursive: Option<(String, String)>,
    /// Elements seen, and in how many documents.
    pub elements: u64,
    pub docs: u64,
    /// Keys seen in few elements, kept in extra: (path, times seen).
    pub rare: Vec<(String, u64)>,
    pub notes: Vec<String>,
    /// Every key the elements have.
    pub keys: BTreeSet<String>,
    /// For an array of several kinds: which this entity takes.
    pub route: Option<Route>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Root,
    Array,
    Keyed,
    Single,
    Scalars { keyed: bool },
}

#[derive(Debug, Clone)]
pub enum Id {
    /// A field of every element, unique per user (or per parent when `per_parent`).
    Field {
        field: String,
        number: bool,
        per_parent: bool,
        /// Documents where a value repeats (an inconsistency: `on_duplicate_id: error`).
        repeated: u64,
        evidence: String,
    },
    /// The element's place in its array; `field` is a key no element has.
    Position {
        per_parent: bool,
        why: String,
        field: String,
    },
    /// The member's key (objects keyed by id), unique per user or per parent.
    Key { per_parent: bool },
    /// None (the root, single objects, lists of scalars), or not decided yet.
    Implied,
}

/// A parent, reference or link to another entity, from a field of the elements.
#[derive(Debug, Clone)]
pub struct Link {
    pub entity: usize,
    pub field: Option<String>,
    pub column: String,
    pub on_missing: &'static str,
    pub evidence: String,
    /// Values of the field seen.
    pub values: u64,
}

/// Names pgshred gives every table, which a mapped column may not take.
const RESERVED: [&str; 8] = [
    "id",
    "user_id",
    "legacy_id",
    "created_at",
    "updated_at",
    "extra",
    "position",
    "depth",
];

/// Keys seen in fewer than this share of elements are left to extra and listed.
const RARE: f64 = 0.05;

/// The entities of the documents profiled in `root` (a node of whole documents).
pub fn entities(root: &Node) -> Vec<Entity> {
    let mut out = Vec::new();
    let mut taken = BTreeSet::new();
    let root_entity = Entity {
        name: unique_name("document", None, &mut taken),
        levels: vec![vec![]],
        shape: Shape::Root,
        id: Id::Implied,
        enclosing: None,
        parent: None,
        references: Vec::new(),
        columns: Vec::new(),
        value: None,
        link: None,
        recursive: None,
        elements: root.objects,
        docs: root.objects,
        rare: Vec::new(),
        notes: Vec::new(),
        keys: root.fields.keys().cloned().collect(),
        route: None,
    };
    out.push(root_entity);
    let mut b = Builder {
        out: &mut out,
        taken: &mut taken,
    };
    b.element(root, 0, &[], 0);
    // The root stays when it maps something of its own, or keeps what no entity can: an empty
    // or null list or object at the top level, which only the root's row remembers.
    let remembers = root
        .fields
        .values()
        .any(|f| (f.arrays > 0 || f.objects > 0) && (f.empty > 0 || f.nulls > 0));
    if out[0].columns.is_empty() && out[0].rare.is_empty() && !remembers {
        out.remove(0);
        for e in &mut out {
            e.enclosing = e.enclosing.and_then(|i| i.checked_sub(1));
        }
    }
    out
}

struct Builder<'a> {
    out: &'a mut Vec<Entity>,
    taken: &'a mut BTreeSet<String>,
}

impl Builder<'_> {
    /// The fields of the elements at `node` (objects), owned by entity `owner`, under `prefix`
    /// within each element (a flattened object).
    fn element(&mut self, node: &Node, owner: usize, prefix: &[String], depth: usize) {
        let objects = node.objects.max(1);
        for (key, f) in &node.fields {
            if node.recursive.as_deref() == Some(key.as_str()) {
                continue;
            }
            let mut keys = prefix.to_vec();
            keys.push(key.clone());
            let present = f.seen - f.nulls;
            let entities = (f.arrays > 0 && f.items.as_deref().is_some_and(|i| i.objects > 0))
                || f.keyed
                || holds_entities(f);
            if f.seen > 0 && (f.seen as f64) < RARE * objects as f64 && !entities {
                self.out[owner].rare.push((shown_path(&keys), f.seen));
                continue;
            }
            if present > 0 && f.arrays == present {
                self.array(f, owner, &keys);
            } else if present > 0 && f.objects == present && f.keyed {
                self.keyed(f, owner, &keys);
            } else if present > 0 && f.objects == present {
                let top = self.out[owner].shape == Shape::Root && prefix.is_empty();
                if top || holds_entities(f) {
                    self.single(f, owner, &keys);
                } else if depth < 3 {
                    self.element(f, owner, &keys, depth + 1);
                } else {
                    self.column(f, owner, &keys, node.objects);
                }
            } else if f.objects + f.arrays == 0 {
                self.column(f, owner, &keys, node.objects);
            } else {
                let c = jsonb(&keys, f, "holds values of several shapes");
                self.push_column(owner, c);
            }
        }
    }

    fn array(&mut self, f: &Node, owner: usize, keys: &[String]) {
        let Some(items) = f.items.as_deref() else {
            let c = jsonb(keys, f, "an array, empty wherever seen");
            return self.push_column(owner, c);
        };
        let filled = items.seen - items.nulls;
        if items.objects > 0 && items.objects == items.seen {
            if let Some(split) = split_by_kind(items) {
                return self.kinds(owner, keys, f, split);
            }
            let e = self.entity(owner, keys, Shape::Array, items, f);
            self.element(items, e, &[], 0);
        } else if items.objects + items.arrays == 0 && items.strings == items.seen && filled > 0 {
            // A list of strings: a text[] column, unless its strings name another entity's
            // elements (a link table; decided by the second reading).
            let mut c = jsonb(keys, f, "");
            c.ty = SqlType::TextArray;
            c.note = format!("a list of strings in {} of {} elements", f.arrays, f.seen);
            self.push_column(owner, c);
        } else if items.objects + items.arrays == 0 && filled > 0 {
            let e = self.entity(owner, keys, Shape::Scalars { keyed: false }, items, f);
            self.out[e].value = Some(scalar_column(
                &singular(&snake(keys.last().unwrap())),
                &[],
                items,
            ));
        } else {
            let c = jsonb(keys, f, "an array of mixed elements");
            self.push_column(owner, c);
        }
    }

    fn keyed(&mut self, f: &Node, owner: usize, keys: &[String]) {
        let Some(items) = f.items.as_deref() else {
            return self.push_column(owner, jsonb(keys, f, "an empty object"));
        };
        let filled = items.seen - items.nulls;
        if items.objects > 0 && items.objects == filled && items.nulls == 0 {
            let e = self.entity(owner, keys, Shape::Keyed, items, f);
            self.element(items, e, &[], 0);
        } else if items.objects + items.arrays == 0 && filled > 0 {
            let e = self.entity(owner, keys, Shape::Scalars { keyed: true }, items, f);
            self.out[e].value = Some(scalar_column("value", &[], items));
        } else {
            self.push_column(
                owner,
                jsonb(
                    keys,
                    f,
                    "an object keyed by id with members of several shapes",
                ),
            );
        }
    }

    fn single(&mut self, f: &Node, owner: usize, keys: &[String]) {
        let e = self.entity(owner, keys, Shape::Single, f, f);
        self.element(f, e, &[], 0);
    }

    /// A column for the scalars at `f`, of the `objects` elements (or objects) holding them.
    fn column(&mut self, f: &Node, owner: usize, keys: &[String], objects: u64) {
        let name = snake(keys.last().unwrap());
        let mut c = scalar_column(&name, keys, f);
        if f.seen >= objects && f.nulls == 0 {
            c.note.push_str(
                "; never missing nor null here: `required: true` if the app guarantees it",
            );
        } else if f.seen < objects {
            c.note
                .push_str(&format!("; missing in {} of {objects}", objects - f.seen));
        }
        self.push_column(owner, c);
    }

    fn push_column(&mut self, owner: usize, mut c: Column) {
        let e = &mut self.out[owner];
        let taken: BTreeSet<&str> =
            e.columns
                .iter()
                .flat_map(|c| {
                    let parsed = c.parsed.iter().flat_map(|p| {
                        std::iter::once(p.name.as_str()).chain(p.precision.as_deref())
                    });
                    std::iter::once(c.name.as_str()).chain(parsed)
                })
                .collect();
        let mut name = c.name.clone();
        if RESERVED.contains(&name.as_str()) {
            name = format!("source_{name}");
        }
        if taken.contains(name.as_str()) || name.is_empty() {
            name = snake(&c.path.join("_"));
        }
        let mut n = 2;
        let base = name.clone();
        while taken.contains(name.as_str()) || RESERVED.contains(&name.as_str()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        c.name = name;
        e.columns.push(c);
    }

    /// A new entity at `keys` within the elements of `owner`, reading the elements of `items`
    /// (the array `holder` holds them).
    /// An array of several kinds: an entity per kind with keys of its own, and one taking every
    /// other kind (and any kind seen later).
    fn kinds(&mut self, owner: usize, keys: &[String], holder: &Node, split: Split) {
        let Split { field, kinds, rest } = split;
        let base = snake(keys.last().unwrap());
        let e = self.entity_named(owner, keys, Shape::Array, &rest, holder, &base);
        let taken: Vec<String> = kinds.iter().map(|(k, _)| k.clone()).collect();
        let shown: Vec<String> = taken.iter().map(|k| format!("{k:?}")).collect();
        self.out[e].notes = vec![format!(
            "`{field}` splits the elements into kinds: {} go to tables of their own, every \
             other kind (and one seen later) comes here",
            shown.join(", ")
        )];
        self.out[e].route = Some(Route {
            field: field.clone(),
            kinds: taken,
            others: true,
        });
        self.element(&rest, e, &[], 0);
        for (kind, node) in kinds {
            let name = plural(&snake(&kind));
            let k = self.entity_named(owner, keys, Shape::Array, &node, holder, &name);
            self.out[k].notes = vec![format!(
                "the elements of `{}` whose `{field}` is {kind:?}: {} of them",
                FieldPath(keys.to_vec()),
                node.objects
            )];
            self.out[k].route = Some(Route {
                field: field.clone(),
                kinds: vec![kind],
                others: false,
            });
            self.element(&node, k, &[], 0);
        }
    }

    fn entity(
        &mut self,
        owner: usize,
        keys: &[String],
        shape: Shape,
        items: &Node,
        holder: &Node,
    ) -> usize {
        let base = snake(keys.last().unwrap());
        self.entity_named(owner, keys, shape, items, holder, &base)
    }

    fn entity_named(
        &mut self,
        owner: usize,
        keys: &[String],
        shape: Shape,
        items: &Node,
        holder: &Node,
        base: &str,
    ) -> usize {
        let o = &self.out[owner];
        let mut levels = o.levels.clone();
        if o.shape == Shape::Root {
            levels = vec![keys.to_vec()];
        } else {
            levels.push(keys.to_vec());
        }
        let nested = o.shape != Shape::Root;
        let name = unique_name(base, nested.then_some(o.name.as_str()), self.taken);
        let recursive = items
            .recursive
            .as_ref()
            .map(|k| (k.clone(), format!("parent_{}_id", singular(&name))));
        let notes = kinds_note(items).into_iter().collect();
        self.out.push(Entity {
            name,
            levels,
            shape,
            id: Id::Implied,
            enclosing: nested.then_some(owner),
            parent: None,
            references: Vec::new(),
            columns: Vec::new(),
            value: None,
            link: None,
            recursive,
            elements: items.seen,
            docs: holder.docs,
            rare: Vec::new(),
            notes,
            keys: items.fields.keys().cloned().collect(),
            route: None,
        });
        self.out.len() - 1
    }
}

/// Whether entities hang below `node`: arrays of objects or scalars, objects keyed by id.
fn holds_entities(node: &Node) -> bool {
    node.fields.values().any(|f| {
        let present = f.seen - f.nulls;
        (present > 0 && f.arrays == present && f.items.as_deref().is_some_and(|i| i.objects > 0))
            || (f.keyed && f.objects > 0)
            || (present > 0 && f.objects == present && holds_entities(f))
    })
}
