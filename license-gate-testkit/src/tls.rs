//! A throw-away certificate authority for TLS tests on loopback.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A test CA and a server certificate it signed for `localhost` and `127.0.0.1`.
///
/// Trust [`TestCertificate::ca_pem`] in the client (the providers'
/// `extra_root_certificates` option) and serve with
/// [`TestCertificate::server_config`].
#[derive(Debug, Clone)]
pub struct TestCertificate {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl TestCertificate {
    /// Generates a fresh CA and a server certificate for loopback.
    pub fn localhost() -> Self {
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).expect("empty SAN list is valid");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "license-gate test CA");
        let ca_key = KeyPair::generate().expect("key generation works");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");

        let leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("valid SANs");
        let leaf_key = KeyPair::generate().expect("key generation works");
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca)
            .expect("leaf certificate");

        TestCertificate {
            ca_pem: ca.as_ref().pem(),
            chain: vec![leaf.der().clone(), ca.as_ref().der().clone()],
            key_der: leaf_key.serialize_der(),
        }
    }

    /// The CA certificate in PEM, for the client's trust store.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A rustls server configuration presenting the loopback certificate.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        // The crypto backend the runtime was built with (`aws-lc` or `ring`).
        let config =
            ServerConfig::builder_with_provider(license_gate_runtime::transport::crypto_provider())
                .with_safe_default_protocol_versions()
                .expect("default protocol versions")
                .with_no_client_auth()
                .with_single_cert(self.chain.clone(), key)
                .expect("certificate and key match");
        Arc::new(config)
    }
}
