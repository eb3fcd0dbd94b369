#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! TLS in the application (issue 15): with a certificate made in the test, the server completes
//! TLS 1.2 and TLS 1.3 handshakes, answers with HSTS and marks its cookies `Secure`; a client
//! speaking plain HTTP gets nothing; bad PEM files are clear errors before anything is served.
//! TLS does not touch the database: one SQLite registry is enough.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zhenxing_store::testing::{self, TempDir};

struct Pem {
    dir: TempDir,
    cert: PathBuf,
    key: PathBuf,
}

/// A self-signed certificate for `localhost` and its key, in PEM files.
fn certificate(name: &str) -> Pem {
    let dir = testing::temp_dir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (
        dir.0.join(format!("{name}-cert.pem")),
        dir.0.join(format!("{name}-key.pem")),
    );
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    Pem { dir, cert, key }
}

async fn start(pem: &Pem) -> (SocketAddr, tokio::task::JoinHandle<()>, testing::TestDb) {
    let test_db = testing::sqlite().await.unwrap();
    let tls = zhenxing_web::tls::server_config(&pem.cert, &pem.key).unwrap();
    let config = zhenxing_web::WebConfig::default().served_over_tls();
    let state = zhenxing_web::AppState::new(test_db.db.clone(), false, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        zhenxing_web::serve_tls_on(listener, state, tls)
            .await
            .unwrap();
    });
    (addr, task, test_db)
}

/// GET `path` over TLS `version`, trusting only `cert`: the negotiated version and the head.
async fn get(
    addr: SocketAddr,
    cert: &Path,
    version: &'static rustls::SupportedProtocolVersion,
    path: &str,
) -> (rustls::ProtocolVersion, String) {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(cert).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(zhenxing_web::tls::ring_provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let negotiated = tls.get_ref().1.protocol_version().unwrap();
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    // A server may close without close_notify after `Connection: close`; what was read counts.
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    (negotiated, head)
}

fn header<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

#[tokio::test]
async fn the_server_speaks_tls_1_2_and_1_3_with_hsts_and_secure_cookies() {
    let pem = certificate("serve");
    let (addr, task, _db) = start(&pem).await;
    for (version, expected) in [
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
    ] {
        let (negotiated, head) = get(addr, &pem.cert, version, "/login").await;
        assert_eq!(negotiated, expected);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(
            header(&head, "strict-transport-security"),
            ["max-age=31536000; includeSubDomains"]
        );
        let cookies = header(&head, "set-cookie");
        assert!(!cookies.is_empty(), "{head}");
        assert!(
            cookies.iter().all(|c| c.contains("; Secure")),
            "{cookies:?}"
        );
    }

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = plain.read_to_end(&mut raw).await;
    assert!(!raw.starts_with(b"HTTP/1.1 200"), "{raw:?}");
    // The server still serves after it.
    let (_, head) = get(addr, &pem.cert, &rustls::version::TLS13, "/healthz").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    task.abort();
}

#[tokio::test]
async fn without_tls_there_is_no_hsts() {
    let test_db = testing::sqlite().await.unwrap();
    let state = zhenxing_web::AppState::new(
        test_db.db.clone(),
        false,
        zhenxing_web::WebConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        zhenxing_web::serve_on(listener, state).await.unwrap();
    });
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(
        header(head, "strict-transport-security"),
        Vec::<&str>::new()
    );
    assert!(
        header(head, "set-cookie")
            .iter()
            .all(|c| !c.contains("Secure"))
    );
    task.abort();
}

#[test]
fn bad_pem_files_are_clear_errors() {
    let pem = certificate("bad");
    let other = certificate("other");
    let garbage = pem.dir.0.join("garbage.pem");
    std::fs::write(&garbage, "not a PEM file\n").unwrap();
    let missing = pem.dir.0.join("missing.pem");

    let error = |cert: &Path, key: &Path| {
        zhenxing_web::tls::server_config(cert, key)
            .err()
            .unwrap()
            .en
    };
    let e = error(&missing, &pem.key);
    assert!(e.contains("cannot read the certificate file"), "{e}");
    let e = error(&garbage, &pem.key);
    assert!(e.contains("holds no certificate"), "{e}");
    // A key file given as the certificate holds no certificate either.
    let e = error(&pem.key, &pem.key);
    assert!(e.contains("holds no certificate"), "{e}");
    let e = error(&pem.cert, &garbage);
    assert!(e.contains("cannot read a private key"), "{e}");
    let e = error(&pem.cert, &pem.cert);
    assert!(e.contains("cannot read a private key"), "{e}");
    let e = error(&pem.cert, &other.key);
    assert!(e.contains("cannot be used together"), "{e}");
    assert!(zhenxing_web::tls::server_config(&pem.cert, &pem.key).is_ok());
}
