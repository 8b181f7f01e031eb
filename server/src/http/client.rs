//! The HTTP client one role uses to call the other: timeouts, and how it trusts the peer's HTTPS
//! certificate (the system's roots, plus a CA file, or exactly one pinned certificate).

use std::{path::PathBuf, sync::Arc, time::Duration};

use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use sha2::{Digest, Sha256};

use super::tls::{TlsError, provider};

/// How a peer's certificate is trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerTrust {
    /// Besides the system's roots.
    pub ca: Option<PathBuf>,
    /// Instead of any chain: exactly the certificate with this SHA-256.
    pub pinned_sha256: Option<[u8; 32]>,
}

/// Accepts exactly one certificate, by its SHA-256; signatures are still checked against its key.
#[derive(Debug)]
struct Pinned {
    sha256: [u8; 32],
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if super::super::auth::secret::same(&Sha256::digest(end_entity.as_ref()), &self.sha256) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("the peer's certificate is not the pinned one (--vdc-cert-sha256)".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

pub(crate) fn tls_config(trust: &PeerTrust) -> Result<rustls::ClientConfig, TlsError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    if let Some(sha256) = trust.pinned_sha256 {
        let verifier = Pinned { sha256, algorithms: provider.signature_verification_algorithms };
        return Ok(builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(ca) = &trust.ca {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
            .and_then(|i| i.collect::<Result<_, _>>())
            .map_err(|e| TlsError::Read { path: ca.clone(), message: e.to_string() })?;
        if certs.is_empty() {
            return Err(TlsError::NoCertificate { path: ca.clone() });
        }
        for c in certs {
            roots.add(c).map_err(|e| TlsError::Read { path: ca.clone(), message: e.to_string() })?;
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// A client for calls to the peer role, with `timeout` for each whole call.
pub fn client(trust: &PeerTrust, timeout: Duration) -> Result<reqwest::Client, TlsError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config(trust)?)
        .connect_timeout(Duration::from_secs(3))
        .timeout(timeout)
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))
}
