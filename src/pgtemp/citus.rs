//! A throwaway Citus cluster for the tests: a coordinator and workers on loopback, each a
//! [`TempCluster`] with Citus preloaded, the extension created on every node and the workers
//! registered with the coordinator (what `../shared/citus/cluster.sh` does by hand).

use super::{ClusterError, Setup, TempCluster, err, find_bin_dir};

/// A coordinator and its workers; dropped, every node stops.
pub struct CitusCluster {
    pub coordinator: TempCluster,
    pub workers: Vec<TempCluster>,
}

/// Whether the server the clusters run has the Citus extension installed (`citus.so` in its
/// library directory): `../shared/citus/install.sh` builds it.
pub fn citus_installed() -> bool {
    find_bin_dir()
        .and_then(|bin| Some(bin.parent()?.join("lib").join("citus.so")))
        .is_some_and(|so| so.exists())
}

impl CitusCluster {
    /// Starts a coordinator and `workers` workers and joins them into one cluster.
    pub fn start(workers: usize) -> Result<CitusCluster, ClusterError> {
        let setup = Setup {
            settings: vec![
                ("shared_preload_libraries".into(), "'citus'".into()),
                // The coordinator opens connections to every worker per distributed statement.
                ("max_connections".into(), "200".into()),
            ],
            ..Setup::default()
        };
        let coordinator = TempCluster::start_with(&setup)?;
        let workers = (0..workers)
            .map(|_| TempCluster::start_with(&setup))
            .collect::<Result<Vec<_>, _>>()?;
        for node in std::iter::once(&coordinator).chain(&workers) {
            node.execute("CREATE EXTENSION citus")?;
        }
        coordinator.execute(&format!(
            "SELECT citus_set_coordinator_host('127.0.0.1', {})",
            coordinator.port
        ))?;
        for w in &workers {
            coordinator.execute(&format!("SELECT citus_add_node('127.0.0.1', {})", w.port))?;
        }
        Ok(CitusCluster {
            coordinator,
            workers,
        })
    }

    /// The coordinator's database `postgres` over TCP, as an operator's URL names it (no
    /// sslmode: libpq's default, `prefer`).
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.coordinator.port
        )
    }
}

impl CitusCluster {
    /// Worker `i`'s database `postgres` over TCP, as [`CitusCluster::url`] names the coordinator.
    pub fn worker_url(&self, i: usize) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.workers[i].port
        )
    }
}

impl TempCluster {
    /// Runs `sql` in the `postgres` database over the Unix socket.
    fn execute(&self, sql: &str) -> Result<(), ClusterError> {
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .map_err(|e| err(format!("connecting to the throwaway cluster: {e}")))?;
        c.batch_execute(sql).map_err(|e| {
            let why = e.as_db_error().map_or(e.to_string(), |d| {
                let detail = d.detail().map(|x| format!(" ({x})")).unwrap_or_default();
                format!("{}{detail}", d.message())
            });
            err(format!("{sql}: {why}"))
        })
    }
}
