//! Personal data: what a customer may ask for under the GDPR. `export`
//! builds the archive of everything Switchyard holds about one customer (an
//! access request); each export is written to the audit log, which records
//! who asked, when, about whom and how much — never the data itself.

pub mod export;
