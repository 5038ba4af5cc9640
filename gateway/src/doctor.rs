//! `switchyard doctor`: checks the configuration the way the gateway reads
//! it at start, then reaches every server it names — the store, each IMAP
//! mailbox (login and folder), the SMTP server (EHLO, and AUTH when a user is
//! set), the WhatsApp Graph API (the token and each number), the translation
//! provider — and says for each what it found. Nothing is written: the store
//! is not migrated, no mail is fetched or sent, no message is translated
//! beyond one word.

use std::fmt::Write as _;
use std::time::Duration;

use crate::config::{Config, MailAuth};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works, but something deserves a look.
    Warn,
    Fail,
    /// Not configured, or not checkable from here.
    Skip,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    pub verdict: Verdict,
    pub detail: String,
}

fn check(what: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check {
        what: what.into(),
        verdict,
        detail: detail.into(),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report(pub Vec<Check>);

impl Report {
    pub fn failed(&self) -> bool {
        self.0.iter().any(|c| c.verdict == Verdict::Fail)
    }

    /// One line per check, aligned, and a last line with the outcome.
    pub fn render(&self) -> String {
        let width = self.0.iter().map(|c| c.what.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for c in &self.0 {
            let mut lines = c.detail.lines();
            let _ = writeln!(
                out,
                "{:<4}  {:<width$}  {}",
                c.verdict.label(),
                c.what,
                lines.next().unwrap_or_default()
            );
            // A rule file's mistakes, one per line, under their check.
            for more in lines {
                let _ = writeln!(out, "{:<4}  {:<width$}  {more}", "", "");
            }
        }
        let failed = self.0.iter().filter(|c| c.verdict == Verdict::Fail).count();
        let warned = self.0.iter().filter(|c| c.verdict == Verdict::Warn).count();
        let _ = if failed == 0 {
            writeln!(out, "switchyard doctor: everything answered ({warned} warnings)")
        } else {
            writeln!(out, "switchyard doctor: {failed} checks failed, {warned} warnings")
        };
        out
    }
}

/// Everything the configuration names, checked in order.
pub async fn run(config: &Config) -> Report {
    let mut report = Report::default();
    report.0.extend(configuration(config));
    report.0.push(store(config).await);
    report.0.push(data_dir(config));
    if config.email.enabled {
        for m in &config.email.mailboxes {
            report.0.push(mailbox(config, m).await);
        }
        report.0.push(smtp(config).await);
    } else {
        report.0.push(check("email", Verdict::Skip, "[email] is not enabled"));
    }
    if config.whatsapp.enabled {
        report.0.extend(whatsapp(config).await);
    } else {
        report
            .0
            .push(check("whatsapp", Verdict::Skip, "[whatsapp] is not enabled"));
    }
    report.0.push(translation(config).await);
    report
}

/// What the gateway refuses to start with, read by the same functions it uses.
fn configuration(config: &Config) -> Vec<Check> {
    let mut out = Vec::new();
    out.push(match crate::triage_service::load_engine(&config.triage, &[]) {
        Ok(engine) => check(
            "triage rules",
            Verdict::Ok,
            format!(
                "{} rules, {} knowledge entries",
                engine.rules().rules.len(),
                engine.knowledge_base().len()
            ),
        ),
        Err(e) => check("triage rules", Verdict::Fail, e),
    });
    out.push(match crate::triage_service::BusinessHours::parse(&config.triage) {
        Ok(_) => check("business hours", Verdict::Ok, "triage.business_hours read"),
        Err(e) => check("business hours", Verdict::Fail, e),
    });
    out.push(match crate::sla::SlaPolicies::parse(&config.sla) {
        Ok(sla) => {
            let on_call = &config.escalation.on_call_calendar;
            if on_call != "always" && sla.calendar_named(on_call).is_none() {
                check(
                    "service levels",
                    Verdict::Fail,
                    format!("escalation.on_call_calendar {on_call:?} is not an [[sla.calendars]] name"),
                )
            } else {
                check("service levels", Verdict::Ok, "[sla] policies and calendars read")
            }
        }
        Err(e) => check("service levels", Verdict::Fail, e),
    });
    out.push(match config.level1.policy() {
        Ok(_) => check("level 1", Verdict::Ok, "[level1] read"),
        Err(e) => check("level 1", Verdict::Fail, e),
    });
    out
}

/// Connects without migrating and says how far the schema is.
async fn store(config: &Config) -> Check {
    match crate::store::Store::inspect(&config.store_url()).await {
        Ok(s) if !s.exists => check(
            "store",
            Verdict::Ok,
            format!("{}: created at the first start", s.backend),
        ),
        Ok(s) if s.applied == s.known => check(
            "store",
            Verdict::Ok,
            format!("{} reachable, schema up to date ({} migrations)", s.backend, s.known),
        ),
        Ok(s) if s.applied < s.known => check(
            "store",
            Verdict::Warn,
            format!(
                "{} reachable; {} of {} migrations applied, the rest run at the next start",
                s.backend, s.applied, s.known
            ),
        ),
        Ok(s) => check(
            "store",
            Verdict::Fail,
            format!(
                "{} reachable but its schema has {} migrations, this version knows {}: an older binary on a newer store",
                s.backend, s.applied, s.known
            ),
        ),
        Err(e) => check("store", Verdict::Fail, e.to_string()),
    }
}

fn writable(dir: &std::path::Path) -> bool {
    rustix::fs::access(dir, rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK).is_ok()
}

fn data_dir(config: &Config) -> Check {
    let dir = &config.server.data_dir;
    if !dir.exists() {
        // The first start creates it, and whatever is missing above it.
        let existing = dir.ancestors().skip(1).find(|a| a.as_os_str().is_empty() || a.exists());
        let existing = match existing {
            Some(a) if a.as_os_str().is_empty() => std::path::Path::new("."),
            Some(a) => a,
            None => std::path::Path::new("/"),
        };
        return if writable(existing) {
            check(
                "data directory",
                Verdict::Ok,
                format!("{} is created at the first start", dir.display()),
            )
        } else {
            check(
                "data directory",
                Verdict::Fail,
                format!(
                    "{} cannot be created: {} is not writable",
                    dir.display(),
                    existing.display()
                ),
            )
        };
    }
    if !writable(dir) {
        return check(
            "data directory",
            Verdict::Fail,
            format!("{} is not writable", dir.display()),
        );
    }
    match crate::health::free_disk_mb(dir) {
        Some(free) if free < config.server.min_free_disk_mb => check(
            "data directory",
            Verdict::Fail,
            format!(
                "{}: {free} MB free, below server.min_free_disk_mb ({}): the gateway would say not ready",
                dir.display(),
                config.server.min_free_disk_mb
            ),
        ),
        Some(free) => check(
            "data directory",
            Verdict::Ok,
            format!("{} writable, {free} MB free", dir.display()),
        ),
        None => check(
            "data directory",
            Verdict::Warn,
            format!("{} writable; free space unknown", dir.display()),
        ),
    }
}

async fn mailbox(config: &Config, m: &crate::config::MailboxConfig) -> Check {
    let what = format!("imap {}", m.name);
    if m.auth == MailAuth::Oauth2 {
        return check(
            what,
            Verdict::Skip,
            format!(
                "{}@{}:{} logs in with OAuth 2: its authorisation is shown by the running gateway (Mailboxes page, /readyz)",
                m.user, m.host, m.port
            ),
        );
    }
    let password = if m.password.is_empty() {
        config.email.password.expose().to_string()
    } else {
        m.password.expose().to_string()
    };
    let settings = channels::email::ImapSettings {
        host: m.host.clone(),
        port: m.port,
        security: crate::email::security(m.security),
        user: m.user.clone(),
        login: channels::email::ImapLogin::Password(password),
        folder: m.folder.clone(),
        timeout: Duration::from_secs(m.timeout_secs.clamp(1, 30)),
    };
    let place = format!("{}@{}:{}", m.user, m.host, m.port);
    let mut session = match channels::email::ImapSession::connect(&settings).await {
        Ok(s) => s,
        Err(e) => return check(what, Verdict::Fail, format!("{place}: {e}")),
    };
    let outcome = match session.select().await {
        Ok(selected) => check(
            what,
            Verdict::Ok,
            format!(
                "{place}: logged in, folder {:?} has {} messages",
                m.folder, selected.exists
            ),
        ),
        Err(e) => check(what, Verdict::Fail, format!("{place}: folder {:?}: {e}", m.folder)),
    };
    session.logout().await;
    outcome
}

async fn smtp(config: &Config) -> Check {
    let s = &config.email.smtp;
    let place = format!("{}:{}", s.host, s.port);
    if s.auth == MailAuth::Oauth2 {
        return check(
            "smtp",
            Verdict::Skip,
            format!("{place} authenticates with a mailbox's OAuth 2 token: checked by the running gateway"),
        );
    }
    let settings = channels::email::SmtpSettings {
        host: s.host.clone(),
        port: s.port,
        security: crate::email::security(s.security),
        user: s.user.clone(),
        auth: channels::email::SmtpAuth::Password(s.password.expose().to_string()),
        timeout: Duration::from_secs(s.timeout_secs.clamp(1, 30)),
        pool_size: 1,
    };
    let client = match channels::email::SmtpClient::new(&settings) {
        Ok(c) => c,
        Err(e) => return check("smtp", Verdict::Fail, format!("{place}: {}", e.message)),
    };
    match client.check().await {
        Ok(()) if s.user.is_empty() => check(
            "smtp",
            Verdict::Ok,
            format!("{place}: answered EHLO (no login configured)"),
        ),
        Ok(()) => check(
            "smtp",
            Verdict::Ok,
            format!("{place}: answered EHLO, logged in as {}", s.user),
        ),
        Err(e) => check("smtp", Verdict::Fail, format!("{place}: {}", e.message)),
    }
}

async fn whatsapp(config: &Config) -> Vec<Check> {
    let w = &config.whatsapp;
    let graph = match channels::whatsapp::GraphClient::new(
        &w.graph_url,
        w.access_token.expose(),
        Duration::from_secs(w.timeout_secs.clamp(1, 30)),
    ) {
        Ok(g) => g,
        Err(e) => return vec![check("whatsapp", Verdict::Fail, e)],
    };
    if w.numbers.is_empty() {
        return vec![check(
            "whatsapp",
            Verdict::Fail,
            "[whatsapp] is enabled but lists no numbers",
        )];
    }
    let mut out = Vec::new();
    for n in &w.numbers {
        let what = format!("whatsapp {}", n.phone_number_id);
        out.push(match graph.phone_number(&n.phone_number_id).await {
            Ok(display) => check(
                what,
                Verdict::Ok,
                format!("the access token reads the number {display}"),
            ),
            Err(e) => check(
                what,
                Verdict::Fail,
                match e.http_status {
                    Some(401) => format!("{}: the access token is refused (HTTP 401)", w.graph_url),
                    Some(status) => format!("{}: HTTP {status}: {}", w.graph_url, e.message),
                    None => format!("{}: {}", w.graph_url, e.message),
                },
            ),
        });
    }
    out
}

async fn translation(config: &Config) -> Check {
    let t = &config.translation;
    let provider = match t.provider() {
        Ok(Some(p)) => p,
        Ok(None) => return check("translation", Verdict::Skip, "no [translation] provider"),
        Err(e) => return check("translation", Verdict::Fail, e),
    };
    let http = match crate::translation::provider::client(Duration::from_secs(t.timeout_secs.clamp(1, 30))) {
        Ok(h) => h,
        Err(e) => return check("translation", Verdict::Fail, e),
    };
    let source = if t.agent_language == "en" { "fr" } else { "en" };
    let word = if source == "fr" { "bonjour" } else { "hello" };
    match provider
        .translate(&http, &[word.to_string()], Some(source), &t.agent_language, None)
        .await
    {
        Ok(out) => check(
            "translation",
            Verdict::Ok,
            format!(
                "{} translated {word:?} into {}: {:?}",
                provider.name(),
                t.agent_language,
                out.first().cloned().unwrap_or_default()
            ),
        ),
        Err(e) => check("translation", Verdict::Fail, format!("{}: {e}", provider.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_fails_the_report_and_lines_align() {
        let r = Report(vec![
            check("store", Verdict::Ok, "sqlite reachable"),
            check("imap sav", Verdict::Fail, "login refused"),
            check("whatsapp", Verdict::Skip, "off"),
        ]);
        assert!(r.failed());
        let text = r.render();
        assert!(text.contains("ok    store     sqlite reachable\n"), "{text}");
        assert!(text.contains("FAIL  imap sav  login refused\n"), "{text}");
        assert!(
            text.ends_with("switchyard doctor: 1 checks failed, 0 warnings\n"),
            "{text}"
        );
        assert!(!Report(vec![check("store", Verdict::Warn, "x")]).failed());
    }

    #[tokio::test]
    async fn the_built_in_configuration_is_sound() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut config = Config::default();
        config.server.data_dir = dir.path().join("data");
        let report = run(&config).await;
        assert!(!report.failed(), "{}", report.render());
        let store = report.0.iter().find(|c| c.what == "store");
        assert!(
            store.is_some_and(|c| c.verdict == Verdict::Ok && c.detail.ends_with("created at the first start")),
            "{}",
            report.render()
        );
        let skipped: Vec<&str> = report
            .0
            .iter()
            .filter(|c| c.verdict == Verdict::Skip)
            .map(|c| c.what.as_str())
            .collect();
        assert_eq!(skipped, ["email", "whatsapp", "translation"], "{}", report.render());
    }
}
