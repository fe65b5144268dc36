//! TLS to PostgreSQL by rustls, as `sslmode` asks.

use crate::Error;
use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What `sslmode` asks (libpq's meanings).
#[derive(Clone, Debug)]
pub(crate) enum Tls {
    /// No TLS.
    Disable,
    /// TLS if the server offers it, its certificate unchecked (libpq's default).
    Prefer,
    /// TLS, its certificate unchecked.
    Require,
    /// TLS, the certificate checked against the web's roots and those in a file, and issued
    /// for the host.
    VerifyFull {
        /// `sslrootcert`: PEM certificates to trust besides the web's roots.
        roots: Option<PathBuf>,
    },
}

impl Tls {
    pub(crate) fn new(mode: Option<&str>, roots: Option<String>) -> Result<Tls, Error> {
        let tls = match mode.unwrap_or("prefer") {
            "disable" => Tls::Disable,
            "prefer" => Tls::Prefer,
            "require" => Tls::Require,
            "verify-full" => Tls::VerifyFull {
                roots: roots.clone().map(PathBuf::from),
            },
            "verify-ca" | "allow" => {
                return Err(Error::Location(format!(
                    "sslmode={} is not offered: use verify-full (the certificate and the host name checked), require or disable",
                    mode.unwrap_or_default()
                )))
            }
            other => {
                return Err(Error::Location(format!(
                    "unknown sslmode {:?}: disable, prefer, require or verify-full",
                    giosg_query::printable(other)
                )))
            }
        };
        if roots.is_some() && !matches!(tls, Tls::VerifyFull { .. }) {
            return Err(Error::Location(
                "sslrootcert is used with sslmode=verify-full only".into(),
            ));
        }
        Ok(tls)
    }

    pub(crate) fn ssl_mode(&self) -> SslMode {
        match self {
            Tls::Disable => SslMode::Disable,
            Tls::Prefer => SslMode::Prefer,
            Tls::Require | Tls::VerifyFull { .. } => SslMode::Require,
        }
    }

    /// The connector, `None` without TLS.
    pub(crate) fn connector(&self) -> Result<Option<MakeRustlsConnect>, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Location(format!("TLS: {e}")))?;
        let config = match self {
            Tls::Disable => return Ok(None),
            Tls::Prefer | Tls::Require => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth(),
            Tls::VerifyFull { roots } => {
                let mut store = rustls::RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                };
                if let Some(path) = roots {
                    add_roots(&mut store, path)?;
                }
                builder.with_root_certificates(store).with_no_client_auth()
            }
        };
        Ok(Some(MakeRustlsConnect::new(config)))
    }
}

/// Adds the PEM certificates of `path` to `store`.
fn add_roots(store: &mut rustls::RootCertStore, path: &PathBuf) -> Result<(), Error> {
    use rustls::pki_types::pem::PemObject;
    let unreadable = |why: String| {
        Error::Location(format!(
            "sslrootcert {}: {why}",
            giosg_query::printable(&path.display().to_string())
        ))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    if certs.is_empty() {
        return Err(unreadable("holds no PEM certificate".into()));
    }
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| unreadable(format!("a certificate cannot be used: {e}")))?;
    }
    Ok(())
}

/// `sslmode` `prefer` and `require`: the connection is encrypted, the server not
/// authenticated (libpq's meaning without a root certificate). The handshake's signatures are
/// still checked, so the session's keys are the certificate holder's.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
