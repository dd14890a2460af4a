//! The compiled plan: the SQL files `generated/<plan>/` holds, and the same SQL in the parts the
//! executor runs (the schema scripts, the forward steps of each entity with their versions, the
//! verification, the rollback), so that nothing downstream looks files up by name or re-reads the
//! forward script.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::artifacts::Files;

/// The line each entity's statement starts with in `03_forward.sql`.
pub const ENTITY_MARK: &str = "-- pgshred:entity ";

/// How a distributed plan's `04_verify.sql` reads the users in scope from its `scope` CTE (the
/// generated SQL may break it over lines).
pub const SCOPE_READ: &str = "(SELECT scope.users FROM scope)";

/// `sql` with every occurrence of `words` (words separated by one space) replaced by `with`,
/// whatever whitespace separates the words there: the generated SQL is wrapped to its width.
fn replace_spaced(sql: &str, words: &str, with: &str) -> String {
    let words: Vec<&str> = words.split(' ').collect();
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(i) = rest.find(words[0]) {
        out.push_str(&rest[..i]);
        let mut end = Some(i + words[0].len());
        for w in &words[1..] {
            end = end.and_then(|j| {
                let after = rest[j..].trim_start();
                let gap = rest.len() - j - after.len();
                (gap > 0 && after.starts_with(w)).then_some(j + gap + w.len())
            });
        }
        match end {
            Some(j) => {
                out.push_str(with);
                rest = &rest[j..];
            }
            None => {
                out.push_str(words[0]);
                rest = &rest[i + words[0].len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The scripts that set a database up (`apply --create-schema`), in the order they run; a plan
/// without `01b_distribute.sql` (any but a distributed one) skips it.
pub const SCHEMA_SCRIPTS: [&str; 4] = [
    "01_schema.sql",
    crate::codegen::DISTRIBUTE,
    "02_audit.sql",
    "06_reconstruct.sql",
];

/// One entity's statement of the forward script.
#[derive(Debug, Clone)]
pub struct Step {
    pub entity: String,
    pub sql: String,
    /// 16 hex digits of sha256 over the statement's code (not its comments or layout): the
    /// version of the entity's mapping a user is migrated with (the ledger keeps one per user and
    /// entity).
    pub version: String,
}

/// A plan compiled to SQL.
#[derive(Debug, Clone)]
pub struct Compiled {
    files: Files,
    /// What `03_forward.sql` runs before the entities' statements.
    preamble: String,
    steps: Vec<Step>,
    /// The plan it was compiled from, for the COPY write path (which evaluates documents in Rust).
    plan: Option<Box<crate::ir::Plan>>,
}

impl Compiled {
    /// Splits the forward script into its steps, once, as it is compiled.
    pub fn new(files: Files) -> Compiled {
        let forward = files.get("03_forward.sql").map_or("", String::as_str);
        let (preamble, sections) = split_forward(forward);
        let steps = sections
            .into_iter()
            .map(|(entity, sql)| Step {
                entity: entity.to_string(),
                version: version(sql),
                sql: sql.to_string(),
            })
            .collect();
        Compiled {
            preamble: preamble.to_string(),
            files,
            steps,
            plan: None,
        }
    }

    /// The same, knowing the plan it was compiled from.
    pub fn with_plan(mut self, plan: &crate::ir::Plan) -> Compiled {
        self.plan = Some(Box::new(plan.clone()));
        self
    }

    pub fn plan(&self) -> Option<&crate::ir::Plan> {
        self.plan.as_deref()
    }

    /// Every generated file, by name: what `generated/<plan>/` holds.
    pub fn files(&self) -> &Files {
        &self.files
    }

    pub fn into_files(self) -> Files {
        self.files
    }

    fn file(&self, name: &str) -> &str {
        self.files.get(name).map_or("", String::as_str)
    }

    /// (name, SQL) of the scripts `--create-schema` runs, in order.
    pub fn schema_scripts(&self) -> impl Iterator<Item = (&'static str, &str)> {
        SCHEMA_SCRIPTS
            .iter()
            .filter(|n| self.files.contains_key(**n))
            .map(|n| (*n, self.file(n)))
    }

    /// The per-batch verification query (`04_verify.sql`).
    pub fn verify(&self) -> &str {
        self.file("04_verify.sql")
    }

    /// `04_verify.sql` as a distributed plan runs it when its source table is distributed too
    /// (`executor::judge::run_04_verify`): the users in scope bound as `$1`
    /// (`text[]`, NULL for everyone) wherever the file reads them from its `scope` CTE, which
    /// holds the same users. Citus prunes shards by a parameter's value, never by a CTE's, so a
    /// batch's check goes to the shards holding its users instead of to every shard. `None`
    /// on other layouts, which run the file as it is.
    pub fn verify_bound(&self) -> Option<String> {
        let distributed = self
            .plan()
            .is_some_and(|p| p.layout == crate::ir::Layout::Distributed);
        distributed.then(|| replace_spaced(self.verify(), SCOPE_READ, "$1::text[]"))
    }

    /// The forward script for `entities` (see [`Compiled::forward`]) as a distributed plan runs
    /// it (`--engine sql`): the batch's `users` (a `text[]` literal's text, `{a,b}`) written in
    /// wherever the script calls `batch_users()`, which returns the same users. Citus prunes an
    /// INSERT ... SELECT to the shards holding them by a constant, never by a function's value,
    /// and plans none with a parameter in a statement that writes the ledger too.
    pub fn forward_pinned(&self, entities: Option<&[String]>, users: &str) -> String {
        let forward = self.forward(entities);
        let Some(plan) = self.plan() else {
            return forward.into_owned();
        };
        forward.replace(
            &format!(
                "{}.batch_users()",
                crate::ident::quote_ident(&plan.audit_schema)
            ),
            &format!("{}::text[]", crate::ident::quote_literal(users)),
        )
    }

    /// The rollback script (`05_rollback.sql`).
    pub fn rollback(&self) -> &str {
        self.file("05_rollback.sql")
    }

    /// The forward steps, parents first.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The forward script for the given entities (all when `None`): the preamble, then their
    /// steps in order.
    pub fn forward(&self, entities: Option<&[String]>) -> Cow<'_, str> {
        let Some(only) = entities else {
            return Cow::Borrowed(self.file("03_forward.sql"));
        };
        if self.steps.iter().all(|s| only.contains(&s.entity)) {
            return Cow::Borrowed(self.file("03_forward.sql"));
        }
        let mut script = self.preamble.clone();
        for s in self.steps.iter().filter(|s| only.contains(&s.entity)) {
            script.push_str(&s.sql);
        }
        Cow::Owned(script)
    }

    /// sha256 over what shapes data: stored with a run, so a resume under changed SQL is
    /// refused.
    pub fn checksum(&self) -> String {
        checksum(&self.files)
    }
}

/// The files a run executes: its tables, ledger, writer, judge and rollback. The rebuilt view,
/// the backup and dedupe queries do not change what a run writes.
const RUN_FILES: [&str; 6] = [
    "01_schema.sql",
    "01b_distribute.sql",
    "02_audit.sql",
    "03_forward.sql",
    "04_verify.sql",
    "05_rollback.sql",
];

/// sha256 over the statements of the files a run executes, in name order, without comments or
/// line layout: the header names pgshred's version, and an upgrade that changes no statement
/// must not refuse the `--resume` of a run it can finish.
pub fn checksum(files: &Files) -> String {
    let mut h = Sha256::new();
    for (name, text) in files
        .iter()
        .filter(|(n, _)| RUN_FILES.contains(&n.as_str()))
    {
        h.update(name.as_bytes());
        h.update([0]);
        for code in text
            .lines()
            .map(crate::codegen::wrap::code_of)
            .filter(|c| !c.is_empty())
        {
            h.update(code.as_bytes());
            h.update(b" ");
        }
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The version of one step: of its statement's code, so that how it is laid out on lines and
/// what its comments say (which a new pgshred may change) do not make migrated users look
/// migrated with another mapping.
fn version(sql: &str) -> String {
    let mut h = Sha256::new();
    for code in sql
        .lines()
        .map(crate::codegen::wrap::code_of)
        .filter(|c| !c.is_empty() && !c.starts_with("--"))
    {
        h.update(code.as_bytes());
        h.update(b" ");
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The preamble of a forward script and its entity sections (name, text from the mark up to the
/// next), which together are the whole script.
fn split_forward(forward: &str) -> (&str, Vec<(&str, &str)>) {
    let mut starts: Vec<usize> = forward
        .match_indices(ENTITY_MARK)
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || forward.as_bytes()[i - 1] == b'\n')
        .collect();
    let preamble = &forward[..starts.first().copied().unwrap_or(forward.len())];
    starts.push(forward.len());
    let sections = starts
        .windows(2)
        .map(|w| {
            let text = &forward[w[0]..w[1]];
            let name = text[ENTITY_MARK.len()..]
                .lines()
                .next()
                .unwrap_or("")
                .trim();
            (name, text)
        })
        .collect();
    (preamble, sections)
}

/// Per entity, in the order they run, the version of its statement in the forward script of
/// `files` (compiled at another revision, for `diff`).
pub fn versions(files: &Files) -> Vec<(String, String)> {
    Compiled::new(files.clone())
        .steps
        .into_iter()
        .map(|s| (s.entity, s.version))
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_read_of_the_scope_is_replaced_however_it_is_wrapped() {
        let sql = "WHERE a = ANY ((SELECT scope.users FROM\n        scope)::text[]) OR (SELECT scope.users FROM scope) IS NULL \
                   AND (SELECT scope.users FROM other) AND (SELECT x";
        assert_eq!(
            super::replace_spaced(sql, super::SCOPE_READ, "$1"),
            "WHERE a = ANY ($1::text[]) OR $1 IS NULL AND (SELECT scope.users FROM other) AND (SELECT x"
        );
    }

    #[test]
    fn the_steps_and_preamble_are_the_whole_forward_script() {
        let plan = crate::validate::load_plan(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/plans/user_app_state.yaml"
        )))
        .unwrap();
        let c = crate::codegen::compile(&plan).unwrap();
        let whole: String = std::iter::once(c.preamble.as_str())
            .chain(c.steps().iter().map(|s| s.sql.as_str()))
            .collect();
        assert_eq!(whole, c.files()["03_forward.sql"]);
        let names: Vec<&str> = c.steps().iter().map(|s| s.entity.as_str()).collect();
        let entities: Vec<&str> = plan.entities.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, entities);
        let only = vec!["orgs".to_string(), "contents".to_string()];
        let part = c.forward(Some(&only));
        assert!(part.starts_with(&c.preamble));
        assert!(
            part.contains("-- pgshred:entity orgs\n")
                && !part.contains("-- pgshred:entity personas\n")
        );
    }

    /// The run checksum follows the statements a run executes, not pgshred's version in the
    /// headers nor the files a run never runs.
    #[test]
    fn the_run_checksum_covers_statements_not_versions() {
        let plan = crate::validate::load_plan(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/plans/user_app_state.yaml"
        )))
        .unwrap();
        let files = crate::codegen::compile(&plan).unwrap().files().clone();
        let sum = super::checksum(&files);
        let mut upgraded = files.clone();
        for text in upgraded.values_mut() {
            let header = format!("-- pgshred {} --", env!("CARGO_PKG_VERSION"));
            assert!(text.starts_with(&header), "{text}");
            *text = text.replacen(&header, "-- pgshred 9.9.9 --", 1);
        }
        upgraded.insert("backup.sql".into(), "SELECT 1;\n".into());
        upgraded.insert("dedupe.sql".into(), "SELECT 2;\n".into());
        assert_ne!(upgraded, files);
        assert_eq!(super::checksum(&upgraded), sum);
        for name in ["03_forward.sql", "04_verify.sql", "02_audit.sql"] {
            let mut changed = files.clone();
            let text = changed.get_mut(name).unwrap();
            text.push_str("SELECT 1;\n");
            assert_ne!(super::checksum(&changed), sum, "{name}");
        }
    }

    /// A step's version follows its code, not its layout or its comments.
    #[test]
    fn a_step_version_follows_the_code_not_its_layout() {
        let sql = "-- pgshred:entity orgs\n-- what it does\nINSERT INTO t (a, b) -- the columns\nSELECT 1, 'x  y';\n";
        let v = super::version(sql);
        let folded = "-- pgshred:entity orgs\n-- what it does, in other words\nINSERT INTO t (a, b)\n    -- the columns\nSELECT 1,\n    'x  y';\n\n";
        assert_eq!(super::version(folded), v);
        assert_ne!(super::version(&sql.replace("'x  y'", "'x y'")), v);
        assert_ne!(super::version(&sql.replace("SELECT 1", "SELECT 2")), v);
    }
}
