#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The server answers over real HTTP on port 0 against a fresh database.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zhenxing_store::testing;

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn health_and_status_pages_answer_with_security_headers() {
    for t in testing::all().await.unwrap() {
        let state = zhenxing_web::AppState {
            db: t.db.clone(),
            demo: true,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, zhenxing_web::router(state))
                .await
                .unwrap();
        });

        let health = get(addr, "/healthz").await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        assert!(health.contains(r#"{"status":"ok"}"#), "{health}");

        let page = get(addr, "/").await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("38"), "the 38 counties are counted: {page}");
        assert!(
            page.contains("演示数据") && page.contains("synthetic"),
            "a demo says so"
        );
        for header in [
            "content-security-policy: default-src 'none'",
            "x-content-type-options: nosniff",
            "referrer-policy: no-referrer",
            "x-frame-options: DENY",
        ] {
            assert!(
                page.to_lowercase().contains(&header.to_lowercase()),
                "{header} missing: {page}"
            );
        }

        let missing = get(addr, "/households/%3Cscript%3E").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        assert!(
            !missing.contains("<script>"),
            "nothing from the URL is echoed"
        );
        server.abort();
    }
}
