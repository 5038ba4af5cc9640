//! Personal data: what a customer may ask for under the GDPR, and how long
//! Switchyard keeps it. `export` builds the archive of everything held about
//! one customer (an access request), `erasure` decides what erasing them
//! touches, `retention` what each policy lets go of and when, and `job` runs
//! the policies every day. Every export, erasure and retention run is written
//! to the audit log, which records who, when, about whom (a keyed digest once
//! erased) and how much — never the data itself.

pub mod eraser;
pub mod erasure;
pub mod export;
pub mod job;
pub mod retention;
