//! The email channel against real servers: Dovecot (IMAP IDLE) in, an aiosmtpd
//! sink out. Threading, participants, the loop guard, bounces, SMTP failures,
//! and exactly-once ingest across gateway kills and a Dovecot restart.

use std::time::Duration;

use e2e::mail::{Dovecot, Received, SAV, SmtpSink, email_config};
use e2e::{ADMIN_PASSWORD, AgentClient, ChildServer, spawn_app_with};
use gateway::clock::Clock;
use gateway::config::{MailSecurity, MailboxConfig, Secret};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_e2e-switchyard");

/// A customer mail with CRLF line ends.
struct Mail<'a> {
    from: &'a str,
    cc: &'a str,
    subject: &'a str,
    id: &'a str,
    in_reply_to: Option<&'a str>,
    references: Option<&'a str>,
    extra: &'a str,
    body: &'a str,
}

impl Default for Mail<'_> {
    fn default() -> Self {
        Mail {
            from: "Jean Dupont <jean@client-plant.test>",
            cc: "",
            subject: "Demande",
            id: "m@client-plant.test",
            in_reply_to: None,
            references: None,
            extra: "",
            body: "Bonjour",
        }
    }
}

impl Mail<'_> {
    fn raw(&self) -> String {
        let mut h = format!(
            "From: {}\r\nTo: SAV Maker <{SAV}>\r\nSubject: {}\r\nDate: Mon, 23 Nov 2026 08:00:00 +0100\r\nMessage-ID: <{}>\r\n",
            self.from, self.subject, self.id
        );
        if !self.cc.is_empty() {
            h.push_str(&format!("Cc: {}\r\n", self.cc));
        }
        if let Some(p) = self.in_reply_to {
            h.push_str(&format!("In-Reply-To: <{p}>\r\n"));
        }
        if let Some(r) = self.references {
            h.push_str(&format!("References: {r}\r\n"));
        }
        h.push_str(self.extra);
        h.push_str(
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
        h.push_str(&self.body.replace('\n', "\r\n"));
        h.push_str("\r\n");
        h
    }
}

fn conversations(list: &Value) -> Vec<Value> {
    list["conversations"].as_array().cloned().unwrap_or_default()
}

async fn conversation_of(agent: &AgentClient, customer: &str, subject: &str) -> anyhow::Result<i64> {
    let list = agent
        .wait_json("/api/v1/conversations?limit=1000", "the conversation", |v| {
            conversations(v)
                .iter()
                .any(|c| c["customer_address"] == customer && c["subject"] == subject)
        })
        .await?;
    Ok(conversations(&list)
        .iter()
        .find(|c| c["customer_address"] == customer && c["subject"] == subject)
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_default())
}

/// A message-id header without its brackets; a missing header fails the test
/// (an empty id would make every later `contains` check pass).
fn id_header(r: &Received, name: &'static str) -> String {
    let Some(value) = r.header(name) else {
        panic!("no {name} header in the mail sent:\n{}", r.raw)
    };
    let id = value.trim().trim_matches(['<', '>']).to_string();
    assert!(!id.is_empty(), "empty {name} header in:\n{}", r.raw);
    id
}

/// Dovecot, the SMTP sink, and a gateway config that reads the one and sends to the other.
async fn mail_servers() -> anyhow::Result<(Dovecot, SmtpSink, tempfile::TempDir, gateway::config::Config)> {
    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let dir = tempfile::tempdir()?;
    let config = email_config(dir.path(), &dovecot, &sink);
    Ok((dovecot, sink, dir, config))
}

#[tokio::test]
async fn mail_threads_both_ways_with_ack_reply_cc_and_answers() -> anyhow::Result<()> {
    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let dir = tempfile::tempdir()?;
    let app = spawn_app_with(email_config(dir.path(), &dovecot, &sink), Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    // 1. A customer writes, with a colleague and our own address in Cc.
    dovecot
        .append(
            "INBOX",
            Mail {
                cc: "Chef Atelier <chef@client-plant.test>, sav@maker.test",
                subject: "Ligne 2 arrêtée",
                id: "first@client-plant.test",
                body: "Bonjour,\nla ligne 2 est arrêtée depuis 7h, code E17. Production stoppée.\n\n-- \nJean Dupont\n+33 6 12 34 56 78",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let id = conversation_of(&agent, "jean@client-plant.test", "Ligne 2 arrêtée").await?;
    let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    assert_eq!(detail["conversation"]["channel"], "email");
    assert_eq!(detail["conversation"]["priority"], "critical", "{detail}");
    assert_eq!(detail["verdict"]["fields"]["fault_codes"], json!(["E17"]), "{detail}");
    let first = &detail["messages"][0];
    assert!(first["body"].as_str().unwrap_or_default().contains("code E17"));
    assert!(
        !first["body"].as_str().unwrap_or_default().contains("+33 6"),
        "signature kept apart"
    );
    let participants: Vec<String> = detail["participants"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["address"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        participants.contains(&"jean@client-plant.test".to_string()),
        "{participants:?}"
    );
    assert!(
        participants.contains(&"chef@client-plant.test".to_string()),
        "{participants:?}"
    );
    assert!(
        !participants.contains(&SAV.to_string()),
        "our own address is never a participant"
    );
    // The mail as it arrived, kept for proof.
    let first_id = first["id"].as_i64().unwrap_or_default();
    let raw = agent
        .http
        .get(format!(
            "{}/api/v1/conversations/{id}/messages/{first_id}/raw",
            app.base()
        ))
        .send()
        .await?;
    assert_eq!(raw.status(), 200);
    assert!(raw.text().await?.contains("Message-ID: <first@client-plant.test>"));

    // 2. The acknowledgement: threaded, tagged, marked automatic, to the sender only.
    let tag = format!("[#SY-{id}]");
    let ack = sink
        .wait_for("the acknowledgement", |r| {
            r.rcpt_tos.contains(&"jean@client-plant.test".to_string())
        })
        .await?;
    assert_eq!(
        ack.rcpt_tos,
        vec!["jean@client-plant.test".to_string()],
        "no Cc on an automatic mail"
    );
    assert_eq!(id_header(&ack, "In-Reply-To"), "first@client-plant.test");
    assert_eq!(ack.header("Auto-Submitted").as_deref(), Some("auto-replied"));
    assert_eq!(ack.header("X-Switchyard-Loop").as_deref(), Some("e2e-node"));
    assert!(ack.subject().unwrap_or_default().contains(&tag), "{:?}", ack.subject());
    assert!(ack.header("From").unwrap_or_default().contains(SAV));
    let ack_id = id_header(&ack, "Message-ID");
    assert!(ack_id.ends_with("@maker.test"), "{ack_id}");

    // The mail left INBOX for the processed folder, after its commit.
    for _ in 0..100 {
        if dovecot.count("INBOX").await? == 0 && dovecot.count("Processed").await? == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dovecot.count("INBOX").await?, 0);
    assert_eq!(dovecot.count("Processed").await?, 1);

    // 3. An agent's reply: to the customer, the colleague kept in Cc, the whole chain referenced.
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Bonjour, un technicien vous rappelle dans 10 minutes."}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let reply = sink
        .wait_for("the agent's reply", |r| {
            r.raw.contains("un technicien vous rappelle") && r.header("Auto-Submitted").is_none()
        })
        .await?;
    let mut rcpt = reply.rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(
        rcpt,
        vec![
            "chef@client-plant.test".to_string(),
            "jean@client-plant.test".to_string()
        ]
    );
    assert!(
        reply
            .header("Cc")
            .unwrap_or_default()
            .contains("chef@client-plant.test")
    );
    assert!(!reply.header("Cc").unwrap_or_default().contains(SAV));
    assert_eq!(id_header(&reply, "In-Reply-To"), "first@client-plant.test");
    let references = reply.header("References").unwrap_or_default();
    assert!(
        references.contains("<first@client-plant.test>") && references.contains(&format!("<{ack_id}>")),
        "{references}"
    );
    assert_eq!(reply.subject(), Some(format!("Re: Ligne 2 arrêtée {tag}")));
    assert!(reply.raw.contains("text/html"), "text and HTML alternatives");
    let reply_id = id_header(&reply, "Message-ID");

    // 4. The customer answers the reply (In-Reply-To only, no tag): same conversation.
    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "RE: Ligne 2 arrêtée",
                id: "second@client-plant.test",
                in_reply_to: Some(&reply_id),
                body: "Merci, nous attendons l'appel.",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    // 5. A colleague writes with the tag only (no threading headers): same conversation.
    dovecot
        .append(
            "INBOX",
            Mail {
                from: "Chef Atelier <chef@client-plant.test>",
                subject: &format!("Photos de la ligne {tag}"),
                id: "third@client-plant.test",
                body: "Voici des informations complémentaires.",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    // 5b. A reply whose threading headers were lost on the way: same subject and sender, low confidence.
    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "TR : Ligne 2 arrêtée",
                id: "third-b@client-plant.test",
                body: "Je transfère l'historique.",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let detail = agent
        .wait_json(&format!("/api/v1/conversations/{id}"), "the three answers", |v| {
            v["messages"]
                .as_array()
                .is_some_and(|m| m.iter().filter(|m| m["direction"] == "in").count() == 4)
        })
        .await?;
    let reasons: Vec<String> = detail["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["thread_reason"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(reasons.iter().any(|r| r.contains(&reply_id)), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("ticket tag")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("low confidence")), "{reasons:?}");

    // 6. A new topic sent as a reply to an old mail, with another subject and no tag: not merged.
    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "Commande de pièces détachées",
                id: "fourth@client-plant.test",
                in_reply_to: Some(&reply_id),
                references: Some(&format!("<first@client-plant.test> <{reply_id}>")),
                body: "Pouvez-vous nous envoyer un devis pour 4 courroies ?",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let other = conversation_of(&agent, "jean@client-plant.test", "Commande de pièces détachées").await?;
    assert_ne!(other, id);
    let detail = agent.ok(&format!("/api/v1/conversations/{other}")).await?;
    assert!(
        detail["messages"][0]["thread_reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("new topic"),
        "{detail}"
    );

    // 7. Agents choose recipients: the colleague leaves the Cc of this reply.
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Rappel effectué, ticket clos.", "cc": []}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let last = sink
        .wait_for("the reply without Cc", |r| r.raw.contains("Rappel effectu"))
        .await?;
    assert_eq!(last.rcpt_tos, vec!["jean@client-plant.test".to_string()]);
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "x", "cc": ["not an address"]}),
        )
        .await?;
    assert_eq!(status, 400, "{body}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn automatic_mail_is_not_acknowledged_and_bounces_fail_the_returned_mail() -> anyhow::Result<()> {
    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let dir = tempfile::tempdir()?;
    let app = spawn_app_with(email_config(dir.path(), &dovecot, &sink), Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    // A customer whose acknowledgement will bounce, and one whose server refuses it outright.
    dovecot
        .append(
            "INBOX",
            Mail {
                from: "lost@client.test",
                subject: "Capteur défectueux",
                id: "lost-1@client.test",
                body: "Le capteur de pression est défectueux.",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    dovecot
        .append(
            "INBOX",
            Mail {
                from: "reject@client.test",
                subject: "Question",
                id: "reject-1@client.test",
                body: "Quelle huile utiliser ?",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    dovecot
        .append(
            "INBOX",
            Mail {
                from: "tempfail@client.test",
                subject: "Greylisted",
                id: "tempfail-1@client.test",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let lost = conversation_of(&agent, "lost@client.test", "Capteur défectueux").await?;
    let rejected = conversation_of(&agent, "reject@client.test", "Question").await?;
    let ack = sink
        .wait_for("the acknowledgement to lost@", |r| {
            r.rcpt_tos.contains(&"lost@client.test".to_string())
        })
        .await?;
    let ack_id = id_header(&ack, "Message-ID");

    // A 5xx from the SMTP server stops the row with the server's reason.
    let detail = agent
        .wait_json(&format!("/api/v1/conversations/{rejected}"), "the refused ack", |v| {
            v["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["delivery_status"] == "failed"))
        })
        .await?;
    let failed = detail["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["delivery_status"] == "failed").cloned())
        .unwrap_or_default();
    assert!(
        failed["delivery_error"].as_str().unwrap_or_default().contains("550"),
        "{failed}"
    );

    // A 4xx is retried with backoff, the reason kept meanwhile.
    let greylisted = conversation_of(&agent, "tempfail@client.test", "Greylisted").await?;
    agent
        .wait_json(&format!("/api/v1/conversations/{greylisted}"), "the retried ack", |v| {
            v["messages"].as_array().is_some_and(|m| {
                m.iter().any(|m| {
                    m["delivery_status"] == "pending" && m["delivery_error"].as_str().is_some_and(|e| e.contains("451"))
                })
            })
        })
        .await?;

    // The ack to lost@ comes back as a DSN: its outbox row fails with the bounce's reason.
    let dsn = format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.client.test>\r\nTo: {SAV}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nDate: Mon, 23 Nov 2026 09:40:00 +0100\r\n\
         Message-ID: <dsn-1@mx.client.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.client.test\r\n\r\n\
         Final-Recipient: rfc822; lost@client.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {SAV}\r\nTo: lost@client.test\r\nMessage-ID: <{ack_id}>\r\n\r\n--b--\r\n"
    );
    dovecot.append("INBOX", dsn.as_bytes()).await?;
    let detail = agent
        .wait_json(&format!("/api/v1/conversations/{lost}"), "the bounce", |v| {
            v["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["auto"] == "bounce"))
        })
        .await?;
    let messages = detail["messages"].as_array().cloned().unwrap_or_default();
    let ack_row = messages
        .iter()
        .find(|m| m["author_kind"] == "system")
        .cloned()
        .unwrap_or_default();
    assert_eq!(ack_row["delivery_status"], "failed", "{detail}");
    let reason = ack_row["delivery_error"].as_str().unwrap_or_default();
    assert!(
        reason.contains("5.1.1") && reason.contains("lost@client.test"),
        "{reason}"
    );

    // Out-of-office, list mail and our own mail coming back: stored, never acknowledged.
    let automatic = [
        Mail {
            from: "paul@client.test",
            subject: "Réponse automatique : absent",
            id: "ooo-1@client.test",
            extra: "Auto-Submitted: auto-replied\r\n",
            body: "Je suis absent.",
            ..Default::default()
        },
        Mail {
            from: "news@list.test",
            subject: "Newsletter",
            id: "list-1@list.test",
            extra: "List-Id: <news.list.test>\r\nPrecedence: bulk\r\n",
            body: "Nouveautés.",
            ..Default::default()
        },
        Mail {
            from: "someone@elsewhere.test",
            subject: "Loop",
            id: "loop-1@elsewhere.test",
            extra: "X-Switchyard-Loop: e2e-node\r\n",
            body: "Our own mail, relayed back.",
            ..Default::default()
        },
    ];
    for m in &automatic {
        dovecot.append("INBOX", m.raw().as_bytes()).await?;
    }
    // The same sender writing about five things within the hour gets three acknowledgements.
    for n in 0..5 {
        dovecot
            .append(
                "INBOX",
                Mail {
                    from: "busy@client.test",
                    subject: &format!("Sujet {n}"),
                    id: &format!("busy-{n}@client.test"),
                    body: "Encore une question.",
                    ..Default::default()
                }
                .raw()
                .as_bytes(),
            )
            .await?;
    }
    // A marker after them: once its ack is out, the outbox has passed every earlier row.
    dovecot
        .append(
            "INBOX",
            Mail {
                from: "marker@client.test",
                subject: "Marker",
                id: "marker@client.test",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    sink.wait_for("the marker's ack", |r| {
        r.rcpt_tos.contains(&"marker@client.test".to_string())
    })
    .await?;
    for m in &automatic {
        let address = m.from.to_string();
        let id = conversation_of(&agent, &address, m.subject).await?;
        assert!(id > 0);
        assert!(
            !sink.received().iter().any(|r| r.rcpt_tos.contains(&address)),
            "{address} got an automatic answer"
        );
    }
    let busy = sink
        .received()
        .iter()
        .filter(|r| r.rcpt_tos.contains(&"busy@client.test".to_string()))
        .count();
    assert_eq!(busy, 3, "at most 3 acknowledgements per hour to one address");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn every_mail_is_ingested_exactly_once_across_kills_and_a_dovecot_restart() -> anyhow::Result<()> {
    const TOTAL: usize = 40;
    let mut dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let config = e2e::mail::write_gateway_config(
        dir.path(),
        &dovecot,
        &sink,
        "timeout_secs = 5\nmax_backoff_secs = 1\nbatch = 7",
    )?;
    let mut server = ChildServer::start_with_config(BINARY, &data, &config).await?;

    let mail = |n: usize| {
        Mail {
            from: &format!("client{n}@plant.test"),
            subject: &format!("Demande {n}"),
            id: &format!("load-{n}@plant.test"),
            body: "La machine affiche une alarme.",
            ..Default::default()
        }
        .raw()
    };
    for n in 0..TOTAL {
        dovecot.append("INBOX", mail(n).as_bytes()).await?;
        match n {
            // Killed while mail keeps arriving: whatever it had not committed is read again.
            10 | 30 => {
                server.kill();
                server = ChildServer::start_with_config(BINARY, &data, &config).await?;
            }
            // The IMAP server goes away during IDLE and comes back.
            20 => dovecot.restart().await?,
            _ => tokio::time::sleep(Duration::from_millis(30)).await,
        }
    }
    for _ in 0..400 {
        if dovecot.count("INBOX").await? == 0 && dovecot.count("Processed").await? as usize == TOTAL {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        dovecot.count("INBOX").await?,
        0,
        "every mail was filed after its commit"
    );
    let mut filed = dovecot.message_ids("Processed").await?;
    filed.sort();
    filed.dedup();
    assert_eq!(filed.len(), TOTAL);

    let agent = AgentClient::login(&server.base(), "admin", ADMIN_PASSWORD).await?;
    let list = agent.ok("/api/v1/conversations?limit=1000").await?;
    let mut subjects: Vec<String> = conversations(&list)
        .iter()
        .filter(|c| c["channel"] == "email")
        .filter_map(|c| c["subject"].as_str().map(str::to_string))
        .collect();
    subjects.sort();
    let expected: Vec<String> = {
        let mut e: Vec<String> = (0..TOTAL).map(|n| format!("Demande {n}")).collect();
        e.sort();
        e
    };
    assert_eq!(subjects, expected, "one conversation per mail: none lost, none twice");
    for c in conversations(&list) {
        let id = c["id"].as_i64().unwrap_or_default();
        let detail = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
        let incoming = detail["messages"]
            .as_array()
            .map(|m| m.iter().filter(|m| m["direction"] == "in").count())
            .unwrap_or_default();
        assert_eq!(incoming, 1, "conversation {id} holds its mail exactly once");
    }
    // Acknowledgements are at-least-once; a resend after a kill carries the same Message-ID.
    let mut ack_ids: Vec<String> = Vec::new();
    for _ in 0..200 {
        ack_ids = sink.received().iter().map(|r| id_header(r, "Message-ID")).collect();
        ack_ids.sort();
        ack_ids.dedup();
        if ack_ids.len() == TOTAL {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ack_ids.len(), TOTAL);
    server.kill();
    Ok(())
}

#[tokio::test]
async fn a_silent_smtp_server_does_not_hold_back_chat_replies() -> anyhow::Result<()> {
    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    // A server that accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let silent_port = silent.local_addr()?.port();
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let dir = tempfile::tempdir()?;
    let mut config = email_config(dir.path(), &dovecot, &sink);
    config.email.smtp.port = silent_port;
    config.email.smtp.timeout_secs = 60;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "Stuck ack",
                id: "stuck@client-plant.test",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let id = conversation_of(&agent, "jean@client-plant.test", "Stuck ack").await?;
    agent
        .wait_json(&format!("/api/v1/conversations/{id}"), "the email ack in flight", |v| {
            v["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["delivery_status"] == "sending"))
        })
        .await?;

    // The email worker waits on SMTP for up to a minute; the chat acknowledgement does not.
    let (mut visitor, _) = e2e::Visitor::open(&app.ws_url(), None).await?;
    visitor.message("c1", "Bonjour, question sur la notice").await?;
    let ack = visitor.expect_message(|m| m["author"] == "system").await?;
    assert!(ack["text"].as_str().unwrap_or_default().contains("SY-"), "{ack}");
    visitor.close().await;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn mail_threads_and_bounces_on_postgres() -> anyhow::Result<()> {
    let db = e2e::postgres::TestDatabase::create().await?;
    let (dovecot, sink, _dir, mut config) = mail_servers().await?;
    config.store.url = Secret::new(db.url.clone());
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    dovecot
        .append(
            "INBOX",
            Mail {
                cc: "chef@client-plant.test",
                subject: "Presse bloquée",
                id: "pg-1@client-plant.test",
                body: "La presse P200 est bloquée, défaut E42.",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let id = conversation_of(&agent, "jean@client-plant.test", "Presse bloquée").await?;
    let ack = sink
        .wait_for("the acknowledgement", |r| {
            r.rcpt_tos.contains(&"jean@client-plant.test".to_string())
        })
        .await?;
    let ack_id = id_header(&ack, "Message-ID");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/reply"),
            json!({"text": "Nous regardons."}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let reply = sink.wait_for("the reply", |r| r.raw.contains("Nous regardons")).await?;
    assert!(reply.rcpt_tos.contains(&"chef@client-plant.test".to_string()));
    let references = reply.header("References").unwrap_or_default();
    assert!(
        references.contains("<pg-1@client-plant.test>") && references.contains(&ack_id),
        "{references}"
    );

    // The customer answers the acknowledgement; then the acknowledgement's copy to a second address bounces.
    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "RE: Presse bloquée",
                id: "pg-2@client-plant.test",
                in_reply_to: Some(&ack_id),
                body: "Merci.",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let dsn = format!(
        "From: MAILER-DAEMON@mx.test\r\nTo: {SAV}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <pg-dsn@mx.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; jean@client-plant.test\r\n\
         Action: failed\r\nStatus: 5.2.2\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
         Message-ID: <{ack_id}>\r\n\r\n--b--\r\n"
    );
    dovecot.append("INBOX", dsn.as_bytes()).await?;
    let detail = agent
        .wait_json(&format!("/api/v1/conversations/{id}"), "answer and bounce", |v| {
            v["messages"].as_array().is_some_and(|m| {
                m.iter().filter(|m| m["direction"] == "in").count() == 3
                    && m.iter().any(|m| m["delivery_status"] == "failed")
            })
        })
        .await?;
    assert_eq!(detail["conversation"]["status"], "open");
    app.stop().await;
    db.drop_database().await?;
    Ok(())
}

/// A mail over `email.max_mail_bytes` is not downloaded: its headers become
/// the message, marked too large for the agent, and the mail after it flows.
#[tokio::test]
async fn an_oversized_mail_is_read_by_its_headers_and_the_mailbox_goes_on() -> anyhow::Result<()> {
    let (dovecot, _sink, _dir, mut config) = mail_servers().await?;
    config.email.max_mail_bytes = 20_000;
    let log = "ligne 2: défaut E42 répété\n".repeat(3_000);
    let big = Mail {
        subject: "Journal machine complet",
        id: "big@client-plant.test",
        body: &log,
        ..Default::default()
    };
    dovecot.append("INBOX", big.raw().as_bytes()).await?;
    let small = Mail {
        from: "Paul Martin <paul@client-plant.test>",
        subject: "Presse bloquée",
        id: "small@client-plant.test",
        body: "La presse P200 est bloquée, défaut E42.",
        ..Default::default()
    };
    dovecot.append("INBOX", small.raw().as_bytes()).await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    conversation_of(&agent, "paul@client-plant.test", "Presse bloquée").await?;
    let id = conversation_of(&agent, "jean@client-plant.test", "Journal machine complet").await?;
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let message = &view["messages"][0];
    let quoted = message["quoted"].as_str().unwrap_or_default();
    assert!(
        quoted.contains("over the 20 KB limit: only its headers were read"),
        "{message}"
    );
    assert!(
        !message.to_string().contains("défaut E42 répété"),
        "the body was not downloaded: {message}"
    );
    app.stop().await;
    Ok(())
}

/// A 200 MB mail at the default size limit (64 MB): read by its headers, kept
/// on the server, the mails after it ingested, and the chat answering all along.
#[tokio::test]
async fn a_200_mb_mail_is_read_by_its_headers_while_the_other_channels_flow() -> anyhow::Result<()> {
    let (dovecot, _sink, _dir, config) = mail_servers().await?;
    assert_eq!(config.email.max_mail_bytes, 64 * 1024 * 1024, "the default limit");
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    let line = "2026-12-02 10:41:07 presse P200 cycle 41233 capteur porte 3 OK pression 182 bar\n";
    let log = line.repeat(200 * 1024 * 1024 / line.len());
    let big = Mail {
        subject: "Journal machine 200 Mo",
        id: "huge@client-plant.test",
        body: &log,
        ..Default::default()
    };
    let raw = big.raw();
    drop(log);
    assert!(raw.len() > 200 * 1024 * 1024);
    let append = dovecot.append("INBOX", raw.as_bytes());
    // While the mail arrives and is looked at, a chat visitor is answered.
    let chat = async {
        let (mut visitor, _) = e2e::Visitor::open(&app.ws_url(), None).await?;
        let ack = visitor.message("1", "La presse P200 est arrêtée, code E42").await?;
        anyhow::ensure!(
            ack["conversation"].as_str().is_some_and(|t| t.starts_with("SY-")),
            "{ack}"
        );
        anyhow::Ok(())
    };
    let (appended, chatted) = tokio::join!(append, chat);
    appended?;
    chatted?;
    drop(raw);
    let small = Mail {
        from: "Paul Martin <paul@client-plant.test>",
        subject: "Presse bloquée",
        id: "after-huge@client-plant.test",
        body: "La presse P200 est bloquée, défaut E42.",
        ..Default::default()
    };
    dovecot.append("INBOX", small.raw().as_bytes()).await?;
    conversation_of(&agent, "paul@client-plant.test", "Presse bloquée").await?;
    let id = conversation_of(&agent, "jean@client-plant.test", "Journal machine 200 Mo").await?;
    let view = agent.ok(&format!("/api/v1/conversations/{id}")).await?;
    let message = &view["messages"][0];
    let quoted = message["quoted"].as_str().unwrap_or_default();
    assert!(
        quoted.contains("over the 65536 KB limit") || quoted.contains("limit: only its headers were read"),
        "{message}"
    );
    assert!(
        !message.to_string().contains("capteur porte 3 OK"),
        "the body was not downloaded"
    );
    // Kept on the server whole, filed with the others in the processed folder.
    let folder = &app.state.config.email.mailboxes[0].processed_folder;
    assert_eq!(dovecot.count(folder).await?, 2, "both mails filed in {folder}");
    app.stop().await;
    Ok(())
}

/// A mail PostgreSQL cannot store (its text decodes to a NUL character) in
/// the same round as a good one: the good one is stored, the bad one is filed
/// with a channel error for the admin, and the mailbox goes on.
#[tokio::test]
async fn a_mail_the_store_refuses_is_set_aside_and_the_mailbox_goes_on() -> anyhow::Result<()> {
    let db = e2e::postgres::TestDatabase::create().await?;
    let (dovecot, _sink, _dir, mut config) = mail_servers().await?;
    config.store.url = Secret::new(db.url.clone());
    // Both mails wait in the mailbox before the reader starts: one round, one batch.
    let poison = Mail {
        subject: "Code erreur",
        id: "nul@client-plant.test",
        body: "Afficheur: E=0017",
        ..Default::default()
    }
    .raw()
    .replace(
        "Content-Transfer-Encoding: 8bit",
        "Content-Transfer-Encoding: quoted-printable",
    );
    dovecot.append("INBOX", poison.as_bytes()).await?;
    let good = Mail {
        from: "Paul Martin <paul@client-plant.test>",
        subject: "Presse bloquée",
        id: "good@client-plant.test",
        body: "La presse P200 est bloquée, défaut E42.",
        ..Default::default()
    };
    dovecot.append("INBOX", good.raw().as_bytes()).await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;

    conversation_of(&agent, "paul@client-plant.test", "Presse bloquée").await?;
    let errors = agent
        .wait_json("/api/v1/admin/channel-errors", "the mail set aside", |v| {
            v["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["title"] == "mail not stored"))
        })
        .await?;
    let aside = errors["errors"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["title"] == "mail not stored"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(aside["channel"], "email");
    assert!(
        aside["details"].as_str().is_some_and(|d| d.starts_with("UID 1:")),
        "{aside}"
    );
    let list = agent.ok("/api/v1/conversations?limit=100").await?;
    assert_eq!(
        conversations(&list).len(),
        1,
        "only the good mail is a conversation: {list}"
    );
    app.stop().await;
    db.drop_database().await?;
    Ok(())
}

#[tokio::test]
async fn polling_and_flagging_work_and_a_dead_mailbox_stalls_nothing() -> anyhow::Result<()> {
    let (dovecot, _sink, _dir, mut config) = mail_servers().await?;
    // Poll instead of IDLE, flag instead of moving.
    config.email.mailboxes[0].idle = false;
    config.email.mailboxes[0].poll_secs = 1;
    config.email.mailboxes[0].processed_folder = String::new();
    // A second mailbox whose server is gone.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    config.email.mailboxes.push(MailboxConfig {
        name: "dead".into(),
        host: "127.0.0.1".into(),
        port: dead_port,
        security: MailSecurity::Plain,
        user: "x".into(),
        timeout_secs: 2,
        max_backoff_secs: 1,
        ..MailboxConfig::default()
    });
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "Polled",
                id: "polled@client-plant.test",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    conversation_of(&agent, "jean@client-plant.test", "Polled").await?;
    // Flagged in place, so it is not read again.
    let mut flagged = 0;
    for _ in 0..100 {
        let mut s = dovecot.client().await?;
        s.select("INBOX").await?;
        flagged = s.uid_search("KEYWORD $Switchyard").await?.len();
        let _ = s.logout().await;
        if flagged == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(flagged, 1);
    assert_eq!(dovecot.count("INBOX").await?, 1);
    // /readyz reports both mailboxes; the dead one does not make the gateway unready.
    let (status, ready) = e2e::readiness(&app.base()).await?;
    assert_eq!(status, 200);
    assert_eq!(ready["mailboxes"]["sav"]["connected"], true, "{ready}");
    assert_eq!(ready["mailboxes"]["sav"]["ingested"], 1, "{ready}");
    assert_eq!(ready["mailboxes"]["dead"]["connected"], false, "{ready}");
    assert!(ready["mailboxes"]["dead"]["last_error"].as_str().is_some(), "{ready}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_critical_mail_out_of_hours_emails_the_on_call_contact() -> anyhow::Result<()> {
    use chrono::TimeZone;
    let (dovecot, sink, _dir, mut config) = mail_servers().await?;
    // A calendar closed today (and tomorrow, should the test cross midnight).
    let today = chrono_tz::Europe::Paris
        .timestamp_millis_opt(Clock::system().now_ms())
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let all_day = vec!["00:00-24:00".to_string()];
    config.sla.calendars.push(gateway::config::CalendarConfig {
        name: "closed-today".into(),
        time_zone: "Europe/Paris".into(),
        monday: all_day.clone(),
        tuesday: all_day.clone(),
        wednesday: all_day.clone(),
        thursday: all_day.clone(),
        friday: all_day.clone(),
        saturday: all_day.clone(),
        sunday: all_day,
        holidays: vec![today.to_string(), today.succ_opt().unwrap_or(today).to_string()],
    });
    config.escalation.on_call_calendar = "closed-today".into();
    config.escalation.on_call_email = "oncall@maker.test".into();
    let app = spawn_app_with(config, Clock::system()).await?;

    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "URGENT ligne arrêtée",
                id: "night@client-plant.test",
                body: "La ligne 3 est arrêtée, production stoppée.\n\n-- \nJean Dupont\nTél. +33 6 12 34 56 78",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let notice = sink
        .wait_for("the on-call mail", |r| {
            r.rcpt_tos.contains(&"oncall@maker.test".to_string())
        })
        .await?;
    let text = notice.text();
    assert!(text.starts_with("On-call: critical SY-"), "{text}");
    // The callback number comes from the signature of the mail.
    assert!(text.contains("call back +33612345678"), "{text}");
    assert!(!notice.rcpt_tos.contains(&"jean@client-plant.test".to_string()));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_validated_intervention_report_is_mailed_in_the_thread_as_a_pdf() -> anyhow::Result<()> {
    let (dovecot, sink, _dir, config) = mail_servers().await?;
    let app = spawn_app_with(config, Clock::system()).await?;
    let agent = AgentClient::login(&app.base(), "admin", ADMIN_PASSWORD).await?;
    dovecot
        .append(
            "INBOX",
            Mail {
                subject: "Convoyeur 4 : arrêts répétés",
                id: "report@client-plant.test",
                body: "Bonjour,\nle convoyeur 4 s'arrête plusieurs fois par jour, code W12.\nJean Dupont",
                ..Default::default()
            }
            .raw()
            .as_bytes(),
        )
        .await?;
    let id = conversation_of(&agent, "jean@client-plant.test", "Convoyeur 4 : arrêts répétés").await?;
    let proposed = agent.ok(&format!("/api/v1/conversations/{id}/report")).await?;
    let mut content = proposed["report"]["content"].clone();
    assert_eq!(content["fault_codes"], json!(["W12"]), "{content}");
    content["result"] = json!("Courroie retendue, plus d'arrêt depuis 48 h.");
    let (status, body) = agent
        .post(&format!("/api/v1/conversations/{id}/report/send"), json!({}))
        .await?;
    assert_eq!(status, 409, "a draft is not sent: {body}");
    let (status, body) = agent
        .post(
            &format!("/api/v1/conversations/{id}/report/validate"),
            json!({"content": content, "version": 0}),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = agent
        .post(&format!("/api/v1/conversations/{id}/report/send"), json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");

    let mail = sink
        .wait_for("the report mail", |r| r.text().contains("rapport d'intervention"))
        .await?;
    assert!(mail.rcpt_tos.contains(&"jean@client-plant.test".to_string()));
    assert!(
        mail.header("In-Reply-To")
            .unwrap_or_default()
            .contains("report@client-plant.test"),
        "threaded under the customer's mail"
    );
    let attachments = mail.attachments();
    let (name, kind, bytes) = attachments
        .iter()
        .find(|(_, kind, _)| kind == "application/pdf")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no PDF attached: {attachments:?}"))?;
    assert_eq!(name, format!("rapport-SY-{id}.pdf"));
    assert_eq!(kind, "application/pdf");
    let path = e2e::pdf::artifacts_dir()?.join("mailed-report.pdf");
    std::fs::write(&path, &bytes)?;
    let text = e2e::pdf::text(&path)?;
    assert!(text.contains("Codes défaut : W12"), "{text}");
    assert!(text.contains("Courroie retendue"), "{text}");
    assert!(text.contains("Validé par Administrator"), "{text}");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_weekly_summary_is_mailed_once_when_due_and_retried_when_smtp_fails() -> anyhow::Result<()> {
    let (_dovecot, sink, dir, mut config) = mail_servers().await?;
    config.sla = e2e::office_sla_config(dir.path()).sla;
    config.reports.weekly_recipients = vec!["direction@maker.test".into()];
    config.reports.weekly_day = "monday".into();
    config.reports.weekly_hour = 7;
    config.reports.language = "fr".into();
    config.reports.inbox_url = "https://support.maker.test/inbox".into();
    // Tuesday 1 December 2026, 10:00 in Paris: two conversations this week.
    let clock = Clock::manual(e2e::paris(2026, 12, 1, 10, 0));
    let gateway = gateway::server::Gateway::start(config, clock.clone()).await?;
    for (id, from) in [("w1@x", "a@client-plant.test"), ("w2@x", "b@client-plant.test")] {
        gateway
            .state
            .pipeline
            .submit(e2e::inbound_email(
                id,
                from,
                "Presse",
                "La presse fait des rebuts depuis ce matin.",
            ))
            .await?;
    }
    let Some(mailer) = gateway.weekly_mailer()? else {
        anyhow::bail!("recipients are configured: a mailer runs")
    };
    let notices = gateway.notice_worker()?;
    // Started on a Tuesday: last week's summary (23–29 November) is due already.
    assert_eq!(mailer.tick().await?.as_deref(), Some("2026-11-23"));
    assert_eq!(notices.deliver_due().await?.sent, 1);

    // Sunday evening: this week is not over for the mail's purposes yet.
    clock.advance(e2e::paris(2026, 12, 6, 20, 0) - clock.now_ms());
    assert_eq!(mailer.tick().await?, None);

    // Monday 07:05, but the SMTP server is down: queued once, kept, retried later.
    clock.advance(e2e::paris(2026, 12, 7, 7, 5) - clock.now_ms());
    assert_eq!(mailer.tick().await?.as_deref(), Some("2026-11-30"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut down = notices.clone();
    let from = notices.smtp.as_ref().map(|(_, from)| from.clone()).unwrap_or_default();
    down.smtp = Some((
        gateway::email::MailTransport::Fixed(channels::email::SmtpClient::new(&channels::email::SmtpSettings {
            host: "127.0.0.1".into(),
            port: closed,
            security: channels::email::Security::Plain,
            user: String::new(),
            auth: channels::email::SmtpAuth::Password(String::new()),
            timeout: std::time::Duration::from_secs(2),
            pool_size: 1,
        })?),
        from,
    ));
    let turn = down.deliver_due().await?;
    assert_eq!((turn.sent, turn.failed), (0, 1));
    // Another node (or the same after a restart) queues nothing twice, and waits for the retry time.
    assert_eq!(mailer.tick().await?, None);
    assert_eq!(notices.deliver_due().await?.sent, 0);
    clock.advance(60_000);
    assert_eq!(notices.deliver_due().await?.sent, 1);

    let summary = sink
        .wait_for("the weekly summary", |r| {
            r.rcpt_tos.contains(&"direction@maker.test".to_string())
                && r.subject().is_some_and(|s| s.contains("2026-11-30"))
        })
        .await?;
    assert_eq!(
        summary.subject().as_deref(),
        Some("Switchyard — semaine du 2026-11-30 au 2026-12-06")
    );
    let text = summary.text();
    assert!(text.contains("- Conversations: 2 (avant: 0)"), "{text}");
    assert!(text.contains("- Sans réponse: 2 (avant: 0)"), "{text}");
    assert!(text.contains("https://support.maker.test/inbox#reports"), "{text}");
    assert_eq!(
        summary.header("Auto-Submitted").as_deref(),
        Some("auto-generated"),
        "an automatic mail says so"
    );
    assert_eq!(mailer.tick().await?, None, "queued once");
    assert_eq!(notices.deliver_due().await?.sent, 0, "sent once");
    let weekly = sink
        .received()
        .into_iter()
        .filter(|r| r.rcpt_tos.contains(&"direction@maker.test".to_string()))
        .count();
    assert_eq!(weekly, 2, "one mail a week");
    Ok(())
}
