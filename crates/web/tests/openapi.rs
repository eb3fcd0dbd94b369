#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! The OpenAPI document is generated from the handlers; the snapshot shows every change to the
//! API's contract in review. Accept a deliberate change with `INSTA_UPDATE=always` (or
//! `cargo insta review`) and commit the snapshot.

mod common;

use common::Server;
use utoipa::OpenApi;

#[tokio::test]
async fn the_openapi_document_is_generated_from_the_handlers() {
    let generated = serde_json::to_value(zhenxing_web::api::openapi::ApiDoc::openapi()).unwrap();
    for server in Server::all().await {
        let served = server.get("/api/openapi.json").await;
        assert_eq!(served.status, 200, "{}", served.body);
        assert!(
            served
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
        );
        assert_eq!(
            served.json(),
            generated,
            "the served document is the generated one"
        );
    }
    let paths = generated["paths"].as_object().unwrap();
    for path in [
        "/api/v1/me",
        "/api/v1/divisions/{code}",
        "/api/v1/households",
        "/api/v1/households/{no}",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }
    assert_eq!(
        generated["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    insta::assert_json_snapshot!(generated);
}
