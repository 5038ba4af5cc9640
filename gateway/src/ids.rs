//! Typed ids, so a message id is never passed where a conversation id belongs.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($name:ident) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(ConversationId);
id_type!(MessageId);
id_type!(AgentId);
id_type!(OutboxId);

impl ConversationId {
    /// The reference customers and agents see, also used as the email subject tag.
    pub fn ticket(self) -> String {
        format!("SY-{}", self.0)
    }
}
