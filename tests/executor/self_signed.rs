//! TLS as libpq does it with certificates no CA signed: `prefer` and `require` take any (X.509
//! version 1, as Citus makes, or out of its dates); a pinned self-signed root is checked.

use super::*;
use pgshred::pgtemp::{Setup, TempCluster};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// A server certificate that is its own root (self-signed, a CA), for `names`.
fn own_root(names: &[&str]) -> (String, String) {
    own_root_valid(names, None)
}

/// The same, valid only between the two years given.
fn own_root_valid(names: &[&str], years: Option<(i32, i32)>) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    if let Some((from, to)) = years {
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
    }
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn a_pinned_certificate_outside_its_dates_is_refused_as_libpq_does() {
    let guard = common::TempDir::new("own-root-dates");
    for (years, says) in [((2000, 2001), "expired"), ((2200, 2201), "not valid yet")] {
        let (cert, key) = own_root_valid(&["localhost"], Some(years));
        let root = guard.path().join(format!("root-{}.pem", years.0));
        std::fs::write(&root, &cert).unwrap();
        let cluster = tls_cluster(cert, key);
        for mode in ["verify-ca", "verify-full"] {
            let url = format!(
                "postgres://postgres@localhost:{}/postgres?sslmode={mode}&sslrootcert={}",
                cluster.port,
                root.display()
            );
            let o = pgshred(&url, &["status", PLAN]);
            assert_code(&o, 4);
            let err = text(&o).1.to_lowercase();
            assert!(err.contains(says), "{years:?} {mode}: {err}");
        }
    }
}

/// A self-signed X.509 version 1 certificate and its key (PEM), as Citus makes for its nodes
/// (rcgen writes version 3 only; the openssl command comes with PostgreSQL's packages).
fn version_1_certificate(dir: &std::path::Path) -> (String, String) {
    let (key, csr, crt) = (dir.join("v1.key"), dir.join("v1.csr"), dir.join("v1.crt"));
    let run = |args: &[&str]| {
        let o = std::process::Command::new("openssl").args(args).output();
        let o = o.expect("openssl, which PostgreSQL's packages install, is on PATH");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=citus-auto-ssl",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        csr.to_str().unwrap(),
    ]);
    run(&[
        "x509",
        "-req",
        "-days",
        "365",
        "-in",
        csr.to_str().unwrap(),
        "-signkey",
        key.to_str().unwrap(),
        "-out",
        crt.to_str().unwrap(),
    ]);
    let cert = std::fs::read_to_string(&crt).unwrap();
    (cert, std::fs::read_to_string(&key).unwrap())
}

#[test]
fn prefer_and_require_accept_any_certificate_as_libpq_does() {
    let guard = common::TempDir::new("any-certificate");
    let expired = own_root_valid(&["localhost"], Some((2000, 2001)));
    let v1 = version_1_certificate(guard.path());
    // TLS 1.3, and 1.2, whose handshake signature is checked another way.
    for (what, (cert, key), protocol) in [
        ("version 1", v1.clone(), "TLSv1.3"),
        ("version 1", v1, "TLSv1.2"),
        ("expired", expired, "TLSv1.3"),
    ] {
        let root = guard.path().join("root.pem");
        std::fs::write(&root, &cert).unwrap();
        let cluster = TempCluster::start_with(&Setup {
            settings: vec![
                ("ssl".into(), "on".into()),
                ("ssl_cert_file".into(), "'server.crt'".into()),
                ("ssl_key_file".into(), "'server.key'".into()),
                ("ssl_max_protocol_version".into(), format!("'{protocol}'")),
            ],
            data_files: vec![("server.crt".into(), cert), ("server.key".into(), key)],
            hba: Some("local all all trust\nhostssl all all 127.0.0.1/32 trust\n".into()),
        })
        .unwrap();
        let base = format!("postgres://postgres@localhost:{}/postgres", cluster.port);
        // The cluster takes TLS only (hostssl): a connection proves encryption.
        for mode in ["prefer", "require"] {
            let o = pgshred(&format!("{base}?sslmode={mode}"), &["status", PLAN]);
            assert!(
                !text(&o).1.contains("TLS") && !text(&o).1.contains("certificate"),
                "{what} {mode}: {}",
                text(&o).1
            );
            assert!(
                text(&o).1.contains("connected") || text(&o).0.contains("run"),
                "{what} {mode}: {:?}",
                text(&o)
            );
        }
        // Checking the certificate still refuses what cannot be checked.
        let o = pgshred(
            &format!("{base}?sslmode=verify-ca&sslrootcert={}", root.display()),
            &["status", PLAN],
        );
        assert_code(&o, 4);
    }
}

fn tls_cluster(cert: String, key: String) -> TempCluster {
    TempCluster::start_with(&Setup {
        settings: vec![
            ("ssl".into(), "on".into()),
            ("ssl_cert_file".into(), "'server.crt'".into()),
            ("ssl_key_file".into(), "'server.key'".into()),
        ],
        data_files: vec![("server.crt".into(), cert), ("server.key".into(), key)],
        hba: Some("local all all trust\nhostssl all all 127.0.0.1/32 trust\n".into()),
    })
    .unwrap()
}

#[test]
fn a_self_signed_certificate_used_as_its_own_root_is_accepted_as_libpq_does() {
    let guard = common::TempDir::new("own-root");
    let (cert, key) = own_root(&["localhost", "127.0.0.1"]);
    let root = guard.path().join("root.pem");
    std::fs::write(&root, &cert).unwrap();
    let cluster = tls_cluster(cert, key);
    cluster.create_database("tls").unwrap();
    let url = |mode: &str, host: &str| {
        format!(
            "postgres://postgres@{host}:{}/tls?sslmode={mode}&sslrootcert={}",
            cluster.port,
            root.display()
        )
    };
    for mode in ["verify-ca", "verify-full"] {
        for host in ["localhost", "127.0.0.1"] {
            let o = pgshred(&url(mode, host), &["status", PLAN]);
            assert_code(&o, 0);
        }
    }
    // verify-full still checks the name: a certificate for another host is refused.
    let (other, other_key) = own_root(&["db.example.com"]);
    let other_root = guard.path().join("other.pem");
    std::fs::write(&other_root, &other).unwrap();
    let wrong = tls_cluster(other, other_key);
    let full = format!(
        "postgres://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        wrong.port,
        other_root.display()
    );
    let o = pgshred(&full, &["status", PLAN]);
    assert_code(&o, 4);
    assert!(
        text(&o).1.to_lowercase().contains("certificate"),
        "{}",
        text(&o).1
    );
    // verify-ca does not check names.
    let ca = full.replace("verify-full", "verify-ca");
    assert_code(&pgshred(&ca, &["status", PLAN]), 0);
}
