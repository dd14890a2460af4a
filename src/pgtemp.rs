//! A throwaway PostgreSQL cluster: `initdb` into a temporary directory, a server on a Unix socket
//! and a loopback port, removed again when dropped. Used by the test suite and by `pgshred demo`.
//!
//! `initdb` and `postgres` refuse to run as root; when pgshred runs as root (CI does), the server
//! runs as the unprivileged `postgres` user that Debian's package creates, in a directory it owns.

mod citus;
pub use citus::{CitusCluster, citus_installed};

use std::ffi::CString;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What went wrong while starting a cluster, with what to do about it.
#[derive(Debug)]
pub struct ClusterError(pub String);

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

fn err(msg: impl Into<String>) -> ClusterError {
    ClusterError(msg.into())
}

/// Extra configuration for a cluster: `postgresql.conf` lines, files in the data directory (TLS
/// keys and certificates, owned by the server user, mode 0600) and a replacement `pg_hba.conf`.
#[derive(Debug, Default, Clone)]
pub struct Setup {
    pub settings: Vec<(String, String)>,
    pub data_files: Vec<(String, String)>,
    pub hba: Option<String>,
}

pub struct TempCluster {
    dir: PathBuf,
    bin_dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
    run_as: Option<(u32, u32)>,
}

/// The directory holding `initdb` and `postgres`: `$PGSHRED_PG_BIN`, the directory of an `initdb`
/// on PATH (following symlinks), or the newest `/usr/lib/postgresql/<major>/bin`.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PGSHRED_PG_BIN") {
        return Some(PathBuf::from(d));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("initdb"))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::canonicalize(p).ok())
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .filter(|d| d.join("postgres").is_file())
    });
    on_path.or_else(|| {
        let mut majors: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .filter(|(_, p): &(u32, PathBuf)| p.join("initdb").is_file())
            .collect();
        majors.sort();
        majors.pop().map(|(_, p)| p)
    })
}

/// uid and gid of the `postgres` user, when we are root and must hand the server to it.
fn unprivileged_user() -> Result<Option<(u32, u32)>, ClusterError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns NULL or a pointer to static storage, read immediately.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(err(
            "running as root, and there is no `postgres` user to run the server as; install PostgreSQL \
             (apt-get install -y postgresql), which creates it",
        ));
    }
    // SAFETY: pw is non-null and points to a valid passwd entry.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

fn free_port() -> Result<u16, ClusterError> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| err(format!("finding a free loopback port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| err(format!("finding a free loopback port: {e}")))
}

impl TempCluster {
    /// Creates and starts a cluster.
    pub fn start() -> Result<TempCluster, ClusterError> {
        Self::start_with(&Setup::default())
    }

    pub fn start_with(setup: &Setup) -> Result<TempCluster, ClusterError> {
        let bin_dir = find_bin_dir().ok_or_else(|| {
            err("PostgreSQL server binaries (initdb, postgres) not found; install them with \
                 `apt-get update && apt-get install -y postgresql`, or set PGSHRED_PG_BIN to their directory")
        })?;
        let mut cluster = Self::unstarted(bin_dir)?;
        cluster.init(setup)?;
        cluster.launch()?;
        Ok(cluster)
    }

    /// A streaming standby of `primary`: a base backup taken with `pg_basebackup -R` over the
    /// primary's socket, started on its own port with `settings` added (e.g. a short
    /// `wal_receiver_status_interval`). Used to test what pgshred does while replicas lag.
    pub fn standby_of(
        primary: &TempCluster,
        settings: &[(&str, &str)],
    ) -> Result<TempCluster, ClusterError> {
        let mut standby = Self::unstarted(primary.bin_dir.clone())?;
        let out = standby
            .command("pg_basebackup")
            .arg("-D")
            .arg(standby.data_dir())
            .arg("-h")
            .arg(primary.socket_dir())
            .args(["-p", &primary.port.to_string(), "-U", "postgres"])
            .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| err(format!("running pg_basebackup: {e}")))?;
        if !out.status.success() {
            return Err(err(format!(
                "pg_basebackup failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let settings: Vec<(String, String)> = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        standby.configure(&settings)?;
        standby.launch()?;
        Ok(standby)
    }

    /// A directory for a cluster, owned by the server's user, and a free port; nothing started.
    fn unstarted(bin_dir: PathBuf) -> Result<TempCluster, ClusterError> {
        let run_as = unprivileged_user()?;
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pgshred-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| err(format!("creating {}: {e}", dir.display())))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| err(format!("setting permissions on {}: {e}", dir.display())))?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| {
                err(format!(
                    "handing {} to the postgres user: {e}",
                    dir.display()
                ))
            })?;
        }
        Ok(TempCluster {
            dir,
            bin_dir,
            port: free_port()?,
            child: None,
            run_as,
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        // HOME is the cluster's own directory: a server started by root would otherwise look for
        // client certificates in /root/.postgresql when it connects out (Citus to its workers).
        cmd.env_remove("PGDATA")
            .env("LC_ALL", "C")
            .env("HOME", &self.dir);
        if let Some((uid, gid)) = self.run_as {
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(gid) != 0
                        || libc::setuid(uid) != 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    fn init(&self, setup: &Setup) -> Result<(), ClusterError> {
        let out = self
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "-D",
            ])
            .arg(self.data_dir())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                err(format!(
                    "running initdb from {}: {e}",
                    self.bin_dir.display()
                ))
            })?;
        if !out.status.success() {
            return Err(err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        self.configure(&setup.settings)?;
        let hba = setup
            .hba
            .iter()
            .map(|h| ("pg_hba.conf".to_string(), h.clone()));
        for (name, contents) in setup.data_files.iter().cloned().chain(hba) {
            let path = self.data_dir().join(&name);
            std::fs::write(&path, contents)
                .map_err(|e| err(format!("writing {}: {e}", path.display())))?;
            // The server refuses a private key that others can read.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| err(format!("setting permissions on {}: {e}", path.display())))?;
            if let Some((uid, gid)) = self.run_as {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(|e| {
                    err(format!(
                        "handing {} to the postgres user: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        Ok(())
    }

    /// Appends this cluster's port and socket, the throwaway settings and `settings` to
    /// `postgresql.conf` (later lines win, so a base backup's copy of the primary's are replaced).
    fn configure(&self, settings: &[(String, String)]) -> Result<(), ClusterError> {
        let mut conf = format!(
            "\n# pgshred throwaway cluster\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 60\n",
            self.port,
            self.dir.display()
        );
        for (k, v) in settings {
            conf.push_str(&format!("{k} = {v}\n"));
        }
        let path = self.data_dir().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path)
            .map_err(|e| err(format!("reading {}: {e}", path.display())))?;
        text.push_str(&conf);
        std::fs::write(&path, text).map_err(|e| err(format!("writing {}: {e}", path.display())))
    }

    fn launch(&mut self) -> Result<(), ClusterError> {
        let log = self.dir.join("server.log");
        let logfile = std::fs::File::create(&log)
            .map_err(|e| err(format!("creating {}: {e}", log.display())))?;
        if let Some((uid, gid)) = self.run_as {
            let _ = std::os::unix::fs::chown(&log, Some(uid), Some(gid));
        }
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data_dir())
            .stdin(Stdio::null())
            .stdout(logfile.try_clone().map_err(|e| err(e.to_string()))?)
            .stderr(logfile)
            .spawn()
            .map_err(|e| err(format!("starting postgres: {e}")))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if postgres::Client::connect(&self.url("postgres"), postgres::NoTls).is_ok() {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(err(format!(
                    "postgres exited ({status}) while starting:\n{text}"
                )));
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "postgres did not accept connections within 30 s; see {}",
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A connection string for `dbname` over the Unix socket.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={dbname}",
            self.dir.display(),
            self.port
        )
    }

    /// A connection string for `dbname` over TCP on 127.0.0.1.
    pub fn tcp_url(&self, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={dbname}",
            self.port
        )
    }

    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .map_err(|e| err(format!("connecting to the throwaway cluster: {e}")))?;
        c.batch_execute(&format!(
            "CREATE DATABASE {} TEMPLATE template0",
            crate::ident::quote_ident(name)
        ))
        .map_err(|e| err(format!("creating database {name}: {e}")))?;
        Ok(self.url(name))
    }

    /// Stops the server (immediate shutdown: the data is throwaway) and removes its directory.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGQUIT is PostgreSQL's immediate shutdown; it ends every backend too.
            // SAFETY: kill on our own child's pid.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGQUIT);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
