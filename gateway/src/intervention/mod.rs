//! Intervention reports: each resolved case leaves a record the customer and
//! the next expert can read. `content.rs` is the report and what Switchyard
//! proposes from the thread; `markdown.rs` and `pdf.rs` render it; the
//! versions are in `store/interventions.rs`, the routes in `api/interventions.rs`.

pub mod content;
pub mod document;
pub mod knowledge;
pub mod markdown;
pub mod pdf;

pub use content::{ReportContent, labels, prefill};
