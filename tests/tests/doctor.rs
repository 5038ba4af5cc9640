//! `switchyard doctor` and `switchyard agents` as an admin runs them: the
//! binary against the harness's real Dovecot, SMTP sink and PostgreSQL, with
//! the right settings and with wrong ones.

use std::path::Path;
use std::process::Output;

use e2e::mail::{Dovecot, SmtpSink, write_gateway_config};
use e2e::translate_stub::{KEY, TranslateStub};
use e2e::{AgentClient, ChildServer};

const BINARY: &str = env!("CARGO_BIN_EXE_e2e-switchyard");

async fn run(args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(BINARY)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes()).await?;
    }
    Ok(child.wait_with_output().await?)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The report's line for `what`.
fn line<'a>(report: &'a str, what: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(what)))
        .unwrap_or("")
}

/// `switchyard agents --config … --data-dir … <args>`.
async fn agents(config: &str, data: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
    let mut all = vec!["agents", "--config", config, "--data-dir", data];
    all.extend_from_slice(args);
    run(&all, stdin).await
}

fn doctor_args<'a>(config: &'a str, data: &'a str) -> Vec<&'a str> {
    vec!["doctor", "--config", config, "--data-dir", data]
}

fn append(config: &Path, extra: &str) -> anyhow::Result<()> {
    let mut text = std::fs::read_to_string(config)?;
    text.push_str(extra);
    std::fs::write(config, text)?;
    Ok(())
}

#[tokio::test]
async fn doctor_reaches_every_server_and_names_what_is_wrong() -> anyhow::Result<()> {
    let dovecot = Dovecot::start().await?;
    let sink = SmtpSink::start().await?;
    let translate = TranslateStub::start().await?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let data = data.to_string_lossy().into_owned();
    let config = write_gateway_config(dir.path(), &dovecot, &sink, "")?;
    append(
        &config,
        &format!(
            "\n[translation]\nprovider = \"deepl\"\nurl = \"{}\"\napi_key = \"{KEY}\"\nagent_language = \"fr\"\n",
            translate.url()
        ),
    )?;
    let config_arg = config.to_string_lossy().into_owned();

    // Everything right, before the first start: the store does not exist yet.
    let out = run(&doctor_args(&config_arg, &data), None).await?;
    let report = stdout(&out);
    assert!(out.status.success(), "{report}");
    assert!(line(&report, "imap sav").starts_with("ok"), "{report}");
    assert!(
        line(&report, "imap sav").contains("logged in, folder \"INBOX\""),
        "{report}"
    );
    assert!(line(&report, "smtp").starts_with("ok"), "{report}");
    assert!(line(&report, "smtp").contains("answered EHLO"), "{report}");
    assert!(
        line(&report, "store").contains("created at the first start"),
        "{report}"
    );
    assert!(line(&report, "translation").starts_with("ok"), "{report}");
    assert!(line(&report, "triage rules").starts_with("ok"), "{report}");
    assert!(
        report.ends_with("switchyard doctor: everything answered (0 warnings)\n"),
        "{report}"
    );

    // The first accounts from the command line create and migrate the store.
    let out = agents(
        &config_arg,
        &data,
        &[
            "add",
            "jane",
            "--name",
            "Jane Doe",
            "--role",
            "supervisor",
            "--queue",
            "critical",
            "--max-open",
            "3",
        ],
        None,
    )
    .await?;
    let said = stdout(&out);
    assert!(out.status.success(), "{said} {}", String::from_utf8_lossy(&out.stderr));
    let one_time = said
        .lines()
        .find_map(|l| l.strip_prefix("one-time password: "))
        .unwrap_or_default()
        .to_string();
    assert_eq!(one_time.len(), 20, "{said}");
    let out = agents(
        &config_arg,
        &data,
        &["add", "bob", "--password-stdin"],
        Some("bob-password-1\n"),
    )
    .await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = agents(
        &config_arg,
        &data,
        &["add", "bob", "--password-stdin"],
        Some("bob-password-1\n"),
    )
    .await?;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bob already exists"));
    let out = agents(&config_arg, &data, &["add", "eve", "--password-stdin"], Some("short\n")).await?;
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("weak password"),
        "{out:?}"
    );
    let listed = stdout(&agents(&config_arg, &data, &["list"], None).await?);
    let jane = listed.lines().find(|l| l.contains(" jane ")).unwrap_or_default();
    assert!(
        jane.contains("supervisor") && jane.contains("invited") && jane.contains("critical"),
        "{listed}"
    );
    assert!(!listed.contains(" eve "), "{listed}");

    // The store is there now, migrated by the same code as a start.
    let out = run(&doctor_args(&config_arg, &data), None).await?;
    let report = stdout(&out);
    assert!(line(&report, "store").contains("schema up to date"), "{report}");

    // The accounts work on the gateway: bob signs in with his password.
    let mut gateway = ChildServer::start_with_config(BINARY, Path::new(&data), &config).await?;
    let bob = AgentClient::login(&gateway.base(), "bob", "bob-password-1").await?;
    let (status, _) = bob.get("/api/v1/queues").await?;
    assert_eq!(status, 200);
    // Disabled from the command line while the gateway runs: the session ends.
    let out = agents(&config_arg, &data, &["disable", "bob"], None).await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, _) = bob.get("/api/v1/queues").await?;
    assert_eq!(status, 401, "a disabled account's session is gone");
    assert!(
        AgentClient::login(&gateway.base(), "bob", "bob-password-1")
            .await
            .is_err()
    );
    gateway.kill();

    // A wrong IMAP password, a closed SMTP port and a refused translation key: each named.
    let elsewhere = dir.path().join("wrong");
    std::fs::create_dir_all(&elsewhere)?;
    let wrong = write_gateway_config(&elsewhere, &dovecot, &sink, "")?;
    let text = std::fs::read_to_string(&wrong)?
        .replace(
            &format!("password = \"{}\"", e2e::mail::MAIL_PASSWORD),
            "password = \"not-the-password\"",
        )
        .replace(&format!("port = {}", sink.port), "port = 9");
    std::fs::write(&wrong, text)?;
    append(
        &wrong,
        &format!(
            "\n[translation]\nprovider = \"deepl\"\nurl = \"{}\"\napi_key = \"wrong\"\nagent_language = \"fr\"\n",
            translate.url()
        ),
    )?;
    let out = run(&doctor_args(&wrong.to_string_lossy(), &data), None).await?;
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(line(&report, "imap sav").starts_with("FAIL"), "{report}");
    assert!(line(&report, "imap sav").to_lowercase().contains("auth"), "{report}");
    assert!(line(&report, "smtp").starts_with("FAIL"), "{report}");
    assert!(line(&report, "smtp").contains("127.0.0.1:9"), "{report}");
    assert!(line(&report, "translation").starts_with("FAIL"), "{report}");
    assert!(line(&report, "store").starts_with("ok"), "{report}");
    assert!(
        report.ends_with("switchyard doctor: 3 checks failed, 0 warnings\n"),
        "{report}"
    );

    // A rule file with a mistake is named with its line and column.
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "version = 1\n[[rules]]\nname = \"x\"\npriority = \"urgent\"\nwhen = { keywords = \"nope\" }\n",
    )?;
    append(&config, &format!("\n[triage]\nrules = \"{}\"\n", rules.display()))?;
    let out = run(&doctor_args(&config_arg, &data), None).await?;
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(line(&report, "triage rules").starts_with("FAIL"), "{report}");
    assert!(report.contains("line 4, column 12: unknown priority"), "{report}");
    Ok(())
}

#[tokio::test]
async fn doctor_reads_each_whatsapp_number_with_the_access_token() -> anyhow::Result<()> {
    let stub = e2e::graph_stub::GraphStub::start().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("switchyard.toml");
    let write = |token: &str| {
        std::fs::write(
            &config,
            format!(
                "[whatsapp]\nenabled = true\napp_secret = \"s\"\nverify_token = \"v\"\naccess_token = \"{token}\"\ngraph_url = \"{}\"\n\n[[whatsapp.numbers]]\nphone_number_id = \"{}\"\nname = \"SAV\"\nlanguage = \"fr\"\n",
                stub.url(),
                e2e::wa::PNID
            ),
        )
    };
    let config_arg = config.to_string_lossy().into_owned();
    let data = dir.path().join("data").to_string_lossy().into_owned();
    write(e2e::graph_stub::TOKEN)?;
    let out = run(&doctor_args(&config_arg, &data), None).await?;
    let report = stdout(&out);
    assert!(out.status.success(), "{report}");
    let number = format!("whatsapp {}", e2e::wa::PNID);
    assert!(line(&report, &number).starts_with("ok"), "{report}");
    assert!(
        line(&report, &number).contains("+33 1 86 95 00 01 (SAV Maker)"),
        "{report}"
    );
    write("expired-token")?;
    let out = run(&doctor_args(&config_arg, &data), None).await?;
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(line(&report, &number).contains("access token is refused"), "{report}");
    Ok(())
}

#[tokio::test]
async fn doctor_reads_a_postgresql_store_without_migrating_it() -> anyhow::Result<()> {
    let db = e2e::postgres::TestDatabase::create().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("switchyard.toml");
    std::fs::write(&config, format!("[store]\nurl = \"{}\"\n", db.url))?;
    let config_arg = config.to_string_lossy().into_owned();
    let data = dir.path().to_string_lossy().into_owned();
    let report = stdout(&run(&doctor_args(&config_arg, &data), None).await?);
    assert!(line(&report, "store").starts_with("warn"), "{report}");
    assert!(
        line(&report, "store").contains("postgresql reachable; 0 of"),
        "{report}"
    );
    // Still nothing applied: the doctor changed nothing.
    let report = stdout(&run(&doctor_args(&config_arg, &data), None).await?);
    assert!(line(&report, "store").contains("0 of"), "{report}");
    let out = run(&["agents", "--config", &config_arg, "list"], None).await?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = stdout(&run(&doctor_args(&config_arg, &data), None).await?);
    assert!(
        line(&report, "store").contains("postgresql reachable, schema up to date"),
        "{report}"
    );
    db.drop_database().await?;
    Ok(())
}
