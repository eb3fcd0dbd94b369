//! What became of a request that changes a record: the one answer every write in the store gives
//! its callers, so that each front end maps it to a response in one place.

use zhenxing_core::Text;

/// What became of a request on a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    Done(T),
    /// Someone acted on the record after the page was loaded; nothing was written.
    Stale,
    /// Not in the actor's scope, or no such record.
    NotFound,
    /// Not allowed, with the reason.
    Refused(Text),
}

/// What a write of a versioned row answers when it is done: the row's id and its new
/// `row_version` (the version the next page must send back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub id: i64,
    pub version: i64,
}
