//! PostgreSQL connections for every part that talks to a database (the executor, preview,
//! demo): connecting with the TLS the URL asks for, describing a URL without its password, and
//! [`Context`], which gives a server error the words of what pgshred was doing.

pub mod tls;

use postgres::config::Host;
use postgres::{Client, GenericClient};

use crate::Error;

/// "user@host:port/dbname", never the password, for messages and logs.
pub fn describe(url: &str) -> String {
    match parse(url) {
        Ok(cfg) => {
            // Every host the URL names (a URL may give one in its authority and more in
            // `host=`), each with its port: the client tries them in turn.
            let ports = cfg.get_ports();
            let port = |i: usize| match ports {
                [] => 5432,
                [one] => *one,
                many => many.get(i).copied().unwrap_or(5432),
            };
            let mut hosts: Vec<String> = cfg
                .get_hosts()
                .iter()
                .enumerate()
                .map(|(i, h)| match h {
                    Host::Tcp(h) => format!("{h}:{}", port(i)),
                    Host::Unix(p) => format!("{}:{}", p.display(), port(i)),
                })
                .collect();
            if hosts.is_empty() {
                hosts.push(format!("localhost:{}", port(0)));
            }
            format!(
                "{}@{}/{}",
                cfg.get_user().unwrap_or("?"),
                hosts.join(" or "),
                cfg.get_dbname().unwrap_or("?")
            )
        }
        Err(_) => "(unparsable database URL)".into(),
    }
}

/// Whether a table or view exists (`relation` as SQL writes it, quoted where needed).
pub fn relation_exists(c: &mut impl GenericClient, relation: &str) -> Result<bool, Error> {
    c.query_one("SELECT to_regclass($1) IS NOT NULL", &[&relation])
        .map(|r| r.get(0))
        .map_err(|source| Error::Database {
            context: format!("looking up {relation}"),
            source,
        })
}

/// The connection string as the client reads it: the TLS parameters the `postgres` crate does not
/// know (`sslrootcert`, `verify-ca`, `verify-full`) are taken out first, as `connect` does, so
/// every URL that connects can also be described and redacted.
fn parse(url: &str) -> Result<postgres::Config, ()> {
    let wire = tls::split(url).map(|p| p.url).map_err(|_| ())?;
    wire.parse::<postgres::Config>().map_err(|_| ())
}

/// Removes a password from any text that might quote a connection string.
pub fn redact(text: &str, url: &str) -> String {
    match parse(url)
        .ok()
        .and_then(|c| c.get_password().map(<[u8]>::to_vec))
    {
        Some(pw) if !pw.is_empty() => text.replace(&*String::from_utf8_lossy(&pw), "********"),
        _ => text.to_string(),
    }
}

/// Opens a connection; TLS is negotiated as the URL's `sslmode` asks (see [`tls`]).
pub fn connect(url: &str) -> Result<Client, Error> {
    let what = describe(url);
    let (wire_url, connector) = tls::connector(url)?;
    let result = match connector {
        Some(tls) => Client::connect(&wire_url, tls),
        None => Client::connect(&wire_url, postgres::NoTls),
    };
    result.map_err(|e| Error::Connect {
        target: what,
        message: redact(&chain(&e), url),
    })
}

/// An error with its causes: postgres's own Display says only "db error" for server errors.
fn chain(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} [SQLSTATE {}]", db.message(), db.code().code());
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!(": {s}"));
        source = s.source();
    }
    out
}

/// Sets `lock_timeout` for the rest of the transaction: no statement of pgshred's waits for a
/// table lock longer than the plan allows, so it never queues the application behind it.
pub fn set_lock_timeout(tx: &mut impl GenericClient, timeout: &str) -> Result<(), Error> {
    tx.execute("SELECT set_config('lock_timeout', $1, true)", &[&timeout])
        .map(|_| ())
        .map_err(|source| Error::Database {
            context: format!("setting lock_timeout {timeout}"),
            source,
        })
}

/// Says what pgshred was doing when the server answered with an error.
pub trait Context<T> {
    fn context(self, doing: impl Into<String>) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, postgres::Error> {
    fn context(self, doing: impl Into<String>) -> Result<T, Error> {
        self.map_err(|source| Error::Database {
            context: doing.into(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// URLs with the TLS parameters only pgshred reads are described and redacted like any other.
    #[test]
    fn tls_urls_are_described_and_redacted() {
        let url = "postgres://ops:s3cret@db.example.com:6432/app?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem";
        assert_eq!(describe(url), "ops@db.example.com:6432/app");
        assert_eq!(
            redact("password authentication failed: s3cret", url),
            "password authentication failed: ********"
        );
        let kv = "host=db.example.com user=ops password=s3cret dbname=app sslmode=verify-ca sslrootcert=/tmp/ca.pem";
        assert_eq!(describe(kv), "ops@db.example.com:5432/app");
        assert_eq!(redact("s3cret", kv), "********");
    }
}
