//! The spec format as written by users: serde types that mirror the YAML of plans and mappings.
//!
//! Unknown keys are the schema's to reject (with a located message), so these types accept them
//! and validation can go on to report every other problem in the same run.
//!
//! These "raw" types never leave validation: [`crate::validate`] turns them into the resolved
//! [`crate::ir::Plan`] that codegen and the executor use.

mod depth;
pub mod load;
pub mod locate;
pub mod schema;

use serde::Deserialize;
use serde_json::Value;

// Policies are enums of the IR: the JSON Schema admits only their values, so they resolve as
// they are read.
use crate::ir::{DuplicateId, MissingId, NotADocument, OnMissingParent, UniqueWithin};

/// `plans/<name>.yaml`: one migration.
#[derive(Debug, Clone, Deserialize)]
pub struct PlanSpec {
    pub plan: String,
    #[serde(default)]
    pub description: Option<String>,
    pub source: SourceSpec,
    pub target: TargetSpec,
    pub ids: IdsSpec,
    #[serde(default)]
    pub batch: BatchSpec,
    #[serde(default)]
    pub security: SecuritySpec,
    /// Mapping files, relative to the plan file.
    pub mappings: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SourceSpec {
    #[serde(default = "default_public")]
    pub schema: String,
    pub table: String,
    pub key_column: String,
    /// SQL type of `key_column`: text (default), uuid, integer or bigint.
    #[serde(default)]
    pub key_type: Option<String>,
    /// A document that is not a JSON object (default: error).
    #[serde(default)]
    pub not_a_document: Option<NotADocument>,
    pub document_column: String,
    pub order_column: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TargetSpec {
    #[serde(default = "default_public")]
    pub schema: String,
    #[serde(default = "default_audit_schema")]
    pub audit_schema: String,
    /// How the tables are laid out for scaling out by user (default: one plain table each).
    #[serde(default)]
    pub layout: LayoutSpec,
}

/// `target.layout`: tables partitioned or distributed by `user_id`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LayoutSpec {
    /// `user_id`: each table `PARTITION BY HASH ("user_id")`.
    #[serde(default)]
    pub partition_by: Option<String>,
    /// Hash partitions per table (default 16).
    #[serde(default)]
    pub partitions: Option<u32>,
    /// `user_id`: keys fit for Citus to distribute each table by user_id (`01b_distribute.sql`).
    #[serde(default)]
    pub distribute_by: Option<String>,
}

impl LayoutSpec {
    /// Whether the tables are split by user (partitioned or distributed).
    pub fn splits_by_user(&self) -> bool {
        self.partition_by.is_some() || self.distribute_by.is_some()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdsSpec {
    pub namespace: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BatchSpec {
    #[serde(default = "default_batch_size")]
    pub size: u32,
    #[serde(default = "default_lock_timeout")]
    pub lock_timeout: String,
    #[serde(default = "default_statement_timeout")]
    pub statement_timeout: String,
}

impl Default for BatchSpec {
    fn default() -> Self {
        BatchSpec {
            size: default_batch_size(),
            lock_timeout: default_lock_timeout(),
            statement_timeout: default_statement_timeout(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SecuritySpec {
    #[serde(default = "default_owner_expression")]
    pub owner_expression: String,
    #[serde(default = "default_true")]
    pub row_level_security: bool,
}

impl Default for SecuritySpec {
    fn default() -> Self {
        SecuritySpec {
            owner_expression: default_owner_expression(),
            row_level_security: true,
        }
    }
}

/// `mappings/<entity>.yaml`: how one part of the document (an array, an object keyed by id, a
/// single object, scalars, the root) becomes one table.
#[derive(Debug, Clone, Deserialize)]
pub struct MappingSpec {
    pub entity: String,
    #[serde(default)]
    pub description: Option<String>,
    pub table: String,
    pub source: EntitySourceSpec,
    #[serde(default)]
    pub parent: Option<ParentSpec>,
    /// Fields holding another entity's legacy id, besides the parent link.
    #[serde(default)]
    pub references: Vec<ReferenceSpec>,
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// Column that keeps every key neither mapped nor dropped; `false` makes such keys an error.
    #[serde(default)]
    pub extra: Option<Value>,
    /// The elements are scalars: the column holding each.
    #[serde(default)]
    pub value: Option<ValueSpec>,
    /// Scalar elements that are ids of another entity's elements (`idMembers: ["m1"]`): each row
    /// links its parent and the element named, a many-to-many link table.
    #[serde(default)]
    pub link: Option<LinkSpec>,
    /// Column keeping each element's position in its array; `false`: order does not matter.
    #[serde(default)]
    pub position: Option<Value>,
    #[serde(default)]
    pub drop: Vec<String>,
    #[serde(default)]
    pub indexes: Vec<IndexSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EntitySourceSpec {
    pub path: String,
    /// Absent only for the document root (`path: $`) and objects keyed by id.
    #[serde(default)]
    pub legacy_id: Option<String>,
    /// The path holds an object keyed by legacy id, not an array.
    #[serde(default)]
    pub keyed: bool,
    /// The path holds one object (one-to-one), not an array.
    #[serde(default)]
    pub single: bool,
    #[serde(default)]
    pub on_missing_id: Option<MissingId>,
    #[serde(default)]
    pub on_duplicate_id: Option<DuplicateId>,
    /// The JSON type the legacy ids are written as: text (default) or number.
    #[serde(default)]
    pub id_type: Option<crate::ir::IdType>,
    /// Legacy ids unique per user (default) or per parent element.
    #[serde(default)]
    pub unique_within: Option<UniqueWithin>,
    /// Each element holds child elements of the same entity under this key, to any depth.
    #[serde(default)]
    pub recursive: Option<RecursiveSpec>,
    /// The entity takes only the elements of its kinds: one array of many kinds, routed.
    #[serde(default, rename = "where")]
    pub route: Option<WhereSpec>,
    /// A value of another shape at the path (a string where a list is expected): fails its
    /// batch (default), or stays whole in the enclosing element's extra.
    #[serde(default)]
    pub other_shapes: Option<crate::ir::OtherShapes>,
    /// A lookup table: one row per user and distinct legacy id of the elements at the path (the
    /// value itself, for scalars), copied from elements another entity keeps.
    #[serde(default)]
    pub distinct: bool,
}

/// Which elements of an array of many kinds an entity takes: those whose `field` holds one of
/// `in`; `others: take` also those no other entity of the array takes, `others: drop` declares
/// them dropped. Without either, such an element fails its batch.
#[derive(Debug, Clone, Deserialize)]
pub struct WhereSpec {
    pub field: String,
    #[serde(default, rename = "in")]
    pub values: Vec<Value>,
    #[serde(default)]
    pub others: Option<crate::ir::Others>,
}

/// A tree of unknown depth in one entity: where the children are, and the columns that keep the
/// tree.
#[derive(Debug, Clone, Deserialize)]
pub struct RecursiveSpec {
    /// Key of each element holding its children (`children`).
    pub key: String,
    /// The self-referencing foreign-key column: the element it is a child of (NULL at the top).
    pub column: String,
    #[serde(default = "default_depth_column")]
    pub depth_column: String,
    #[serde(default = "default_max_depth")]
    pub max_depth: u32,
}

fn default_depth_column() -> String {
    "depth".into()
}
fn default_max_depth() -> u32 {
    100
}

#[derive(Debug, Clone, Deserialize)]
pub struct ParentSpec {
    pub entity: String,
    #[serde(default)]
    pub field: Option<String>,
    pub column: String,
    #[serde(default)]
    pub on_missing: Option<OnMissingParent>,
}

/// A field naming another entity's element by its legacy id: a foreign-key column; or naming an
/// element of one of several entities (`one_of`): a column for each, the first that holds it set.
#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceSpec {
    #[serde(default)]
    pub entity: Option<String>,
    pub field: String,
    #[serde(default)]
    pub column: Option<String>,
    #[serde(default)]
    pub on_missing: Option<OnMissingParent>,
    #[serde(default)]
    pub one_of: Vec<OneOfSpec>,
}

/// One of the entities a `one_of` reference may name, and its foreign-key column.
#[derive(Debug, Clone, Deserialize)]
pub struct OneOfSpec {
    pub entity: String,
    pub column: String,
}

/// What the ids of a link table's elements name.
#[derive(Debug, Clone, Deserialize)]
pub struct LinkSpec {
    pub entity: String,
    pub column: String,
    #[serde(default)]
    pub on_missing: Option<OnMissingParent>,
}

/// A reference as the checks see it, from `references` or from `link` (whose field is the
/// element itself, an empty path).
pub struct RefSpec<'a> {
    /// JSON pointer of the reference in its mapping, for located errors.
    pub pointer: String,
    pub entity: &'a str,
    pub field: &'a str,
    pub column: &'a str,
    pub on_missing: Option<OnMissingParent>,
    /// Which field it reads, as the index of its entry in `references` (the link's after them):
    /// the targets of one `one_of` share it, and the first of them is `alternative` 0.
    pub group: usize,
    pub alternative: usize,
}

impl MappingSpec {
    /// Every reference of the mapping: `references` (each target of a `one_of` in its order),
    /// then `link`.
    pub fn all_references(&self) -> Vec<RefSpec<'_>> {
        let refs = self.references.iter().enumerate().flat_map(|(i, r)| {
            let plain = (r.one_of.is_empty()).then(|| RefSpec {
                pointer: format!("/references/{i}"),
                entity: r.entity.as_deref().unwrap_or_default(),
                field: &r.field,
                column: r.column.as_deref().unwrap_or_default(),
                on_missing: r.on_missing,
                group: i,
                alternative: 0,
            });
            let alternatives = r.one_of.iter().enumerate().map(move |(k, t)| RefSpec {
                pointer: format!("/references/{i}/one_of/{k}"),
                entity: &t.entity,
                field: &r.field,
                column: &t.column,
                on_missing: r.on_missing,
                group: i,
                alternative: k,
            });
            plain.into_iter().chain(alternatives)
        });
        let link = self.link.iter().map(|l| RefSpec {
            pointer: "/link".into(),
            entity: &l.entity,
            field: "",
            column: &l.column,
            on_missing: l.on_missing,
            group: self.references.len(),
            alternative: 0,
        });
        refs.chain(link).collect()
    }
}

/// The column a scalar element goes to.
#[derive(Debug, Clone, Deserialize)]
pub struct ValueSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    pub path: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<Value>,
    /// Keep the value as the source wrote it in `extra` too, for byte-exact round trips.
    #[serde(default)]
    pub keep_original: bool,
    /// How the source writes a time (timestamptz columns).
    #[serde(default)]
    pub format: Option<crate::ir::Format>,
    /// A free-text date kept as text, and parsed into a companion column where it can be.
    #[serde(default)]
    pub parsed: Option<ParsedSpec>,
}

/// The companion of a text column: the date or time its text names, NULL where it names none.
#[derive(Debug, Clone, Deserialize)]
pub struct ParsedSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// One format, or several tried in order (the first that reads the text wins).
    #[serde(default)]
    pub format: Option<Formats>,
    /// A text column saying how much of a date the text named: day, month or year.
    #[serde(default)]
    pub precision: Option<String>,
    /// The formats chosen by a value of the document (its locale): `format` where none matches.
    #[serde(default)]
    pub format_by: Option<FormatBySpec>,
}

/// Formats chosen by the text at `path` of the user's document (`settings.locale`: `en-US`).
#[derive(Debug, Clone, Deserialize)]
pub struct FormatBySpec {
    pub path: String,
    pub formats: std::collections::BTreeMap<String, Formats>,
}

/// A parsed companion's format: one, or a list tried in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Formats {
    One(crate::ir::Format),
    Many(Vec<crate::ir::Format>),
}

impl Formats {
    pub fn all(&self) -> Vec<crate::ir::Format> {
        match self {
            Formats::One(f) => vec![f.clone()],
            Formats::Many(fs) => fs.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexSpec {
    pub columns: Vec<String>,
    #[serde(default)]
    pub unique: bool,
}

fn default_public() -> String {
    "public".into()
}
fn default_audit_schema() -> String {
    "pgshred".into()
}
fn default_batch_size() -> u32 {
    100
}
fn default_lock_timeout() -> String {
    "5s".into()
}
fn default_statement_timeout() -> String {
    "5min".into()
}
fn default_owner_expression() -> String {
    "auth.uid()::text".into()
}
fn default_true() -> bool {
    true
}
