//! The public portal (issue 7, migration `0012_portal`; the rules are `zhenxing_core::portal`).
//!
//! - Publications: [`save_announcement`] (a new draft or an edit), [`publish_announcement`]
//!   (from a day, possibly in the future), [`withdraw_announcement`]; [`published`] is what the
//!   public sees. Every change is audited; edits are guarded by `row_version`.
//! - [`declare`]: a self-declaration, stored together with the lead it raises in the
//!   township's warnings inbox (`warnings::raise`, channel `self_declaration`) and its audit
//!   operation, in one write transaction, before the page says "received". A registered
//!   person's declaration goes to the village where the household is registered.
//! - [`submit_ticket`], then [`ticket_inbox`], [`ticket`] and [`take_ticket_step`] for the
//!   officers of the ticket's division.
//! - [`track`]: what the holder of a tracking code may read; [`recover_declaration_code`]: a
//!   new code for a lost one, to whoever knows the declaration's ID and phone numbers.
//! - [`policy`] and [`set_policy`]: the time limits; [`designate`]: the county officers who
//!   read reports about a person.
//!
//! Submissions from the public are audited with the actor `public`, and the audit record holds
//! neither the name, the ID number, the phone number nor the text: only what kind of thing was
//! submitted, where, and its number.
//!
//! One file per part: [`announcements`](self::announcements), [`declarations`](self::declarations),
//! [`tickets`](self::tickets), [`recovery`](self::recovery), and what they share: [`intake`](self::intake) (numbers, tracking
//! codes, the audit operation of a submission) and [`policy`](self::policy) (the time limits).

mod announcements;
mod declarations;
pub(crate) mod intake;
mod policy;
mod recovery;
mod tickets;

pub use announcements::*;
pub use declarations::*;
pub use intake::*;
pub use policy::*;
pub use recovery::*;
pub use tickets::*;

/// The actor of everything the public submits.
pub const PUBLIC_ACTOR: &str = "public";
