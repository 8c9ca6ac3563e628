use super::*;

fn suites(v: &[SupportedCipherSuite]) -> Vec<CipherSuite> {
    v.iter().map(|s| s.suite()).collect()
}

#[test]
fn ciphersuites_keep_the_given_order_and_refuse_unknown_names() {
    let v = parse_ciphersuites("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256").unwrap();
    assert_eq!(
        suites(&v),
        [
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            CipherSuite::TLS13_AES_128_GCM_SHA256
        ]
    );
    assert_eq!(parse_ciphersuites("").unwrap().len(), 3);
    let e = parse_ciphersuites("TLS_AES_128_CCM_SHA256").unwrap_err();
    assert!(e.0.contains("'TLS_AES_128_CCM_SHA256'"), "{e}");
}

#[test]
fn ciphers_map_openssl_names_keywords_and_exclusions() {
    let v = parse_ciphers("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384").unwrap();
    assert_eq!(
        suites(&v),
        [
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        ]
    );
    assert_eq!(parse_ciphers("DEFAULT").unwrap().len(), 6);
    assert_eq!(parse_ciphers("HIGH:!aNULL:!MD5").unwrap().len(), 6);
    assert_eq!(
        parse_ciphers("HIGH:!ECDHE-RSA-CHACHA20-POLY1305")
            .unwrap()
            .len(),
        5
    );
    let e = parse_ciphers("DHE-RSA-AES256-SHA").unwrap_err();
    assert!(e.0.contains("'DHE-RSA-AES256-SHA'"), "{e}");
}

#[test]
fn protocols_accept_tls12_and_tls13_only() {
    assert_eq!(parse_protocols("TLSv1.2 TLSv1.3").unwrap().len(), 2);
    assert_eq!(parse_protocols("tlsv1.3").unwrap().len(), 1);
    assert_eq!(parse_protocols("").unwrap().len(), 2);
    assert!(parse_protocols("TLSv1.1 TLSv1.2").is_err());
    assert!(parse_protocols("SSLv3").is_err());
}

#[test]
fn build_names_what_is_missing() {
    let mut s = Settings::default();
    assert_eq!(build(&s).unwrap_err().0, "No tls-cert-file configured!");
    s.cert_file = "/nonexistent/cert.pem".into();
    assert_eq!(build(&s).unwrap_err().0, "No tls-key-file configured!");
    s.key_file = "/nonexistent/key.pem".into();
    assert!(build(&s).unwrap_err().0.contains("tls-ca-cert-file"));
    s.auth_clients = ClientAuth::No;
    assert!(build(&s).unwrap_err().0.contains("/nonexistent/cert.pem"));
    s.key_file_pass = "secret".into();
    assert!(build(&s).unwrap_err().0.contains("tls-key-file-pass"));
}

#[test]
fn a_protocol_without_suites_is_refused() {
    let s = Settings {
        protocols: "TLSv1.3".into(),
        ciphersuites: "".into(),
        ..Default::default()
    };
    assert!(provider(&s).is_ok());
    let s = Settings {
        protocols: "TLSv1.2".into(),
        ciphers: "!ECDHE-RSA-AES128-GCM-SHA256".into(),
        ..Default::default()
    };
    assert!(provider(&s).is_err());
}
