//! `tern-tls`: rustls configurations built from Redis's `tls-*` directives.
//!
//! The server (`tern-server`) builds a [`Contexts`] from [`Settings`] at start-up and again on
//! every CONFIG SET of a `tls-*` directive: one rustls `ServerConfig` for the `tls-port`
//! listener and one `ClientConfig` for the connections it opens itself (a replica to its
//! primary with `tls-replication`). `tern tail` builds a client configuration from redis-cli's
//! flags with [`client_config`]. Nothing here touches a socket.
//!
//! Redis's model is kept where rustls allows it:
//! - Peers are verified against the CA (`tls-ca-cert-file` and/or every certificate in
//!   `tls-ca-cert-dir`), chain and validity only: like Redis (OpenSSL's `SSL_VERIFY_PEER`
//!   without a host check), a replica does not require the primary's certificate to name the
//!   host it connects to.
//! - `tls-auth-clients yes|optional|no` is mutual TLS: required, verified when offered, or
//!   never asked.
//! - `tls-protocols`, `tls-ciphers` (TLS 1.2, OpenSSL names) and `tls-ciphersuites` (TLS 1.3)
//!   select among what rustls supports with the `ring` provider; an unknown or unsupported
//!   name is an error naming it, never silently ignored.
//! - Private keys must be unencrypted PEM (PKCS#8, PKCS#1 or SEC1): rustls cannot decrypt a
//!   key, so `tls-key-file-pass` is refused when set.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, CipherSuite, ClientConfig, DigitallySignedStruct, RootCertStore,
    ServerConfig, SignatureScheme, SupportedCipherSuite, SupportedProtocolVersion,
};

pub use rustls;

/// A configuration problem, with the directive or file it is about.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

fn error(msg: impl Into<String>) -> Error {
    Error(msg.into())
}

/// `tls-auth-clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// Clients are not asked for a certificate.
    No,
    /// A client must present a certificate the CA signed (Redis's default).
    #[default]
    Yes,
    /// A client may present one; if it does, it must verify.
    Optional,
}

/// The `tls-*` directives that shape the contexts (empty strings mean unset).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `tls-cert-file`: the server's certificate chain (PEM).
    pub cert_file: String,
    /// `tls-key-file`: its private key (PEM).
    pub key_file: String,
    /// `tls-key-file-pass`: refused when set (see the crate docs).
    pub key_file_pass: String,
    /// `tls-client-cert-file`: the certificate for outgoing connections (else `cert_file`).
    pub client_cert_file: String,
    /// `tls-client-key-file`: its key (else `key_file`).
    pub client_key_file: String,
    /// `tls-client-key-file-pass`: refused when set.
    pub client_key_file_pass: String,
    /// `tls-ca-cert-file`: trusted CA certificates (PEM, one or more).
    pub ca_cert_file: String,
    /// `tls-ca-cert-dir`: a directory whose PEM files are all trusted CA certificates.
    pub ca_cert_dir: String,
    /// `tls-auth-clients`.
    pub auth_clients: ClientAuth,
    /// `tls-protocols`, e.g. "TLSv1.2 TLSv1.3" (empty: both).
    pub protocols: String,
    /// `tls-ciphers`: OpenSSL's TLS 1.2 cipher list syntax (empty: all supported).
    pub ciphers: String,
    /// `tls-ciphersuites`: TLS 1.3 suites, colon separated (empty: all supported).
    pub ciphersuites: String,
    /// `tls-prefer-server-ciphers`: the server's order of suites wins.
    pub prefer_server_ciphers: bool,
    /// `tls-session-caching`: keep sessions for resumption.
    pub session_caching: bool,
    /// `tls-session-cache-size`: sessions kept.
    pub session_cache_size: usize,
    /// A CA is required even without client authentication (`tls-replication`,
    /// `tls-cluster`: this server verifies the peers it connects to).
    pub need_ca: bool,
}

/// The two rustls configurations a server uses.
#[derive(Debug, Clone)]
pub struct Contexts {
    /// For connections accepted on `tls-port`.
    pub server: Arc<ServerConfig>,
    /// For connections this server opens (a replica to its primary).
    pub client: Arc<ClientConfig>,
}

/// TLS 1.3 suites by their OpenSSL (and IANA) names, as `tls-ciphersuites` lists them.
const TLS13: &[(&str, CipherSuite)] = &[
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// TLS 1.2 suites by their OpenSSL names, as `tls-ciphers` lists them.
const TLS12: &[(&str, CipherSuite)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// OpenSSL cipher-list keywords that select every TLS 1.2 suite rustls offers (all of them
/// are ECDHE with AEAD ciphers, so these groups all contain every one).
const ALL12: &[&str] = &[
    "DEFAULT", "ALL", "HIGH", "ECDHE", "EECDH", "KEECDH", "AESGCM", "AEAD", "TLSV1.2",
];

fn suite(cs: CipherSuite) -> Option<SupportedCipherSuite> {
    ring::ALL_CIPHER_SUITES
        .iter()
        .copied()
        .find(|s| s.suite() == cs)
}

/// `tls-ciphersuites`: TLS 1.3 suites in the order given.
pub fn parse_ciphersuites(spec: &str) -> Result<Vec<SupportedCipherSuite>, Error> {
    if spec.trim().is_empty() {
        return Ok(TLS13.iter().filter_map(|(_, cs)| suite(*cs)).collect());
    }
    let mut out = Vec::new();
    for name in spec.split([':', ',', ' ']).filter(|s| !s.is_empty()) {
        let Some((_, cs)) = TLS13.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
            return Err(error(format!(
                "tls-ciphersuites: unknown or unsupported TLS 1.3 cipher suite '{name}' (supported: {})",
                names(TLS13)
            )));
        };
        if let Some(s) = suite(*cs).filter(|s| !out.contains(s)) {
            out.push(s);
        }
    }
    Ok(out)
}

fn names(t: &[(&str, CipherSuite)]) -> String {
    t.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ")
}

/// `tls-ciphers`: TLS 1.2 suites from an OpenSSL cipher list (`:`, `,` or space separated).
/// Names select suites in order; DEFAULT, HIGH, ALL and the ECDHE/AESGCM groups select every
/// supported suite; `!x` and `-x` remove a named suite (excluding a cipher rustls never
/// offers, such as `!aNULL` or `!MD5`, is accepted and changes nothing); `+x` and `@...`
/// directives are accepted and ignored. Any other name is an error.
pub fn parse_ciphers(spec: &str) -> Result<Vec<SupportedCipherSuite>, Error> {
    let all: Vec<SupportedCipherSuite> = TLS12.iter().filter_map(|(_, cs)| suite(*cs)).collect();
    if spec.trim().is_empty() {
        return Ok(all);
    }
    let mut out: Vec<SupportedCipherSuite> = Vec::new();
    for tok in spec.split([':', ',', ' ']).filter(|s| !s.is_empty()) {
        let find = |name: &str| {
            TLS12
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .and_then(|(_, cs)| suite(*cs))
        };
        if let Some(rest) = tok.strip_prefix(['!', '-']) {
            if let Some(s) = find(rest) {
                out.retain(|x| *x != s);
            }
            continue;
        }
        if tok.starts_with(['+', '@']) {
            continue;
        }
        if ALL12.iter().any(|k| k.eq_ignore_ascii_case(tok)) {
            for s in &all {
                if !out.contains(s) {
                    out.push(*s);
                }
            }
            continue;
        }
        match find(tok) {
            Some(s) => {
                if !out.contains(&s) {
                    out.push(s)
                }
            }
            None => {
                return Err(error(format!(
                    "tls-ciphers: unknown or unsupported TLS 1.2 cipher '{tok}' (supported: {})",
                    names(TLS12)
                )))
            }
        }
    }
    Ok(out)
}

/// `tls-protocols`: "TLSv1.2", "TLSv1.3" or both (case-insensitive); empty means both.
pub fn parse_protocols(spec: &str) -> Result<Vec<&'static SupportedProtocolVersion>, Error> {
    if spec.trim().is_empty() {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    }
    let mut out: Vec<&'static SupportedProtocolVersion> = Vec::new();
    for p in spec.split_whitespace() {
        let v = match p.to_ascii_lowercase().as_str() {
            "tlsv1.2" => &rustls::version::TLS12,
            "tlsv1.3" => &rustls::version::TLS13,
            "tlsv1" | "tlsv1.1" => {
                return Err(error(format!(
                    "tls-protocols: {p} is not supported (TLSv1.2 and TLSv1.3 are)"
                )))
            }
            _ => return Err(error(format!("tls-protocols: unknown protocol '{p}'"))),
        };
        if !out.iter().any(|x| x.version == v.version) {
            out.push(v);
        }
    }
    Ok(out)
}

/// A provider limited to the suites the settings select, in their order.
fn provider(s: &Settings) -> Result<Arc<CryptoProvider>, Error> {
    let versions = parse_protocols(&s.protocols)?;
    let mut suites = Vec::new();
    if versions
        .iter()
        .any(|v| v.version == rustls::ProtocolVersion::TLSv1_3)
    {
        suites.extend(parse_ciphersuites(&s.ciphersuites)?);
    } else {
        parse_ciphersuites(&s.ciphersuites)?;
    }
    if versions
        .iter()
        .any(|v| v.version == rustls::ProtocolVersion::TLSv1_2)
    {
        suites.extend(parse_ciphers(&s.ciphers)?);
    } else {
        parse_ciphers(&s.ciphers)?;
    }
    if suites.is_empty() {
        return Err(error(
            "no cipher suite left for the enabled protocols (tls-protocols, tls-ciphers, tls-ciphersuites)",
        ));
    }
    Ok(Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..ring::default_provider()
    }))
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(format!("can't read certificate file {path}: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| error(format!("can't parse certificate file {path}: {e}")))?;
    if certs.is_empty() {
        return Err(error(format!("no certificate found in {path}")));
    }
    Ok(certs)
}

/// The private key in a PEM file (PKCS#8, PKCS#1 or SEC1, unencrypted).
pub fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| error(format!("can't load private key file {path}: {e}")))
}

/// The trusted CAs: `ca_file`'s certificates and every certificate found in the files of
/// `ca_dir` (OpenSSL's hashed links included; files that hold none are skipped).
pub fn load_roots(ca_file: &str, ca_dir: &str) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    if !ca_file.is_empty() {
        for c in load_certs(ca_file)? {
            roots
                .add(c)
                .map_err(|e| error(format!("bad CA certificate in {ca_file}: {e}")))?;
        }
    }
    if !ca_dir.is_empty() {
        let rd = std::fs::read_dir(ca_dir)
            .map_err(|e| error(format!("can't read CA directory {ca_dir}: {e}")))?;
        let mut paths: Vec<std::path::PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for p in paths {
            let Ok(iter) = CertificateDer::pem_file_iter(&p) else {
                continue;
            };
            for c in iter.flatten() {
                // A file of the directory that is not a CA certificate is skipped, as
                // OpenSSL's lookup would never use it.
                let _ = roots.add(c);
            }
        }
    }
    if roots.is_empty() {
        return Err(error(format!(
            "no CA certificate found (tls-ca-cert-file '{ca_file}', tls-ca-cert-dir '{ca_dir}')"
        )));
    }
    Ok(roots)
}

fn no_pass(what: &str, pass: &str) -> Result<(), Error> {
    if pass.is_empty() {
        Ok(())
    } else {
        Err(error(format!(
            "{what} is set, but encrypted private keys are not supported: decrypt the key \
             (openssl pkey -in key.pem -out plain.pem) and leave {what} empty"
        )))
    }
}

/// Builds both contexts (see the crate docs). Errors name the directive or file at fault.
pub fn build(s: &Settings) -> Result<Contexts, Error> {
    if s.cert_file.is_empty() {
        return Err(error("No tls-cert-file configured!"));
    }
    if s.key_file.is_empty() {
        return Err(error("No tls-key-file configured!"));
    }
    no_pass("tls-key-file-pass", &s.key_file_pass)?;
    no_pass("tls-client-key-file-pass", &s.client_key_file_pass)?;
    let need_ca = s.need_ca || s.auth_clients != ClientAuth::No;
    if need_ca && s.ca_cert_file.is_empty() && s.ca_cert_dir.is_empty() {
        return Err(error(
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, \
             tls-replication or tls-auth-clients are enabled!",
        ));
    }
    let provider = provider(s)?;
    let versions = parse_protocols(&s.protocols)?;
    let roots = if s.ca_cert_file.is_empty() && s.ca_cert_dir.is_empty() {
        None
    } else {
        Some(Arc::new(load_roots(&s.ca_cert_file, &s.ca_cert_dir)?))
    };
    let certs = load_certs(&s.cert_file)?;
    let key = load_key(&s.key_file)?;

    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| error(format!("tls-protocols: {e}")))?;
    let builder = match (s.auth_clients, &roots) {
        (ClientAuth::No, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(roots)) => {
            let mut v =
                WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
            if auth == ClientAuth::Optional {
                v = v.allow_unauthenticated();
            }
            let v = v
                .build()
                .map_err(|e| error(format!("client certificate verifier: {e}")))?;
            builder.with_client_cert_verifier(v)
        }
    };
    let mut server = builder
        .with_single_cert(certs.clone(), key.clone_key())
        .map_err(|e| {
            error(format!(
                "tls-cert-file {} / tls-key-file {}: {e}",
                s.cert_file, s.key_file
            ))
        })?;
    server.ignore_client_order = s.prefer_server_ciphers;
    server.session_storage = if s.session_caching && s.session_cache_size > 0 {
        rustls::server::ServerSessionMemoryCache::new(s.session_cache_size)
    } else {
        Arc::new(rustls::server::NoServerSessionStorage {})
    };

    // Outgoing connections present the client certificate if one is configured, else the
    // server's own (as Redis does).
    let (ccerts, ckey) = if !s.client_cert_file.is_empty() && !s.client_key_file.is_empty() {
        (
            load_certs(&s.client_cert_file)?,
            load_key(&s.client_key_file)?,
        )
    } else {
        (certs, key)
    };
    let client = client_builder(&provider, &versions, roots, false)?
        .with_client_auth_cert(ccerts, ckey)
        .map_err(|e| error(format!("client certificate: {e}")))?;
    Ok(Contexts {
        server: Arc::new(server),
        client: Arc::new(client),
    })
}

fn client_builder(
    provider: &Arc<CryptoProvider>,
    versions: &[&'static SupportedProtocolVersion],
    roots: Option<Arc<RootCertStore>>,
    insecure: bool,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>, Error> {
    let verifier: Arc<dyn ServerCertVerifier> = match roots {
        Some(roots) if !insecure => Arc::new(ChainOnly(
            WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| error(format!("server certificate verifier: {e}")))?,
        )),
        Some(_) | None if insecure => Arc::new(Insecure(provider.clone())),
        _ => {
            return Err(error(
                "no CA to verify the server with (a CA certificate file or directory is needed, or insecure mode)",
            ))
        }
    };
    Ok(ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| error(format!("tls-protocols: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier))
}

/// Options of a TLS client such as `tern tail` (redis-cli's `--tls` flags).
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// `--cacert`: CA certificates file.
    pub ca_file: Option<String>,
    /// `--cacertdir`: a directory of CA certificates.
    pub ca_dir: Option<String>,
    /// `--cert`: client certificate (for servers with `tls-auth-clients yes`).
    pub cert: Option<String>,
    /// `--key`: its private key.
    pub key: Option<String>,
    /// `--insecure`: do not verify the server's certificate.
    pub insecure: bool,
    /// `--sni`: the server name to send (else the host connected to).
    pub sni: Option<String>,
}

/// A client configuration from [`ClientOptions`].
pub fn client_config(o: &ClientOptions) -> Result<Arc<ClientConfig>, Error> {
    let provider = Arc::new(ring::default_provider());
    let versions = parse_protocols("")?;
    let (ca_file, ca_dir) = (
        o.ca_file.clone().unwrap_or_default(),
        o.ca_dir.clone().unwrap_or_default(),
    );
    let roots = if o.insecure || (ca_file.is_empty() && ca_dir.is_empty()) {
        None
    } else {
        Some(Arc::new(load_roots(&ca_file, &ca_dir)?))
    };
    if roots.is_none() && !o.insecure {
        return Err(error(
            "--tls needs --cacert or --cacertdir to verify the server (or --insecure)",
        ));
    }
    let b = client_builder(&provider, &versions, roots, o.insecure)?;
    let cfg = match (&o.cert, &o.key) {
        (Some(c), Some(k)) => b
            .with_client_auth_cert(load_certs(c)?, load_key(k)?)
            .map_err(|e| error(format!("client certificate: {e}")))?,
        (None, None) => b.with_no_client_auth(),
        _ => return Err(error("--cert and --key go together")),
    };
    Ok(Arc::new(cfg))
}

/// The name to verify and send as SNI: `sni` if given, else `host` (an IP address is sent
/// as no SNI, as TLS requires).
pub fn server_name(host: &str, sni: Option<&str>) -> Result<ServerName<'static>, Error> {
    let name = sni
        .unwrap_or(host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    ServerName::try_from(name.to_string())
        .map_err(|e| error(format!("invalid server name '{name}': {e}")))
}

/// Verifies the chain and validity like OpenSSL's `SSL_VERIFY_PEER` (Redis's replicas, hiredis
/// and redis-cli), but not the host name: a name mismatch is accepted (webpki checks the name
/// after the chain, so that error means the chain verified).
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
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `--insecure`: any certificate is accepted; the handshake signatures are still checked.
#[derive(Debug)]
struct Insecure(Arc<CryptoProvider>);

impl ServerCertVerifier for Insecure {
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

#[cfg(test)]
mod tests;
