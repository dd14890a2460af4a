//! What `pgshred apply` was asked to do, as types: how the run starts and which users it takes
//! (exclusive modes, one enum each, so a combination the command line refuses cannot be built
//! here either), how batches write, and the settings of batches and of their pace.

/// What `pgshred apply` was asked to do.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub start: Start,
    pub writer: Writer,
    pub batches: Batches,
    pub pace: Pace,
    /// Apply `01_schema.sql` and `02_audit.sql` first (in a dry run, inside each batch).
    pub create_schema: bool,
    /// Migrate the newest row of users with several source rows instead of refusing.
    pub allow_duplicates: bool,
}

/// How the run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A new run over these users.
    New(Scope),
    /// Every batch of a new run over these users, each rolled back: nothing is kept.
    DryRun(Scope),
    /// The plan's unfinished run, where it stopped.
    Resume,
    /// Batches of the run another process leads, or, with no leader left, the unfinished run
    /// as `Resume` takes it.
    Join,
}

/// The users a new run takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The users not yet migrated, in user id order, at most `limit`; and migrated users whose
    /// work `rework` asks for (added entities are backfilled whatever it says).
    Next {
        limit: Option<usize>,
        rework: Rework,
    },
    /// Exactly these users, migrated or not.
    Users(Vec<String>),
    /// The quarantined users, and only them, at most `limit`.
    Quarantined { limit: Option<usize> },
}

/// Work on users migrated before, beyond backfilling added entities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rework {
    /// Entities whose changed mapping is applied again, with every entity below them.
    pub remap: Vec<String>,
    /// Users whose source row changed (or disappeared) since they were migrated.
    pub sync: bool,
}

/// How a batch's rows are written. Whichever writes them, `04_verify.sql` judges the batch
/// before it commits (see `batch::forward_and_verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// `03_forward.sql`: set-based SQL in the server, the reviewed script itself.
    Sql,
    /// The evaluator in Rust and binary COPY.
    Copy,
    /// `Copy` into empty tables whose secondary indexes, unique keys and foreign keys are
    /// deferred to after the last batch: the judge compares each batch per entity with the rows
    /// its COPY wrote, as the server counted them (the per-user count needs the deferred
    /// `user_id` indexes). A run is in this mode while it has something deferred.
    Bulk,
}

/// Each batch's settings.
#[derive(Debug, Clone)]
pub struct Batches {
    /// Users per batch, at least 1 (the CLI and the plan's schema see to it).
    pub size: i32,
    pub lock_timeout: String,
    pub statement_timeout: String,
    /// Users whose documents fail may be set aside (quarantined) up to this many per run; 0
    /// stops at the first failing batch.
    pub max_bad_users: usize,
}

/// How fast the run goes.
#[derive(Debug, Clone)]
pub struct Pace {
    /// Worker connections claiming batches in parallel, at least 1.
    pub jobs: usize,
    /// At most this many rows per second over the run, all workers together.
    pub max_rate: Option<f64>,
    /// A pause after each committed batch.
    pub pause_between: Option<std::time::Duration>,
    /// No batch is claimed while a standby's replay lag exceeds this.
    pub max_replica_lag: Option<std::time::Duration>,
}

impl ApplyOptions {
    /// The users a new run (or dry run) takes; `None` when the run continues one.
    pub fn scope(&self) -> Option<&Scope> {
        match &self.start {
            Start::New(s) | Start::DryRun(s) => Some(s),
            Start::Resume | Start::Join => None,
        }
    }

    pub fn dry_run(&self) -> bool {
        matches!(self.start, Start::DryRun(_))
    }

    /// Exactly these users (`--user`), or none.
    pub fn users(&self) -> &[String] {
        match self.scope() {
            Some(Scope::Users(u)) => u,
            _ => &[],
        }
    }

    /// At most this many users.
    pub fn limit(&self) -> Option<usize> {
        match self.scope() {
            Some(Scope::Next { limit, .. } | Scope::Quarantined { limit }) => *limit,
            _ => None,
        }
    }

    pub fn retry_quarantined(&self) -> bool {
        matches!(self.scope(), Some(Scope::Quarantined { .. }))
    }

    /// What to do again for migrated users; nothing unless the run takes the next users.
    pub fn rework(&self) -> Rework {
        match self.scope() {
            Some(Scope::Next { rework, .. }) => rework.clone(),
            _ => Rework::default(),
        }
    }
}
