//! TLS with a certificate authority: `sslmode=require` and `verify-full` against a server whose
//! certificate a CA of the test's own signed.

use super::*;
use pgshred::pgtemp::{Setup, TempCluster};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// A CA and a server certificate for localhost / 127.0.0.1 signed by it (PEM).
fn certificates() -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, &ca_key);
    let key = KeyPair::generate().unwrap();
    let server =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = server.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[test]
fn sslmode_require_and_verify_full_work_against_a_self_signed_server() {
    let (ca, cert, key) = certificates();
    let cluster = TempCluster::start_with(&Setup {
        settings: vec![
            ("ssl".into(), "on".into()),
            ("ssl_cert_file".into(), "'server.crt'".into()),
            ("ssl_key_file".into(), "'server.key'".into()),
        ],
        data_files: vec![("server.crt".into(), cert), ("server.key".into(), key)],
        // TCP connections must use TLS: a plain one is refused, so a success proves encryption.
        hba: Some("local all all trust\nhostssl all all 127.0.0.1/32 trust\n".into()),
    })
    .unwrap();
    cluster.create_database("tls").unwrap();
    let mut c = connect(&cluster.url("tls"));
    load_fixture(&mut c, common::FIXTURE);
    let guard = common::TempDir::new("tls");
    let dir = guard.path().to_path_buf();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca).unwrap();
    let (_, _, wrong_ca) = {
        let (other_ca, _, _) = certificates();
        std::fs::write(dir.join("other-ca.pem"), &other_ca).unwrap();
        ((), (), dir.join("other-ca.pem"))
    };
    let base = format!("postgres://postgres@localhost:{}/tls", cluster.port);

    let o = pgshred(&format!("{base}?sslmode=disable"), &["status", PLAN]);
    assert_code(&o, 4);
    assert!(
        text(&o).1.contains("no encryption") || text(&o).1.contains("pg_hba.conf"),
        "{}",
        text(&o).1
    );

    let o = pgshred(
        &format!("{base}?sslmode=require"),
        &[
            "apply",
            PLAN,
            "--create-schema",
            "--allow-duplicates",
            "--limit",
            "5",
        ],
    );
    assert_code(&o, 0);
    let full = format!(
        "{base}?sslmode=verify-full&sslrootcert={}",
        ca_path.display()
    );
    let o = pgshred(&full, &["apply", PLAN, "--allow-duplicates"]);
    assert_code(&o, 0);
    assert!(text(&o).0.contains("run 2: 17 users"), "{}", text(&o).0);
    let ip = format!(
        "host=127.0.0.1 port={} user=postgres dbname=tls sslmode=verify-ca sslrootcert={}",
        cluster.port,
        ca_path.display()
    );
    assert_code(&pgshred(&ip, &["status", PLAN]), 0);

    let o = pgshred(
        &format!(
            "{base}?sslmode=verify-full&sslrootcert={}",
            wrong_ca.display()
        ),
        &["status", PLAN],
    );
    assert_code(&o, 4);
    assert!(
        text(&o).1.to_lowercase().contains("certificate"),
        "{}",
        text(&o).1
    );
}
