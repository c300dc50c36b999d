//! passTLSClientCert through a real weir with real mutual TLS clients: the PEM header, the
//! info header with every field in Traefik's format, a subset, and no certificate; the
//! access log's `TLSClientSubject` for the same certificate.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use base64::Engine as _;
use http::Request;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType, SerialNumber,
};
use weir_testkit::tls::{self, IssuedCert, TestCa};
use weir_testkit::{WeirProcess, body, client, server, util};

const DYNAMIC: &str = r#"
http:
  routers:
    pem: {rule: "Host(`pem.test`)", middlewares: [pem], service: up, tls: {options: mtls}}
    info: {rule: "Host(`info.test`)", middlewares: [info], service: up, tls: {options: mtls}}
    some: {rule: "Host(`some.test`)", middlewares: [some], service: up, tls: {options: mtls}}
  middlewares:
    pem:
      passTLSClientCert: {pem: true}
    info:
      passTLSClientCert:
        info:
          notAfter: true
          notBefore: true
          sans: true
          serialNumber: true
          subject:
            country: true
            province: true
            locality: true
            organization: true
            organizationalUnit: true
            commonName: true
            serialNumber: true
            domainComponent: true
          issuer:
            country: true
            organization: true
            commonName: true
    some:
      passTLSClientCert:
        pem: true
        info:
          notAfter: true
          subject: {commonName: true}
  services:
    up:
      loadBalancer:
        servers:
          - url: "{{upstream}}"
tls:
  certificates:
    - certFile: "{{dir}}/server.crt"
      keyFile: "{{dir}}/server.key"
  options:
    mtls:
      clientAuth:
        caFiles: ["{{dir}}/client-ca.crt"]
        clientAuthType: VerifyClientCertIfGiven
"#;

/// A client CA and a client certificate with every field the info header can carry.
fn client_cert() -> (String, IssuedCert, Vec<u8>) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CountryName, "FR");
    ca.distinguished_name
        .push(DnType::OrganizationName, "Weir CA");
    ca.distinguished_name
        .push(DnType::CommonName, "weir client CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);

    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    let dn = &mut p.distinguished_name;
    dn.push(
        DnType::CustomDnType(vec![0, 9, 2342, 19_200_300, 100, 1, 25]),
        "example",
    );
    dn.push(DnType::CountryName, "FR");
    dn.push(DnType::StateOrProvinceName, "Ile-de-France");
    dn.push(DnType::LocalityName, "Paris");
    dn.push(DnType::OrganizationName, "Weir Org");
    dn.push(DnType::OrganizationalUnitName, "Edge");
    dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), "1234");
    dn.push(DnType::CommonName, "client.test");
    p.subject_alt_names = vec![
        SanType::URI("spiffe://weir/client".try_into().unwrap()),
        SanType::IpAddress("192.0.2.10".parse().unwrap()),
        SanType::Rfc822Name("alice@example.org".try_into().unwrap()),
        SanType::DnsName("client.test".try_into().unwrap()),
    ];
    p.serial_number = Some(SerialNumber::from(vec![1, 2, 3]));
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2034, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &issuer).unwrap();
    let der = cert.der().to_vec();
    let issued = IssuedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    (ca_pem, issued, der)
}

/// Reverses Go's `url.QueryEscape`, checking the escaped form only uses safe characters.
fn query_unescape(s: &str) -> String {
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~%+".contains(&b)),
        "{s}"
    );
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn pass_tls_client_cert() {
    let upstream = server::echo("up").await.unwrap();
    let server_ca = TestCa::new().unwrap();
    let server_cert = server_ca
        .issue(&["pem.test", "info.test", "some.test"])
        .unwrap();
    let (client_ca, client, der) = client_cert();
    let [websecure, admin] = util::free_ports::<2>().unwrap();
    let static_config = format!(
        "entryPoints:\n  websecure:\n    address: \"127.0.0.1:{websecure}\"\n  traefik:\n    address: \"127.0.0.1:{admin}\"\nping: {{}}\naccessLog:\n  format: json\n  filePath: \"{{{{dir}}}}/access.json\"\nproviders:\n  file:\n    filename: \"{{{{dynamic}}}}\"\n"
    );
    let weir = WeirProcess::builder(env!("CARGO_BIN_EXE_weir"))
        .static_config(&static_config)
        .dynamic_config(&DYNAMIC.replace("{{upstream}}", &upstream.url()))
        .file("server.crt", server_cert.cert_pem.clone())
        .file("server.key", server_cert.key_pem.clone())
        .file("client-ca.crt", client_ca)
        .ping_port(admin)
        .start()
        .await
        .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], websecure));
    let with_cert =
        tls::client_config_with_cert(server_ca.cert_pem(), &[b"h2", b"http/1.1"], &client).unwrap();
    let no_cert = tls::client_config(server_ca.cert_pem(), &[b"h2", b"http/1.1"]).unwrap();
    let spoofed = || {
        Request::get("/")
            .header("x-forwarded-tls-client-cert", "forged")
            .header("x-forwarded-tls-client-cert-info", "forged")
            .body(body::empty())
            .unwrap()
    };
    let pem = base64::engine::general_purpose::STANDARD.encode(&der);

    let r = client::request_tls_with(addr, "pem.test", with_cert.clone(), spoofed())
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", weir.logs());
    let dump = r.echo().unwrap();
    assert_eq!(
        dump.header("x-forwarded-tls-client-cert"),
        Some(pem.as_str())
    );
    assert_eq!(
        dump.header("x-forwarded-tls-client-cert-info"),
        None,
        "the entrypoint drops an untrusted client's copy"
    );

    let r = client::request_tls_with(addr, "info.test", with_cert.clone(), spoofed())
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let dump = r.echo().unwrap();
    assert_eq!(dump.header("x-forwarded-tls-client-cert"), None);
    let info = dump.header("x-forwarded-tls-client-cert-info").unwrap();
    assert_eq!(
        query_unescape(info),
        concat!(
            r#"Subject="DC=example,C=FR,ST=Ile-de-France,L=Paris,O=Weir Org,OU=Edge,SN=1234,CN=client.test";"#,
            r#"Issuer="C=FR,O=Weir CA,CN=weir client CA";"#,
            r#"SerialNumber="66051";"#,
            r#"NB="1704067200";"#,
            r#"NA="2019686400";"#,
            r#"SAN="client.test,alice@example.org,192.0.2.10,spiffe://weir/client""#
        )
    );

    let r = client::request_tls_with(addr, "some.test", with_cert, spoofed())
        .await
        .unwrap();
    let dump = r.echo().unwrap();
    assert_eq!(
        dump.header("x-forwarded-tls-client-cert"),
        Some(pem.as_str())
    );
    assert_eq!(
        query_unescape(dump.header("x-forwarded-tls-client-cert-info").unwrap()),
        r#"Subject="CN=client.test";NA="2019686400""#
    );

    // No client certificate: the request goes on, without the untrusted client's copies.
    let r = client::request_tls_with(addr, "some.test", no_cert, spoofed())
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let dump = r.echo().unwrap();
    assert_eq!(dump.header("x-forwarded-tls-client-cert"), None);
    assert_eq!(dump.header("x-forwarded-tls-client-cert-info"), None);

    // The access log names the client by its certificate's subject, as Go prints it
    // (`pkix.Name.String()`: serial number first, unnamed attributes last as DER hex).
    let log = weir.dir().join("access.json");
    let read = || util::json_lines(&log);
    util::wait_until(std::time::Duration::from_secs(5), async || {
        read().len() >= 4
    })
    .await
    .unwrap();
    let subjects: Vec<_> = read()
        .iter()
        .map(|l| l.get("TLSClientSubject").cloned())
        .collect();
    let subject = serde_json::Value::from(concat!(
        "SERIALNUMBER=1234,CN=client.test,OU=Edge,O=Weir Org,L=Paris,ST=Ile-de-France,C=FR,",
        "0.9.2342.19200300.100.1.25=#13076578616d706c65"
    ));
    assert_eq!(
        subjects,
        [
            Some(subject.clone()),
            Some(subject.clone()),
            Some(subject),
            None
        ]
    );
}
