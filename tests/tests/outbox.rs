//! The outbox worker, driven step by step with a manual clock: transient
//! failures retry with growing delays, permanent ones stop with the reason,
//! and a worker gives up after its attempts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use e2e::test_config;
use gateway::clock::Clock;
use gateway::config::OutboxConfig;
use gateway::events::Events;
use gateway::ids::{AgentId, ConversationId};
use gateway::outbox::{ChannelSender, Delivery, OutgoingMessage, Step, Worker};
use gateway::server::Gateway;
use gateway::store::conversations::AgentMessage;
use gateway::store::messages::{Direction, MessageRow};
use gateway::store::outbox::Recorded;

/// Answers with the scripted outcomes in order, then delivers.
struct Scripted {
    outcomes: Mutex<Vec<Delivery>>,
    seen: Mutex<Vec<String>>,
}

#[async_trait]
impl ChannelSender for Scripted {
    async fn send(&self, msg: &OutgoingMessage) -> Delivery {
        self.seen.lock().map(|mut s| s.push(msg.message.body.clone())).ok();
        let mut outcomes = self.outcomes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if outcomes.is_empty() {
            Delivery::Delivered {
                external_id: Some("ext-1".into()),
            }
        } else {
            outcomes.remove(0)
        }
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    gateway: Gateway,
    worker: Worker,
    sender: Arc<Scripted>,
    clock: Clock,
    conversation: ConversationId,
}

async fn setup(outcomes: Vec<Delivery>, max_attempts: i64) -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::manual(1_800_000_000_000);
    let gateway = Gateway::start(test_config(dir.path()), clock.clone()).await?;
    let inbound = channels::Inbound {
        channel: channels::ChannelKind::Email,
        endpoint: "sav".into(),
        external_id: "<m1@example.com>".into(),
        thread_hints: Default::default(),
        from: channels::Participant {
            address: "client@example.com".into(),
            name: None,
        },
        to: vec![],
        cc: vec![],
        contact: Default::default(),
        subject: Some("Question".into()),
        text: "Bonjour, une question sur la notice".into(),
        quoted: None,
        html: None,
        attachments: vec![],
        sent_at: None,
        language: None,
        auto: channels::AutoFlags {
            auto_reply: true,
            ..Default::default()
        },
        raw_ref: None,
        bounce: None,
    };
    // An auto-reply gets no acknowledgement, so the only outbox row is the agent's.
    let accepted = gateway.state.pipeline.submit(inbound).await?;
    let sender = Arc::new(Scripted {
        outcomes: Mutex::new(outcomes),
        seen: Mutex::new(Vec::new()),
    });
    let mut senders: HashMap<&'static str, Arc<dyn ChannelSender>> = HashMap::new();
    senders.insert("email", sender.clone());
    let config = OutboxConfig {
        max_attempts,
        retry_base_secs: 2,
        retry_max_secs: 300,
    };
    let worker = Worker::new(
        gateway.state.store.clone(),
        senders,
        Events::new(),
        clock.clone(),
        config,
        gateway::outbox::OutboxWake::new(),
    );
    gateway
        .state
        .store
        .add_agent_message(
            accepted.conversation_id,
            &AgentMessage {
                agent: AgentId(1),
                agent_name: "Admin",
                text: "Voici la notice.",
                direction: Direction::Out,
                payload: None,
                attachments: &[],
                upload_owner: "agent:1",
            },
            clock.now_ms(),
        )
        .await?;
    Ok(Setup {
        _dir: dir,
        gateway,
        worker,
        sender,
        clock,
        conversation: accepted.conversation_id,
    })
}

/// The agent's reply in the conversation, as stored.
async fn reply_of(gateway: &Gateway, conversation: ConversationId) -> anyhow::Result<MessageRow> {
    let messages = gateway.state.store.messages(conversation, true).await?;
    messages
        .into_iter()
        .find(|m| m.direction == "out")
        .ok_or_else(|| anyhow::anyhow!("no reply"))
}

#[tokio::test]
async fn transient_failures_retry_with_backoff_then_deliver() -> anyhow::Result<()> {
    let Setup {
        _dir,
        gateway,
        worker,
        sender,
        clock,
        conversation,
    } = setup(
        vec![
            Delivery::Transient("connection reset".into()),
            Delivery::Transient("timeout".into()),
        ],
        10,
    )
    .await?;
    let now = clock.now_ms();

    let step = worker.try_deliver_one().await?;
    assert!(
        matches!(&step, Step::Done { recorded: Recorded::Retry { at, .. }, .. } if *at == now + 2_000),
        "{step:?}"
    );
    assert_eq!(worker.try_deliver_one().await?, Step::Idle, "not due yet");

    clock.advance(2_000);
    let step = worker.try_deliver_one().await?;
    assert!(
        matches!(&step, Step::Done { recorded: Recorded::Retry { at, .. }, .. } if *at == now + 2_000 + 4_000),
        "doubles: {step:?}"
    );
    clock.advance(4_000);
    let step = worker.try_deliver_one().await?;
    assert!(
        matches!(
            &step,
            Step::Done {
                recorded: Recorded::Delivered { .. },
                ..
            }
        ),
        "{step:?}"
    );
    assert_eq!(worker.try_deliver_one().await?, Step::Idle);

    let reply = reply_of(&gateway, conversation).await?;
    assert_eq!(reply.delivery_status.as_deref(), Some("delivered"));
    let status = gateway
        .state
        .store
        .outbox_status(gateway::ids::MessageId(reply.id))
        .await?;
    assert_eq!(
        status.map(|(s, attempts, _)| (s, attempts)),
        Some(("delivered".into(), 3))
    );
    assert_eq!(sender.seen.lock().map(|s| s.len()).unwrap_or(0), 3);
    Ok(())
}

#[tokio::test]
async fn a_permanent_failure_stops_with_the_reason_visible() -> anyhow::Result<()> {
    let Setup {
        _dir,
        gateway,
        worker,
        conversation,
        ..
    } = setup(vec![Delivery::Permanent("mailbox does not exist".into())], 10).await?;
    let step = worker.try_deliver_one().await?;
    assert!(
        matches!(
            &step,
            Step::Done {
                recorded: Recorded::Failed { .. },
                ..
            }
        ),
        "{step:?}"
    );
    assert_eq!(worker.try_deliver_one().await?, Step::Idle);
    let reply = reply_of(&gateway, conversation).await?;
    assert_eq!(reply.delivery_status.as_deref(), Some("failed"));
    assert_eq!(reply.delivery_error.as_deref(), Some("mailbox does not exist"));
    Ok(())
}

#[tokio::test]
async fn the_worker_gives_up_after_its_attempts() -> anyhow::Result<()> {
    let failures = (0..5).map(|i| Delivery::Transient(format!("try {i}"))).collect();
    let Setup {
        _dir,
        gateway,
        worker,
        clock,
        conversation,
        ..
    } = setup(failures, 3).await?;
    // Two attempts are retried; the third is the last.
    for attempt in 1..=3 {
        let step = worker.try_deliver_one().await?;
        if attempt < 3 {
            assert!(
                matches!(
                    &step,
                    Step::Done {
                        recorded: Recorded::Retry { .. },
                        ..
                    }
                ),
                "attempt {attempt}: {step:?}"
            );
        } else {
            assert!(
                matches!(
                    &step,
                    Step::Done {
                        recorded: Recorded::Failed { .. },
                        ..
                    }
                ),
                "attempt {attempt}: {step:?}"
            );
        }
        clock.advance(600_000);
    }
    assert_eq!(
        worker.try_deliver_one().await?,
        Step::Idle,
        "nothing left after giving up"
    );
    let reply = reply_of(&gateway, conversation).await?;
    assert_eq!(reply.delivery_status.as_deref(), Some("failed"));
    assert!(
        reply
            .delivery_error
            .as_deref()
            .is_some_and(|e| e.starts_with("gave up after 3 attempts")),
        "{:?}",
        reply.delivery_error
    );
    Ok(())
}

/// A receipt can come before the send call returns: recording "sent" then
/// does not undo "delivered"; a round's outcomes apply in order.
#[tokio::test]
async fn recording_sent_keeps_a_receipt_that_came_first() -> anyhow::Result<()> {
    let Setup {
        _dir,
        gateway,
        clock,
        conversation,
        ..
    } = setup(Vec::new(), 10).await?;
    let store = &gateway.state.store;
    let reply = reply_of(&gateway, conversation).await?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE message_id = $1")
        .bind(reply.id)
        .fetch_one(store.reader())
        .await?;
    sqlx::query("UPDATE outbox SET status = 'delivered' WHERE id = $1")
        .bind(id)
        .execute(store.reader())
        .await?;
    let id = gateway::ids::OutboxId(id);
    let sent = Recorded::Sent {
        external_id: "wamid.late".into(),
    };
    store.outbox_record(&[(id, sent)], clock.now_ms()).await?;
    let read = || async {
        let row: (String, Option<String>, Option<String>) =
            sqlx::query_as("SELECT status, external_id, last_error FROM outbox WHERE id = $1")
                .bind(id.0)
                .fetch_one(store.reader())
                .await?;
        anyhow::Ok(row)
    };
    assert_eq!(read().await?, ("delivered".into(), Some("wamid.late".into()), None));

    let later = [
        (
            id,
            Recorded::Retry {
                at: clock.now_ms() + 1_000,
                error: "timeout".into(),
            },
        ),
        (
            id,
            Recorded::Failed {
                error: "blocked".into(),
            },
        ),
    ];
    store.outbox_record(&later, clock.now_ms()).await?;
    assert_eq!(
        read().await?,
        ("failed".into(), Some("wamid.late".into()), Some("blocked".into())),
        "the last outcome of the round wins"
    );
    Ok(())
}
