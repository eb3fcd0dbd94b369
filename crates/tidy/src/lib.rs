//! The workspace's tidy tests, in the spirit of rust-analyzer's `tidy.rs`: invariants of the
//! source tree that no single crate's tests can see (which crate may depend on what, every web
//! route in the access matrix). They live in `tests/`; this library is empty.
