//! TLS for hosted databases (Supabase and the like), with libpq's `sslmode` semantics.
//!
//! tokio-postgres only knows `disable`, `prefer` and `require`, and rejects `sslrootcert`; pgshred
//! reads `sslmode` and `sslrootcert` itself, hands the rest of the URL on, and builds a rustls
//! configuration (ring backend, so no system OpenSSL is needed) that checks what the mode asks:
//!
//! | sslmode | encrypted | certificate chain checked | host name checked |
//! |---|---|---|---|
//! | disable | no | - | - |
//! | prefer (default) | if the server offers it | no | no |
//! | require | yes | only if `sslrootcert` is given (as libpq) | no |
//! | verify-ca | yes | yes | no |
//! | verify-full | yes | yes | yes |
//!
//! Roots come from `sslrootcert=<PEM file>`, or the Mozilla roots bundled with pgshred
//! (`sslrootcert=system` or no `sslrootcert`). A server presenting one of sslrootcert's own
//! certificates (a self-signed certificate used as its own root) is trusted as libpq trusts it;
//! `verify-full` still checks its names.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The URL with `sslmode` and `sslrootcert` taken out (and `sslmode` put back in a form
/// tokio-postgres accepts), plus what they said.
#[derive(Debug, PartialEq, Eq)]
pub struct TlsParams {
    pub url: String,
    pub mode: SslMode,
    pub root_cert: Option<String>,
}

fn parse_mode(v: &str) -> Result<SslMode, Error> {
    Ok(match v {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        other => {
            return Err(Error::Input(format!(
                "sslmode={other} is not supported; use disable, prefer, require, verify-ca or verify-full"
            )));
        }
    })
}

fn wire_mode(m: SslMode) -> &'static str {
    match m {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        _ => "require",
    }
}

/// Splits TLS parameters out of a `postgres://...?...` URL or a `key=value` connection string.
pub fn split(url: &str) -> Result<TlsParams, Error> {
    let (mut mode, mut root_cert) = (None, None);
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", v)) => mode = Some(parse_mode(v)?),
                Some(("sslrootcert", v)) => root_cert = Some(percent_decode(v)),
                _ => kept.push(pair),
            }
        }
        let m = mode.unwrap_or(SslMode::Prefer);
        kept.push(match m {
            SslMode::Disable => "sslmode=disable",
            SslMode::Prefer => "sslmode=prefer",
            _ => "sslmode=require",
        });
        format!("{base}?{}", kept.join("&"))
    } else {
        let mut kept = Vec::new();
        for token in url.split_whitespace() {
            match token.split_once('=') {
                Some(("sslmode", v)) => mode = Some(parse_mode(v.trim_matches('\''))?),
                Some(("sslrootcert", v)) => root_cert = Some(v.trim_matches('\'').to_string()),
                _ => kept.push(token.to_string()),
            }
        }
        kept.push(format!(
            "sslmode={}",
            wire_mode(mode.unwrap_or(SslMode::Prefer))
        ));
        kept.join(" ")
    };
    Ok(TlsParams {
        url: rest,
        mode: mode.unwrap_or(SslMode::Prefer),
        root_cert,
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Accepts any certificate: `prefer` and `require` without a root certificate, as in libpq.
/// The connection is still encrypted; it is not authenticated. Any certificate means any: of
/// X.509 version 1 (which Citus makes for its nodes, and webpki will not read), expired, signed
/// by anyone. The server still proves it holds the certificate's key (the handshake signature,
/// checked with the public key as the certificate states it).
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl AcceptAny {
    /// The handshake signature, checked with the certificate's public key read as it is.
    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
        tls13: bool,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        let bad = || rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding);
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|_| bad())?;
        let spki = &parsed.tbs_certificate.subject_pki;
        if tls13 {
            return rustls::crypto::verify_tls13_signature_with_raw_key(
                message,
                &rustls::pki_types::SubjectPublicKeyInfoDer::from(spki.raw),
                dss,
                algorithms,
            );
        }
        // TLS 1.2 names the scheme loosely: each algorithm it may mean is tried.
        let key = spki.subject_public_key.data.as_ref();
        let candidates = algorithms
            .mapping
            .iter()
            .filter(|(scheme, _)| *scheme == dss.scheme)
            .flat_map(|(_, algs)| algs.iter());
        for alg in candidates {
            if alg.verify_signature(key, message, dss.signature()).is_ok() {
                return Ok(HandshakeSignatureValid::assertion());
            }
        }
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadSignature,
        ))
    }
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss, false)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature(message, cert, dss, true)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Checks the chain but not the host name: `verify-ca`.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A server whose certificate is one of sslrootcert's own (a self-signed certificate used as its
/// own root, as libpq accepts) is trusted as such; with `verify-full` its names must still match
/// the host. Any other certificate goes through the chain check.
#[derive(Debug)]
struct Pinned {
    roots: Vec<CertificateDer<'static>>,
    check_name: bool,
    chain: Arc<dyn ServerCertVerifier>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.roots.iter().any(|r| r.as_ref() == end_entity.as_ref()) {
            return self.chain.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp,
                now,
            );
        }
        check_validity(end_entity, now)?;
        if self.check_name {
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}

/// A pinned certificate is still refused outside its validity dates, as libpq refuses it; webpki
/// would check them only along a chain, which a certificate that is its own root does not have.
fn check_validity(cert: &CertificateDer<'_>, now: UnixTime) -> Result<(), rustls::Error> {
    use rustls::CertificateError;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let validity = parsed.validity();
    let at = |t: i64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.max(0) as u64));
    let (not_before, not_after) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    let secs = now.as_secs() as i64;
    if secs < not_before {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYetContext {
                time: now,
                not_before: at(not_before),
            },
        ));
    }
    if secs > not_after {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::ExpiredContext {
                time: now,
                not_after: at(not_after),
            },
        ));
    }
    Ok(())
}

/// The certificates of an sslrootcert file, as they are (none for the bundled roots).
fn pinned(root_cert: Option<&str>) -> Vec<CertificateDer<'static>> {
    match root_cert {
        None | Some("system") => Vec::new(),
        Some(path) => CertificateDer::pem_file_iter(path)
            .map(|certs| certs.filter_map(Result::ok).collect())
            .unwrap_or_default(),
    }
}

fn roots(root_cert: Option<&str>) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    match root_cert {
        None | Some("system") => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                Error::Input(format!("sslrootcert={path}: cannot read certificates: {e}"))
            })?;
            for cert in certs {
                let cert = cert.map_err(|e| Error::Input(format!("sslrootcert={path}: {e}")))?;
                store
                    .add(cert)
                    .map_err(|e| Error::Input(format!("sslrootcert={path}: {e}")))?;
            }
            if store.is_empty() {
                return Err(Error::Input(format!(
                    "sslrootcert={path}: no certificate in the file"
                )));
            }
        }
    }
    Ok(store)
}

/// The TLS connector the URL asks for (`None` for sslmode=disable), and the URL to hand to
/// tokio-postgres.
pub fn connector(url: &str) -> Result<(String, Option<MakeRustlsConnect>), Error> {
    let p = split(url)?;
    if p.mode == SslMode::Disable {
        return Ok((p.url, None));
    }
    let provider = Arc::new(ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Input(format!("TLS setup: {e}")))?;
    let verify_chain = matches!(p.mode, SslMode::VerifyCa | SslMode::VerifyFull)
        || (p.mode == SslMode::Require && p.root_cert.is_some());
    let config = if !verify_chain {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let webpki = WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots(p.root_cert.as_deref())?),
            provider,
        )
        .build()
        .map_err(|e| Error::Input(format!("TLS setup: {e}")))?;
        let check_name = p.mode == SslMode::VerifyFull;
        let chain: Arc<dyn ServerCertVerifier> = if check_name {
            webpki
        } else {
            Arc::new(ChainOnly(webpki))
        };
        let verifier = Pinned {
            roots: pinned(p.root_cert.as_deref()),
            check_name,
            chain,
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    };
    Ok((p.url, Some(MakeRustlsConnect::new(config))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tls_parameters_out_of_both_url_forms() {
        let p = split("postgres://u:pw@db.example.com:5432/app?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x")
            .unwrap();
        assert_eq!(p.mode, SslMode::VerifyFull);
        assert_eq!(p.root_cert.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(
            p.url,
            "postgres://u:pw@db.example.com:5432/app?application_name=x&sslmode=require"
        );
        let p = split("host=localhost user=u sslmode=disable").unwrap();
        assert_eq!(
            (p.mode, p.url.as_str()),
            (SslMode::Disable, "host=localhost user=u sslmode=disable")
        );
        let p = split("postgres://localhost/app").unwrap();
        assert_eq!(
            (p.mode, p.url.as_str()),
            (SslMode::Prefer, "postgres://localhost/app?sslmode=prefer")
        );
        assert!(split("host=x sslmode=bogus").is_err());
    }
}
