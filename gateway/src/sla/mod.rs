//! Service levels: business calendars, the policy of each priority, and the
//! timers that count a conversation's first response, next response and
//! resolution in business time — persisted, paused while waiting for the
//! customer, and fired once by the worker even across restarts.

pub(crate) mod calendar;
pub mod edit;
mod handle;
mod policy;
mod state;
mod worker;

pub use calendar::Calendar;
pub use handle::SlaHandle;
pub use policy::{SlaPolicies, TimerKind};
pub use state::{SlaState, SlaView, view};
pub use worker::{Breach, SlaWorker};
