//! The TLS trust of the transport: the web roots compiled into the binary,
//! the extra roots the application names, and optional SPKI pins.
//!
//! Nothing here reads the machine: not `SSL_CERT_FILE`, not `SSL_CERT_DIR`,
//! not the operating system's store. Those are the app user's to change, and
//! a user who can add a root can forge every license reply; the vendor's
//! build decides what is trusted.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::ProviderError;

#[cfg(not(any(feature = "aws-lc", feature = "ring")))]
compile_error!(
    "license-gate needs a TLS crypto backend for its HTTP providers: enable the `aws-lc` feature (the default) or the `ring` feature"
);

/// The rustls crypto provider the transport uses: aws-lc-rs with the
/// `aws-lc` feature (the default), else ring with the `ring` feature.
///
/// The testkit serves its emulators with the same one, so one build holds
/// one backend.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    #[cfg(feature = "aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    // rustls 0.23.48 deprecates ring's provider for its lack of post-quantum
    // key exchange; with the `ring` feature that is the user's choice (the
    // feature's docs say so), so the call is no warning in their build.
    #[cfg(all(feature = "ring", not(feature = "aws-lc")))]
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}

/// A SHA-256 hash of a certificate's SubjectPublicKeyInfo: the `pin-sha256`
/// of HTTP public key pinning, given as base64.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SpkiPin([u8; 32]);

impl fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SpkiPin({})",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }
}

impl SpkiPin {
    /// Reads a pin: base64 (standard or URL-safe, padding optional) of 32
    /// bytes, optionally prefixed `sha256/` as curl writes it.
    pub(crate) fn parse(text: &str, index: usize) -> Result<SpkiPin, ProviderError> {
        let trimmed = text.trim();
        let body = trimmed
            .strip_prefix("sha256/")
            .or_else(|| trimmed.strip_prefix("pin-sha256:"))
            .unwrap_or(trimmed)
            .trim_matches('"')
            .trim_end_matches('=');
        let engines = [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bad = |what: &str| {
            ProviderError::Config(format!(
                "SPKI pin #{index} {what}: give the base64 SHA-256 of the server key's SubjectPublicKeyInfo, such as the output of `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`"
            ))
        };
        let bytes = engines
            .iter()
            .find_map(|engine| engine.decode(body).ok())
            .ok_or_else(|| bad("is not base64"))?;
        let hash: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| bad(&format!("is {} bytes long, not 32", b.len())))?;
        Ok(SpkiPin(hash))
    }

    /// The pin of a DER certificate, if it parses.
    pub(crate) fn of_certificate(cert: &CertificateDer<'_>) -> Option<SpkiPin> {
        let parsed = ParsedCertificate::try_from(cert).ok()?;
        let spki = parsed.subject_public_key_info();
        Some(SpkiPin(Sha256::digest(spki.as_ref()).into()))
    }
}

/// The base64 SHA-256 pin of a certificate given in PEM or DER, for
/// [`HttpOptions::spki_pin`](super::HttpOptions::spki_pin).
///
/// Returns `None` when `certificate` holds no certificate that parses.
pub fn spki_pin_of(certificate: &[u8]) -> Option<String> {
    let der = CertificateDer::pem_slice_iter(certificate)
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| CertificateDer::from(certificate.to_vec()));
    let pin = SpkiPin::of_certificate(&der)?;
    Some(base64::engine::general_purpose::STANDARD.encode(pin.0))
}

/// The rustls client configuration for the given extra roots and pins.
pub(crate) fn client_config(
    extra_roots: &[Vec<u8>],
    pins: &[String],
) -> Result<rustls::ClientConfig, ProviderError> {
    let provider = crypto_provider();
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for (index, pem) in extra_roots.iter().enumerate() {
        let bad = |what: String| {
            ProviderError::Config(format!(
                "extra root certificate #{} {what}: pass the PEM text of a CA certificate",
                index + 1
            ))
        };
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("is not valid PEM ({e})")))?;
        if certs.is_empty() {
            return Err(bad("holds no `BEGIN CERTIFICATE` block".to_owned()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| bad(format!("cannot be used as a root ({e})")))?;
        }
    }
    let pins = pins
        .iter()
        .enumerate()
        .map(|(i, p)| SpkiPin::parse(p, i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| {
            ProviderError::Config(format!("could not set up certificate verification: {e}"))
        })?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProviderError::Config(format!("could not set up TLS: {e}")))?;
    let config = if pins.is_empty() {
        builder.with_webpki_verifier(verifier).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                inner: verifier,
                pins,
            }))
            .with_no_client_auth()
    };
    Ok(config)
}

/// The normal chain verification, then: one certificate of the chain must
/// carry a pinned key.
#[derive(Debug)]
struct PinnedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Vec<SpkiPin>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let pinned = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(SpkiPin::of_certificate)
            .any(|pin| self.pins.contains(&pin));
        if pinned {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(PinMismatch)),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The server's certificate chain carries none of the pinned keys.
struct PinMismatch;

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "SPKI pin mismatch: no certificate of the server carries a pinned key; the connection may be intercepted, or the server's key changed and the pins need updating",
        )
    }
}

// rustls prints the error inside `CertificateError::Other` with `Debug`, so
// `Debug` carries the sentence too.
impl fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for PinMismatch {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse_in_the_usual_spellings() {
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let expected = SpkiPin([7u8; 32]);
        assert_eq!(SpkiPin::parse(&b64, 1).unwrap(), expected);
        assert_eq!(
            SpkiPin::parse(&format!("sha256/{b64}"), 1).unwrap(),
            expected
        );
        assert_eq!(
            SpkiPin::parse(b64.trim_end_matches('='), 1).unwrap(),
            expected
        );
        let short = SpkiPin::parse("AAAA", 2).unwrap_err().to_string();
        assert!(short.contains("#2 is 3 bytes long, not 32"), "{short}");
        let junk = SpkiPin::parse("not base64!", 1).unwrap_err().to_string();
        assert!(junk.contains("is not base64"), "{junk}");
    }

    #[test]
    fn bad_extra_roots_say_what_is_wrong() {
        let err = client_config(&[b"hello".to_vec()], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds no `BEGIN CERTIFICATE` block"), "{err}");
        assert!(client_config(&[], &[]).is_ok());
    }
}
