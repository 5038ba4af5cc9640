//! Reports: how the hotline did over a period. `facts` is what the store
//! knows of each conversation, `kpi` the figures defined on it, `period` the
//! local days a report covers, `export` the CSV, `worth` the estimate of
//! expert time saved. All pure; the queries are in
//! `store/reporting.rs`, the routes in `api/reports.rs`.

pub mod export;
pub mod facts;
pub mod kpi;
pub mod mailer;
pub mod period;
pub mod weekly;
pub mod worth;
