//! The resolved plan: what codegen and the executor work from.
//!
//! Every name here is validated, every path parsed, every parent resolved, and `entities` is in
//! foreign-key order (parents before children). Nothing refers back to YAML.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::jsonpath::{ArrayPath, FieldPath};

mod column;
mod extra;
pub use column::{Column, Format, FormatBy, FormatChoice, SqlType};
pub use extra::{Kept, KeptWhen};

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub source: Source,
    pub target_schema: String,
    pub audit_schema: String,
    pub namespace: Uuid,
    pub batch: Batch,
    pub owner_expression: String,
    pub row_level_security: bool,
    pub layout: Layout,
    /// Parents before children; ties keep the order of the plan's `mappings` list.
    pub entities: Vec<Entity>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub schema: String,
    pub table: String,
    pub key_column: String,
    /// SQL type of `key_column` (`text`, `uuid`, `integer`, `bigint`).
    pub key_type: String,
    /// What a document that is not a JSON object does to its batch.
    pub not_a_document: NotADocument,
    pub document_column: String,
    pub order_column: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub size: u32,
    pub lock_timeout: String,
    pub statement_timeout: String,
}

/// A user's document that is not a JSON object (JSON null, a string, a number, an array, or SQL
/// NULL) has nothing to migrate; recording it as migrated with no rows would lose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotADocument {
    /// It stops its batch (or, with --max-bad-users, its user is set aside).
    Error,
    /// Its user is migrated with no rows, and every report says how many.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingId {
    Error,
    Position,
}

/// The JSON type an entity's legacy ids are written as. The `legacy_id` column is text either
/// way; the round trip gives each id back in this type, and `extra` keeps an id of the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    #[default]
    Text,
    Number,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateId {
    Error,
    KeepFirst,
}

/// A tree in one entity: each element's children, of the same entity, under `key`.
#[derive(Debug, Clone, Serialize)]
pub struct Recursion {
    #[serde(serialize_with = "display")]
    pub key: FieldPath,
    /// uuid column referencing the same table: the element's own parent in the tree.
    pub column: String,
    /// integer column: 1 for the elements at `path`, 2 for their children, and so on.
    pub depth_column: String,
    /// Deeper elements fail their batch, naming the element.
    pub max_depth: u32,
}

impl Plan {
    /// The entities reading `e`'s array: those routing its kinds (`where`) in FK order, or `e`
    /// alone.
    pub fn sharing_array<'p>(&'p self, e: &'p Entity) -> Vec<&'p Entity> {
        if e.route.is_none() {
            return vec![e];
        }
        self.entities
            .iter()
            .filter(|o| o.route.is_some() && o.path == e.path)
            .collect()
    }
}

impl Route {
    /// The kind an element names, as text (`#>>` of its field): a string, number or boolean.
    pub fn kind_of(&self, element: &Value) -> Option<String> {
        let k = self
            .field
            .keys()
            .iter()
            .try_fold(element, |cur, k| cur.get(k))?;
        match k {
            Value::String(s) => Some(s.clone()),
            Value::Number(_) | Value::Bool(_) => Some(k.to_string()),
            _ => None,
        }
    }

    /// Whether the entity takes `element`, as an entity nested in it sees it: its kinds, not the
    /// others', the rest only when it takes the rest (what it refuses, it reports itself).
    pub fn holds(&self, element: &Value) -> bool {
        let kind = self.kind_of(element);
        let named = |list: &[String]| kind.as_ref().is_some_and(|k| list.contains(k));
        if named(&self.values) {
            return true;
        }
        !named(&self.taken_by_others) && self.rest == Rest::Take
    }
}

/// What an entity of an array of many kinds does with elements no entity of the array names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Others {
    /// This entity takes them (a catch-all).
    Take,
    /// They are dropped on purpose (counted by preview and the round trip).
    Drop,
}

/// One entity's share of an array of many kinds.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// The field naming each element's kind (its text, as `#>>` gives it).
    #[serde(serialize_with = "display")]
    pub field: FieldPath,
    /// The kinds this entity takes.
    pub values: Vec<String>,
    /// The kinds the other entities of the array take.
    pub taken_by_others: Vec<String>,
    /// Elements of no named kind: taken here, left to the others, or (for the array's first
    /// entity when nothing takes or drops them) failing the batch.
    pub rest: Rest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rest {
    Take,
    Leave,
    /// Left out on purpose; this entity's preview counts them.
    Drop,
    Error,
}

/// What a value of another shape at an entity's path does (a list in one document, a string in
/// another): fail its batch, or stay whole in the enclosing element's `extra`, giving no rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherShapes {
    #[default]
    Error,
    Keep,
}

/// A key of an entity's elements that holds a nested entity's elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildArray {
    pub key: String,
    /// With `other_shapes: keep` on the nested entity, the shape it reads: a value of another
    /// shape under `key` stays in this element's `extra`.
    pub keeps_other_than: Option<Shape>,
}

/// What one level of an entity's path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// An array of elements.
    Array,
    /// An object keyed by legacy id: each member an element.
    Keyed,
    /// One object.
    Single,
}

impl Shape {
    /// The JSON type a value of this shape has (`jsonb_typeof`).
    pub fn json_type(self) -> &'static str {
        match self {
            Shape::Array => "array",
            Shape::Keyed | Shape::Single => "object",
        }
    }
}

/// How the target tables are laid out. Both layouts besides `Plain` key every table by
/// (user_id, id) and every foreign key by (user_id, column), as PostgreSQL's partitioning and
/// Citus's distribution require of keys on a table split by user_id; a user's rows then live in
/// one partition, or on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Layout {
    /// One table per entity, keyed by `id`.
    Plain,
    /// Each table `PARTITION BY HASH ("user_id")` into `partitions` tables.
    Partitioned { partitions: u32 },
    /// For Citus: `01b_distribute.sql` distributes each table by user_id, colocated.
    Distributed,
}

impl Layout {
    /// Whether keys lead with user_id.
    pub fn keyed_by_user(self) -> bool {
        self != Layout::Plain
    }
}

/// Where an entity's legacy ids are unique: among all of a user's elements (the default), or only
/// among the elements of one parent (two cards may each have a label `green`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UniqueWithin {
    #[default]
    User,
    Parent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMissingParent {
    Error,
    Null,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entity {
    pub name: String,
    pub description: Option<String>,
    pub table: String,
    #[serde(serialize_with = "display")]
    pub path: ArrayPath,
    #[serde(serialize_with = "display")]
    pub legacy_id: FieldPath,
    /// What each level of `path` holds, outermost first: the last is this entity's own shape,
    /// the others those of the entities it is nested in.
    pub level_shapes: Vec<Shape>,
    /// For each level of `path`, whether a value of another shape there stays in the enclosing
    /// element's `extra` (`other_shapes: keep` of the entity owning that level) instead of
    /// failing the batch.
    pub level_keeps: Vec<bool>,
    /// For each level of `path`, the children's key of the recursive entity owning it, when that
    /// is an enclosing entity: the level then reads every node of the tree, at any depth, each
    /// with its path of positions (`2.1.3`) as its place. `None` for the entity's own level.
    pub level_trees: Vec<Option<String>>,
    /// The path holds an object keyed by legacy id (its last level), not an array.
    pub keyed: bool,
    /// The path holds one object (its last level), not an array: one row per parent.
    pub single: bool,
    /// The elements are scalars, each kept whole in this one column (`columns` holds it too, with
    /// an empty path); no extra, no residual.
    pub scalar: bool,
    /// A lookup table (`source.distinct`): one row per user and distinct legacy id of the
    /// elements at `path` (a scalar's own text), the first element's values. It copies what
    /// another entity reading the same path keeps, so the reconstruction leaves it out; no
    /// parent, no position, no extra, elements without an id left out.
    pub distinct: bool,
    pub on_missing_id: MissingId,
    pub on_duplicate_id: DuplicateId,
    /// The JSON type of the legacy ids.
    pub id_type: IdType,
    /// `Parent`: the row id and the duplicate check take the parent's row id with the legacy id.
    pub unique_within: UniqueWithin,
    /// The elements nest in each other, one table for every depth.
    pub recursive: Option<Recursion>,
    /// The entity takes only some kinds of the elements of its path (others take the rest).
    pub route: Option<Route>,
    /// For each level of `path` but the last, the kinds the entity enclosing that level takes
    /// (`None`: all): a nested entity reads only the elements its enclosing entities take.
    pub enclosing_routes: Vec<Option<Route>>,
    pub parent: Option<ParentLink>,
    /// Foreign keys besides the parent, each from a field holding another entity's legacy id.
    pub references: Vec<Reference>,
    pub columns: Vec<Column>,
    /// jsonb column keeping unmapped keys; `None` means unmapped keys fail the batch.
    pub extra: Option<String>,
    /// Column keeping each element's position in its array (1-based); `None`: order is
    /// declared not to matter.
    pub position: Option<String>,
    #[serde(serialize_with = "display_all")]
    pub drop: Vec<FieldPath>,
    pub indexes: Vec<Index>,
    /// Keys of this entity's elements that hold nested child entities, sorted.
    pub child_arrays: Vec<ChildArray>,
    /// The entity whose elements are every member of this entity's elements (its path ends in
    /// `[*]`: maps of maps): nothing else of an element is this entity's.
    pub members_entity: Option<String>,
}

impl Entity {
    /// The document root (`path: $`): one row per user holding the root's own keys.
    pub fn is_root(&self) -> bool {
        self.path.is_root()
    }

    /// An object keyed by legacy id: each member an element, its key the legacy id.
    pub fn is_keyed(&self) -> bool {
        self.keyed
    }

    /// Its own `other_shapes: keep` (the last of `level_keeps`), which its tree's children
    /// follow too.
    pub fn keeps_other_shapes(&self) -> bool {
        self.level_keeps.last().copied().unwrap_or(false)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ParentLink {
    pub entity: String,
    pub table: String,
    /// Field holding the parent's legacy id; `None` for a nested entity, whose parent is the
    /// enclosing element.
    #[serde(serialize_with = "display_opt")]
    pub field: Option<FieldPath>,
    /// The parent's own legacy id field, needed to read it from the enclosing element.
    #[serde(serialize_with = "display")]
    pub parent_legacy_id: FieldPath,
    /// The parent's own policy for elements without an id, so a nested child derives the same
    /// parent legacy id the parent row got.
    pub parent_on_missing_id: MissingId,
    pub column: String,
    pub on_missing: OnMissingParent,
    /// The JSON type of the parent's legacy ids, which `field` holds.
    pub id_type: IdType,
    /// When the parent's legacy ids are unique per its own parent, that entity's id field: the
    /// parent's key (and so its row id) takes both.
    pub parent_scope: Option<ParentScope>,
}

/// A field holding the legacy id of an element of another entity (or of this one), anywhere in
/// the user's document: a uuid column referencing that entity's table. An absent or null field
/// is NULL; a value that names no row follows `on_missing`.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    pub entity: String,
    pub table: String,
    #[serde(serialize_with = "display")]
    pub field: FieldPath,
    pub column: String,
    pub on_missing: OnMissingParent,
    /// The entity refers to its own elements, which the same statement writes.
    pub to_self: bool,
    /// The target is nested in this entity's elements (a card's cover, one of its attachments):
    /// written after it, so the id is resolved against the document and the foreign key is
    /// checked at commit (DEFERRABLE INITIALLY DEFERRED).
    pub to_child: bool,
    /// The JSON type of the target's legacy ids, which `field` holds.
    pub id_type: IdType,
    /// The references reading `field` (indexes in the entity's references, in order, this one
    /// included): one, or the targets of a `one_of`, where a value names an element of the first
    /// that holds its id, and `on_missing` applies when none does.
    pub group: Vec<usize>,
}

impl Reference {
    /// The first reference of its field: the one that stands for the field where one would do.
    pub fn leads(&self, index: usize) -> bool {
        self.group.first() == Some(&index)
    }
}

/// The entity enclosing a parent whose legacy ids are unique per parent.
#[derive(Debug, Clone, Serialize)]
pub struct ParentScope {
    pub entity: String,
    #[serde(serialize_with = "display")]
    pub legacy_id: FieldPath,
    pub on_missing_id: MissingId,
}

#[derive(Debug, Clone, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

fn display<T: std::fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn display_opt<T: std::fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

fn display_all<T: std::fmt::Display, S: serde::Serializer>(
    v: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(ToString::to_string))
}
