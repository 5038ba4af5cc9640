//! Level 1: qualifying a conversation before an expert reads it. `qualify`
//! decides, one customer message at a time, which fact to ask for next (one
//! question at a time, stopping when everything is known, when the customer
//! leaves two questions unanswered, or when an agent writes); `questions`
//! words them, with the quick answers a widget or WhatsApp shows. Pure: the
//! state lives in `qualifications` (`store/qualifications.rs`), the step runs
//! in the accept transaction (`pipeline/qualify.rs`). `feedback` words what
//! follows an answer: "did this solve it?" after a knowledge answer, and the
//! satisfaction question after a resolution (`pipeline/feedback.rs`,
//! `store/feedback.rs`).

pub mod feedback;
pub mod qualify;
pub mod questions;

pub use qualify::{Fact, Policy, State, Stop};
