//! Who may change who holds a conversation. One rule for every path that does
//! (claim, assign, unassign, transfer): a plain agent may take a conversation
//! nobody holds and let go of their own, and may take one over from a
//! colleague only by saying so (the inbox's confirmed "Take over", which the
//! colleague sees at once); stripping a colleague's assignment, moving their
//! conversation away or giving one to someone else is for supervisors.

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
/// `take_over`: the actor explicitly takes the conversation for themselves.
pub fn may_change_holder(
    actor: Actor,
    current: Option<AgentId>,
    current_name: &str,
    wanted: Option<AgentId>,
    take_over: bool,
) -> Result<(), Refusal> {
    if actor.supervisor {
        return Ok(());
    }
    if wanted.is_some_and(|w| w != actor.id) {
        return Err(Refusal::GiveToOther);
    }
    let theirs = current.is_some_and(|c| c != actor.id);
    if theirs && !(take_over && wanted == Some(actor.id)) {
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
        assert_eq!(may_change_holder(AGENT, None, "", Some(ME), false), Ok(()));
        assert_eq!(may_change_holder(AGENT, Some(ME), "me", None, false), Ok(()));
        assert_eq!(may_change_holder(AGENT, Some(ME), "me", Some(ME), false), Ok(()));
        assert_eq!(may_change_holder(AGENT, None, "", None, false), Ok(()));
    }

    #[test]
    fn a_plain_agent_neither_strips_nor_gives_a_colleagues_conversation() {
        let held = |wanted, take_over| may_change_holder(AGENT, Some(COLLEAGUE), "Bea", wanted, take_over);
        assert_eq!(
            held(Some(ME), false),
            Err(Refusal::HeldByOther("Bea".into())),
            "a claim does not take"
        );
        assert_eq!(held(None, false), Err(Refusal::HeldByOther("Bea".into())));
        assert_eq!(
            held(None, true),
            Err(Refusal::HeldByOther("Bea".into())),
            "taking over is for oneself"
        );
        assert_eq!(
            may_change_holder(AGENT, Some(ME), "me", Some(COLLEAGUE), false),
            Err(Refusal::GiveToOther)
        );
        assert_eq!(
            may_change_holder(AGENT, None, "", Some(COLLEAGUE), true),
            Err(Refusal::GiveToOther)
        );
    }

    #[test]
    fn a_plain_agent_takes_over_only_by_saying_so() {
        assert_eq!(may_change_holder(AGENT, Some(COLLEAGUE), "Bea", Some(ME), true), Ok(()));
    }

    #[test]
    fn a_supervisor_moves_anything() {
        let moved = |wanted| may_change_holder(SUPERVISOR, Some(COLLEAGUE), "Bea", wanted, false);
        assert_eq!(moved(Some(AgentId(3))), Ok(()));
        assert_eq!(moved(None), Ok(()));
    }
}
