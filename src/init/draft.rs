//! From what the documents hold ([`Node`]) to the entities of a plan: which places are tables, by
//! which legacy id, under which parent, with which columns of which types. Every decision keeps
//! its evidence, which the written mappings show as comments.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::SqlType;
use crate::jsonpath::FieldPath;

use super::profile::{CANDIDATES, Node};

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

/// The kinds of elements an entity takes: those named, or (`others`) every kind but those.
#[derive(Debug, Clone)]
pub struct Route {
    pub field: String,
    pub kinds: Vec<String>,
    pub others: bool,
}

impl Route {
    /// Whether an element whose kind field holds `kind` (None: absent or not a string) is taken.
    pub fn takes(&self, kind: Option<&str>) -> bool {
        let named = kind.is_some_and(|k| self.kinds.iter().any(|n| n == k));
        named != self.others
    }
}

/// The kinds of an array to split, each with its elements, and the elements of the others.
struct Split {
    field: String,
    kinds: Vec<(String, Node)>,
    rest: Node,
}

/// The kinds of `items` with keys of their own: a key in at least half of the kind's elements
/// and in under a tenth of the others'. None for trees, or when no kind has such a key.
fn split_by_kind(items: &Node) -> Option<Split> {
    let kinds = items.kinds.as_deref()?;
    if kinds.overflow
        || items.recursive.is_some()
        || kinds.by.keys().filter(|k| !k.is_empty()).count() < 2
    {
        return None;
    }
    let all: u64 = kinds.by.values().map(|n| n.objects).sum();
    // Keys and the keys of objects one level down (`data.text`), with how often each is seen.
    let leaves = |node: &Node| -> BTreeMap<Vec<String>, u64> {
        let mut out = BTreeMap::new();
        for (k, f) in &node.fields {
            out.insert(vec![k.clone()], f.seen);
            for (k2, f2) in &f.fields {
                out.insert(vec![k.clone(), k2.clone()], f2.seen);
            }
        }
        out
    };
    let own = |kind: &str, node: &Node| {
        let others = all - node.objects;
        leaves(node).into_iter().any(|(path, seen)| {
            let elsewhere: u64 = kinds
                .by
                .iter()
                .filter(|(k, _)| k.as_str() != kind)
                .filter_map(|(_, n)| leaves(n).get(&path).copied())
                .sum();
            path != [kinds.field.clone()]
                && seen * 2 >= node.objects
                && elsewhere * 10 < others.max(1)
        })
    };
    let mut split = Vec::new();
    let mut rest = Node::default();
    for (kind, node) in &kinds.by {
        if !kind.is_empty() && own(kind, node) {
            split.push((kind.clone(), node.clone()));
        } else {
            rest.absorb(node.clone());
        }
    }
    // Two entities cannot read one nested array: a key holding entities in the elements of two
    // groups keeps the array whole.
    let mut holders = BTreeSet::new();
    for node in split.iter().map(|(_, n)| n).chain([&rest]) {
        for (k, f) in &node.fields {
            let entities =
                f.keyed || (f.arrays > 0 && f.items.as_deref().is_some_and(|i| i.strings < i.seen));
            if entities && !holders.insert(k.clone()) {
                return None;
            }
        }
    }
    (!split.is_empty()).then(|| Split {
        field: kinds.field.clone(),
        kinds: split,
        rest,
    })
}

/// `comment_card` -> `comment_cards`, `entry` -> `entries`.
fn plural(name: &str) -> String {
    if name.ends_with('s') {
        name.to_string()
    } else if let Some(s) = name.strip_suffix('y') {
        format!("{s}ies")
    } else {
        format!("{name}s")
    }
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

/// A mapped column.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub path: Vec<String>,
    pub ty: SqlType,
    pub format: Option<&'static str>,
    pub keep_original: bool,
    pub note: String,
    /// For text naming days in declared formats: the companion date column, its formats and,
    /// where some are partial, the precision column.
    pub parsed: Option<Parsed>,
}

#[derive(Debug, Clone)]
pub struct Parsed {
    pub name: String,
    pub formats: Vec<&'static str>,
    pub precision: Option<String>,
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

/// A column for the scalars at `node`: the narrowest type holding every value seen.
fn scalar_column(name: &str, keys: &[String], node: &Node) -> Column {
    let (ty, format, keep_original, mut note) =
        scalar_type(node, keys.last().map(String::as_str).unwrap_or(name));
    let parsed = (ty == SqlType::Text)
        .then(|| parsed_dates(name, node, &mut note))
        .flatten();
    Column {
        name: name.to_string(),
        path: keys.to_vec(),
        ty,
        format,
        keep_original,
        note,
        parsed,
    }
}

/// A date companion for text written as days in declared formats: the day format that reads the
/// most values (day first where both orders read as many), ISO days, then months and years
/// alone, when together they read at least half of the strings.
fn parsed_dates(name: &str, node: &Node, note: &mut String) -> Option<Parsed> {
    use super::profile::DATE_FORMATS;
    let n = |f: &str| node.dates[DATE_FORMATS.iter().position(|d| *d == f).unwrap()];
    let days = ["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d"];
    let best = days
        .iter()
        .copied()
        .max_by_key(|f| (n(f), std::cmp::Reverse(*f)))?;
    let mut formats = Vec::new();
    let mut read = 0;
    if n(best) > 0 {
        formats.push(best);
        read += n(best);
        if best == "%d/%m/%Y" && n("%m/%d/%Y") == n(best) {
            note.push_str(
                "; every day read as %d/%m/%Y also reads as %m/%d/%Y: check which the app writes \
                 (format_by can choose by the document's locale)",
            );
        }
    }
    for f in ["%Y-%m-%d", "%Y-%m", "%Y"] {
        if n(f) > 0 {
            formats.push(f);
            read += n(f);
        }
    }
    // Four digits alone are a year only under a name that says time.
    let years_only = formats == ["%Y"] && !timeish(name);
    if formats.is_empty() || read * 2 < node.strings || node.strings == 0 || years_only {
        return None;
    }
    let partial = formats.iter().any(|f| !f.contains("%d"));
    let base = name.strip_suffix("_text").unwrap_or(name);
    note.push_str(&format!(
        "; {read} of {} strings read as dates ({}), parsed into {base}_on; the text stays",
        node.strings,
        formats.join(", ")
    ));
    Some(Parsed {
        name: format!("{base}_on"),
        formats,
        precision: partial.then(|| format!("{base}_precision")),
    })
}

fn jsonb(keys: &[String], node: &Node, why: &str) -> Column {
    Column {
        name: snake(keys.last().map(String::as_str).unwrap_or("value")),
        path: keys.to_vec(),
        ty: SqlType::Jsonb,
        format: None,
        keep_original: false,
        note: format!("{why}{}", seen_note(node)),
        parsed: None,
    }
}

fn index(ty: SqlType) -> usize {
    CANDIDATES
        .iter()
        .position(|t| *t == ty)
        .expect("a candidate type")
}

/// The type, format, keep_original and the comment saying why, for the scalars at `node`.
fn scalar_type(node: &Node, key: &str) -> (SqlType, Option<&'static str>, bool, String) {
    let present = node.seen - node.nulls;
    let seen = seen_note(node);
    if present == 0 {
        return (SqlType::Text, None, false, format!("only null seen{seen}"));
    }
    let timeish = timeish(key);
    if node.integers + node.digit_strings == present && timeish {
        // Given back as numbers: digits written as text need keep_original.
        let keep = node.strings > 0;
        let text = if keep {
            format!(", {} of them as text", node.strings)
        } else {
            String::new()
        };
        if node.epoch_s == present {
            return (
                SqlType::Timestamptz,
                Some("epoch_s"),
                keep,
                format!("Unix seconds{text}{seen}"),
            );
        }
        if node.epoch_ms == present {
            return (
                SqlType::Timestamptz,
                Some("epoch_ms"),
                keep,
                format!("Unix milliseconds{text}{seen}"),
            );
        }
    }
    let null_texts = node.values.contains("\"null\"") as u64;
    if node.json_strings > null_texts && node.json_strings == present {
        // Parsed into jsonb; kept as written too, since jsonb writes it back its own way.
        return (
            SqlType::Jsonb,
            Some("json"),
            true,
            format!("JSON written inside strings{seen}"),
        );
    }
    let order: &[SqlType] = if node.strings == 0 && node.bools == 0 {
        &[SqlType::Integer, SqlType::Bigint, SqlType::Numeric]
    } else if node.numbers == 0 && node.bools == 0 {
        &[SqlType::Uuid, SqlType::Date, SqlType::Timestamptz]
    } else if node.numbers == 0 {
        &[SqlType::Boolean]
    } else if node.bools == 0 {
        &[SqlType::Integer, SqlType::Bigint, SqlType::Numeric]
    } else {
        &[]
    };
    let mixed = [node.bools, node.numbers, node.strings]
        .iter()
        .filter(|n| **n > 0)
        .count()
        > 1;
    let mut refusals = Vec::new();
    for ty in order {
        let i = index(*ty);
        // A uuid column for uuids as they are written (an md5's 32 hex digits are no uuid).
        if *ty == SqlType::Uuid && node.hyphenated < node.strings {
            continue;
        }
        if node.refused[i] == 0 {
            let keep = node.inexact[i] > 0;
            let mut note = String::new();
            if !refusals.is_empty() {
                note.push_str(&refusals.join("; "));
                note.push_str("; ");
            }
            if keep {
                note.push_str(&format!(
                    "{} values written otherwise than {} gives them back: keep_original keeps them as written; ",
                    node.inexact[i],
                    type_name(*ty)
                ));
            }
            if mixed {
                note.push_str(&kinds_of(node));
                note.push_str("; ");
            }
            return (
                *ty,
                None,
                keep,
                format!("{}{seen}", note.trim_end_matches("; ")),
            );
        }
        // Worth saying only where a few values stand in the way.
        if node.refused[i] * 5 <= present {
            refusals.push(format!(
                "{} would refuse {} (e.g. {})",
                type_name(*ty),
                node.refused[i],
                node.refused_example[i].clone().unwrap_or_default()
            ));
        }
    }
    if mixed {
        return (
            SqlType::Jsonb,
            None,
            false,
            format!("{}{seen}", kinds_of(node)),
        );
    }
    // Text holds every scalar, but gives numbers and booleans back as strings.
    let keep = node.strings != present;
    let mut note = refusals.join("; ");
    if !note.is_empty() {
        note.push_str("; ");
    }
    (
        SqlType::Text,
        None,
        keep,
        format!("{}{seen}", note.trim_end_matches("; ")),
    )
}

/// Whether a key's name says it holds a time (`createdAt`, `due`, `lastSync`, `published_on`).
fn timeish(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "at",
        "time",
        "date",
        "ts",
        "created",
        "updated",
        "modified",
        "timestamp",
        "due",
        "on",
        "sync",
        "last",
        "seen",
    ]
    .iter()
    .any(|w| k.ends_with(w) || k.starts_with(w))
}

fn kinds_of(node: &Node) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (node.strings, "strings"),
        (node.numbers, "numbers"),
        (node.bools, "booleans"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

/// ": seen 40 times, 3 null; values: a, b" (small value sets only).
fn seen_note(node: &Node) -> String {
    let mut s = format!(" (seen {}", node.seen);
    if node.nulls > 0 {
        s.push_str(&format!(", {} null", node.nulls));
    }
    s.push(')');
    let short = node.values.iter().all(|v| v.chars().count() <= 24);
    if !node.more_values
        && short
        && !node.values.is_empty()
        && node.values.len() <= 6
        && node.seen >= 10
        && node.strings > 0
    {
        let vals: Vec<&str> = node.values.iter().map(String::as_str).collect();
        s.push_str(&format!("; values: {}", vals.join(", ")));
    }
    s
}

/// A field with a few values that splits the elements into kinds with keys of their own.
fn kinds_note(items: &Node) -> Option<String> {
    let (field, f) = items.fields.iter().find(|(k, f)| {
        let k = k.to_ascii_lowercase();
        (k == "type" || k == "kind" || k == "action")
            && f.strings == f.seen
            && !f.more_values
            && f.values.len() > 1
    })?;
    let vals: Vec<&str> = f.values.iter().map(String::as_str).collect();
    Some(format!(
        "`{field}` takes {} values ({}): elements of each kind may go to tables of their own \
         (source.where, docs/mappings.md \"One array of many kinds\")",
        vals.len(),
        vals.join(", ")
    ))
}

fn type_name(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Text => "text",
        SqlType::Integer => "integer",
        SqlType::Bigint => "bigint",
        SqlType::Numeric => "numeric",
        SqlType::Boolean => "boolean",
        SqlType::Timestamptz => "timestamptz",
        SqlType::Date => "date",
        SqlType::Jsonb => "jsonb",
        SqlType::Uuid => "uuid",
        SqlType::TextArray => "text[]",
    }
}

pub fn type_word(ty: SqlType) -> &'static str {
    type_name(ty)
}

/// `snake_case` of a key: `avatarUrl` -> `avatar_url`, `dark mode` -> `dark_mode`; a name that
/// would start with a digit gets `f_`.
pub fn snake(key: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let mut out = out.trim_matches('_').to_string();
    if out.is_empty() {
        out = "field".to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out = format!("f_{out}");
    }
    out.truncate(50);
    out
}

/// `people` stays, `entries` -> `entry`, `orgs` -> `org`.
pub fn singular(name: &str) -> String {
    if let Some(s) = name.strip_suffix("ies") {
        format!("{s}y")
    } else if let Some(s) = name.strip_suffix("ses") {
        format!("{s}s")
    } else if let Some(s) = name.strip_suffix('s').filter(|s| !s.ends_with('s')) {
        s.to_string()
    } else {
        name.to_string()
    }
}

fn unique_name(base: &str, owner: Option<&str>, taken: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    if taken.contains(&name)
        && let Some(o) = owner
    {
        name = format!("{}_{base}", singular(o));
    }
    let first = name.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{first}_{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

fn shown_path(keys: &[String]) -> String {
    crate::jsonpath::FieldPath(keys.to_vec()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The type drafted for the values of `key` in a list of elements.
    fn drafted(key: &str, values: Vec<Value>) -> (SqlType, Option<&'static str>, bool, String) {
        let mut root = Node::default();
        let items: Vec<Value> = values.into_iter().map(|v| json!({ key: v })).collect();
        root.observe_document(&json!({ "xs": items }));
        let node = &root.fields["xs"].items.as_ref().unwrap().fields[key];
        scalar_type(node, key)
    }

    #[test]
    fn each_column_gets_the_narrowest_type_holding_every_value() {
        let t = |key: &str, values: Vec<Value>| {
            let (ty, format, keep, _) = drafted(key, values);
            (type_name(ty), format, keep)
        };
        assert_eq!(t("n", vec![json!(1), json!(2)]), ("integer", None, false));
        assert_eq!(
            t("n", vec![json!(1), json!(5_000_000_000i64)]),
            ("bigint", None, false)
        );
        assert_eq!(t("n", vec![json!(1), json!(2.5)]), ("numeric", None, false));
        // Digits for a number: the column is typed, the text kept as written.
        assert_eq!(t("n", vec![json!(1), json!("2")]), ("integer", None, true));
        assert_eq!(
            t("ok", vec![json!(true), json!("yes")]),
            ("boolean", None, true)
        );
        assert_eq!(t("v", vec![json!(1), json!("a")]), ("jsonb", None, false));
        assert_eq!(
            t(
                "createdAt",
                vec![json!(1717171717171i64), json!("1717171717000")]
            ),
            ("timestamptz", Some("epoch_ms"), true)
        );
        assert_eq!(
            t("lastSync", vec![json!(1717171717)]),
            ("timestamptz", Some("epoch_s"), false)
        );
        // The same numbers under a name that says nothing of time stay numbers.
        assert_eq!(
            t("count", vec![json!(1717171717)]),
            ("integer", None, false)
        );
        assert_eq!(
            t("at", vec![json!("2024-05-01T12:00:00Z")]),
            ("timestamptz", None, true)
        );
        assert_eq!(t("day", vec![json!("2024-05-01")]), ("date", None, false));
        assert_eq!(
            t("u", vec![json!("0b7e2c1a-8f5e-4b7a-9a53-2d7f4e8c1a01")]),
            ("uuid", None, false)
        );
        assert_eq!(
            t("md5", vec![json!("2d7c50487ca07386cc099a1e77064c2c")]),
            ("text", None, false)
        );
        assert_eq!(
            t("config", vec![json!("{\"a\": 1}"), json!("null")]),
            ("jsonb", Some("json"), true)
        );
        assert_eq!(t("gone", vec![Value::Null]), ("text", None, false));
    }

    #[test]
    fn a_narrower_type_refusing_a_few_values_is_named_with_one_of_them() {
        let mut values: Vec<Value> = (0..9)
            .map(|i| json!(format!("2024-05-0{}", i + 1)))
            .collect();
        values.push(json!("soon"));
        let (ty, _, _, note) = drafted("due", values);
        assert_eq!(ty, SqlType::Text);
        assert!(
            note.contains("date would refuse 1 (e.g. \"soon\")"),
            "{note}"
        );
    }

    #[test]
    fn text_naming_days_in_declared_formats_gets_a_parsed_companion() {
        let parsed = |key: &str, values: Vec<Value>| {
            let mut root = Node::default();
            let items: Vec<Value> = values.into_iter().map(|v| json!({ key: v })).collect();
            root.observe_document(&json!({ "xs": items }));
            let node = &root.fields["xs"].items.as_ref().unwrap().fields[key];
            let c = scalar_column(&snake(key), &[key.to_string()], node);
            c.parsed.map(|p| (p.name, p.formats, p.precision))
        };
        let days = vec![
            json!("01/07/2024"),
            json!("15/07/2024"),
            json!("2024-05-01"),
            json!("soon"),
        ];
        assert_eq!(
            parsed("start", days),
            Some(("start_on".into(), vec!["%d/%m/%Y", "%Y-%m-%d"], None))
        );
        let partial = vec![json!("2019"), json!("2019-03"), json!("March 2019")];
        assert_eq!(
            parsed("date", partial),
            Some((
                "date_on".into(),
                vec!["%Y-%m", "%Y"],
                Some("date_precision".into())
            ))
        );
        // Fewer than half read, or four digits under a name that says nothing of time: none.
        assert_eq!(
            parsed("start", vec![json!("01/07/2024"), json!("a"), json!("b")]),
            None
        );
        assert_eq!(parsed("code", vec![json!("1234"), json!("2019")]), None);
    }

    #[test]
    fn a_field_with_few_values_splitting_elements_is_noted_as_kinds() {
        let mut root = Node::default();
        root.observe_document(&json!({"log": [{"type": "a", "x": 1}, {"type": "b", "y": 2}]}));
        let note = kinds_note(root.fields["log"].items.as_ref().unwrap()).unwrap();
        assert!(
            note.starts_with("`type` takes 2 values (\"a\", \"b\")"),
            "{note}"
        );
    }

    #[test]
    fn names_are_snake_case_and_singular() {
        assert_eq!(snake("avatarUrl"), "avatar_url");
        assert_eq!(snake("dark mode"), "dark_mode");
        assert_eq!(snake(":log/id"), "log_id");
        assert_eq!(snake("2fa"), "f_2fa");
        assert_eq!(singular("entries"), "entry");
        assert_eq!(singular("orgs"), "org");
        assert_eq!(singular("address"), "address");
    }
}
