//! The application layer: the use cases that both front ends run, written once. The CLI
//! (`zhenxing-cli`) and the web application (`zhenxing-web`) parse their arguments or requests,
//! call here, and render what comes back (text and progress bars; pages, JSON and HTTP
//! statuses); what a use case decides, checks, writes and audits is decided here.
//!
//! Architecture invariant: no HTTP, no terminal. This crate depends on `core`, `store`, `io`
//! and `engine`, never on axum or clap; messages for people are [`zhenxing_core::Text`], in
//! both languages, and the front end picks one.

pub mod department;
pub mod export;
pub mod households;
pub mod import;
pub mod monitoring;
pub mod visits;
