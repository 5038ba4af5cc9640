//! Search: what an agent typed (`query`), codes however written (`code`),
//! where terms are in a text (`highlight`), the order of results (`rank`),
//! who a customer is once records were merged (`customers`), what the
//! customer and machine pages show (`customer_page`, `machine_page`). Pure,
//! but for `find`, which runs the reads of `store/search.rs` and ranks what
//! they found; the route is `api/search.rs`.

pub mod code;
pub mod customer_page;
pub mod customers;
pub mod find;
pub mod highlight;
pub mod machine_page;
pub mod mentions;
pub mod query;
pub mod rank;
pub mod results;

pub use query::Query;
