//! What every step of a run works from, bundled once: apply, the planning, the workers, the
//! batches and the dry run all take it.

use super::ApplyOptions;
use super::guard::Guard;
use super::phases::Phases;
use super::sql;
use crate::compiled::Compiled;
use crate::ir::Plan;
use crate::versions::Versions;

/// The plan, its compiled scripts, the ledger's statements, the run's options, the plan's guard,
/// the entity versions the scripts write and where the run's phase times add up.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) plan: &'a Plan,
    pub(super) files: &'a Compiled,
    pub(super) q: &'a sql::Queries,
    pub(super) opts: &'a ApplyOptions,
    pub(super) guard: &'a Guard,
    pub(super) versions: &'a Versions,
    pub(super) phases: &'a Phases,
}
