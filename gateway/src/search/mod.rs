//! Search: what an agent typed (`query`), codes however written (`code`),
//! where terms are in a text (`highlight`), the order of results (`rank`),
//! and who a customer is once records were merged (`customers`). Pure: the
//! statements are in `store/search.rs`, the route in `api/search.rs`.

pub mod code;
pub mod customer_page;
pub mod customers;
pub mod highlight;
pub mod machine_page;
pub mod mentions;
pub mod query;
pub mod rank;
pub mod results;

pub use query::Query;
