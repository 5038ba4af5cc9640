//! Who may change who holds a conversation. One rule for every path that does
//! (claim, assign, unassign, transfer): a plain agent may take a conversation
//! nobody holds, and let go of their own; taking one from a colleague or
//! giving one to someone else is for supervisors.

use crate::ids::AgentId;

/// The agent asking for the change.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub id: AgentId,
    pub supervisor: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Someone else holds it; their name.
    HeldByOther(String),
    /// Giving a conversation to another agent.
    GiveToOther,
}

/// Whether `actor` may move the conversation from `current` (held by
/// `current_name`) to `wanted`.
pub fn may_change_holder(
    actor: Actor,
    current: Option<AgentId>,
    current_name: &str,
    wanted: Option<AgentId>,
) -> Result<(), Refusal> {
    if actor.supervisor {
        return Ok(());
    }
    if wanted.is_some_and(|w| w != actor.id) {
        return Err(Refusal::GiveToOther);
    }
    if current.is_some_and(|c| c != actor.id) {
        return Err(Refusal::HeldByOther(current_name.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: AgentId = AgentId(1);
    const COLLEAGUE: AgentId = AgentId(2);
    const AGENT: Actor = Actor {
        id: ME,
        supervisor: false,
    };
    const SUPERVISOR: Actor = Actor {
        id: ME,
        supervisor: true,
    };

    #[test]
    fn a_plain_agent_takes_free_conversations_and_lets_go_of_their_own() {
        assert_eq!(may_change_holder(AGENT, None, "", Some(ME)), Ok(()));
        assert_eq!(may_change_holder(AGENT, Some(ME), "me", None), Ok(()));
        assert_eq!(may_change_holder(AGENT, Some(ME), "me", Some(ME)), Ok(()));
        assert_eq!(may_change_holder(AGENT, None, "", None), Ok(()));
    }

    #[test]
    fn a_plain_agent_neither_takes_from_nor_gives_to_a_colleague() {
        assert_eq!(
            may_change_holder(AGENT, Some(COLLEAGUE), "Bea", Some(ME)),
            Err(Refusal::HeldByOther("Bea".into()))
        );
        assert_eq!(
            may_change_holder(AGENT, Some(COLLEAGUE), "Bea", None),
            Err(Refusal::HeldByOther("Bea".into()))
        );
        assert_eq!(
            may_change_holder(AGENT, Some(ME), "me", Some(COLLEAGUE)),
            Err(Refusal::GiveToOther)
        );
        assert_eq!(
            may_change_holder(AGENT, None, "", Some(COLLEAGUE)),
            Err(Refusal::GiveToOther)
        );
    }

    #[test]
    fn a_supervisor_moves_anything() {
        assert_eq!(
            may_change_holder(SUPERVISOR, Some(COLLEAGUE), "Bea", Some(AgentId(3))),
            Ok(())
        );
        assert_eq!(may_change_holder(SUPERVISOR, Some(COLLEAGUE), "Bea", None), Ok(()));
    }
}
