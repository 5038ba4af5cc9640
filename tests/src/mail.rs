//! Real mail servers for the email tests: Dovecot (IMAP with IDLE) from a
//! generated configuration in a temp dir, and an SMTP sink (aiosmtpd) that
//! writes what it receives to a folder. Missing binaries are an error, never a
//! silent skip: `scripts/test.sh` installs them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use async_imap::Client;
use futures_util::TryStreamExt;

pub const MAIL_USER: &str = "sav";
pub const MAIL_PASSWORD: &str = "secret";
/// The SAV address the gateway reads and answers from.
pub const SAV: &str = "sav@maker.test";

/// An in-process gateway configuration reading Dovecot's `sav` mailbox and
/// sending through the sink.
pub fn email_config(dir: &Path, dovecot: &Dovecot, sink: &SmtpSink) -> gateway::config::Config {
    use gateway::config::{MailSecurity, MailboxConfig, Secret, SmtpConfig};
    let mut c = crate::test_config(dir);
    c.email.enabled = true;
    c.email.address = SAV.into();
    c.email.display_name = "SAV Maker".into();
    c.email.loop_id = "e2e-node".into();
    c.email.smtp = SmtpConfig {
        host: "127.0.0.1".into(),
        port: sink.port,
        security: MailSecurity::Plain,
        timeout_secs: 10,
        ..SmtpConfig::default()
    };
    c.email.mailboxes = vec![MailboxConfig {
        name: "sav".into(),
        host: "127.0.0.1".into(),
        port: dovecot.port,
        security: MailSecurity::Plain,
        user: MAIL_USER.into(),
        password: Secret::new(MAIL_PASSWORD),
        timeout_secs: 10,
        max_backoff_secs: 2,
        ..MailboxConfig::default()
    }];
    c.outbox.retry_base_secs = 1;
    c
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for_port(port: u16, what: &str, child: &mut Child) -> anyhow::Result<()> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("{what} exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{what} did not listen on {port} within 10 s")
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Dovecot 2.3 on a loopback port, user `sav` / `secret`, Maildir in a temp dir.
pub struct Dovecot {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
    _tmp: tempfile::TempDir,
}

impl Dovecot {
    pub async fn start() -> anyhow::Result<Dovecot> {
        Dovecot::start_with(None).await
    }

    /// Also logs in with SASL XOAUTH2 / OAUTHBEARER, checking each token
    /// against `introspection_url` (Dovecot's oauth2 passdb).
    pub async fn start_with_oauth(introspection_url: &str) -> anyhow::Result<Dovecot> {
        Dovecot::start_with(Some(introspection_url)).await
    }

    async fn start_with(introspection_url: Option<&str>) -> anyhow::Result<Dovecot> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().to_path_buf();
        let port = free_port()?;
        write_config(&dir, port, introspection_url)?;
        let mut d = Dovecot {
            port,
            dir,
            child: None,
            _tmp: tmp,
        };
        d.spawn().await?;
        Ok(d)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let binary = std::env::var("SWITCHYARD_TEST_DOVECOT").unwrap_or_else(|_| "/usr/sbin/dovecot".into());
        let mut child = Command::new(&binary)
            .args(["-F", "-c"])
            .arg(self.dir.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {binary} (apt-get install dovecot-imapd; scripts/test.sh does it)"))?;
        wait_for_port(self.port, "dovecot", &mut child).await?;
        self.child = Some(child);
        Ok(())
    }

    /// Stops the server (dropping every connection, IDLE included) and starts it again on the same port and mail.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        // The listening socket is released by the master on exit; wait until the port is free.
        for _ in 0..100 {
            if std::net::TcpListener::bind(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.spawn().await
    }

    /// Drops every session of `user` (`doveadm kick`), as a server does to
    /// long-lived connections; the mail and the server stay.
    pub fn kick(&self, user: &str) -> anyhow::Result<()> {
        let status = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .args(["kick", user])
            .stdout(Stdio::null())
            .status()
            .context("doveadm kick (comes with dovecot-core)")?;
        if !status.success() {
            bail!("doveadm kick {user}: {status}");
        }
        Ok(())
    }

    /// Dovecot's log so far, for a failing test to show.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            for _ in 0..100 {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A fresh IMAP client logged in as `sav`.
    pub async fn client(&self) -> anyhow::Result<async_imap::Session<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await?;
        let mut client = Client::new(tcp);
        client.read_response().await?.context("no IMAP greeting")?;
        client
            .login(MAIL_USER, MAIL_PASSWORD)
            .await
            .map_err(|(e, _)| anyhow::anyhow!("IMAP login: {e}"))
    }

    /// IMAP APPEND of a raw message to a folder, as a mail client or an MTA would deliver it.
    pub async fn append(&self, folder: &str, raw: &[u8]) -> anyhow::Result<()> {
        let mut s = self.client().await?;
        s.append(folder, None, None, raw).await?;
        let _ = s.logout().await;
        Ok(())
    }

    pub async fn create_folder(&self, folder: &str) -> anyhow::Result<()> {
        let mut s = self.client().await?;
        s.create(folder).await?;
        let _ = s.logout().await;
        Ok(())
    }

    /// How many messages a folder holds (0 when it does not exist; any other
    /// IMAP failure is an error, not a count of 0).
    pub async fn count(&self, folder: &str) -> anyhow::Result<u32> {
        use futures_util::TryStreamExt;
        let mut s = self.client().await?;
        let exists = !s
            .list(None, Some(folder))
            .await?
            .try_collect::<Vec<_>>()
            .await?
            .is_empty();
        let n = if exists {
            s.status(folder, "(MESSAGES)").await?.exists
        } else {
            0
        };
        let _ = s.logout().await;
        Ok(n)
    }

    /// The Message-IDs in a folder, for exactly-once checks.
    pub async fn message_ids(&self, folder: &str) -> anyhow::Result<Vec<String>> {
        let mut s = self.client().await?;
        let mailbox = s.select(folder).await?;
        let mut ids = Vec::new();
        if mailbox.exists > 0 {
            let fetches: Vec<_> = s
                .fetch("1:*", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")
                .await?
                .try_collect()
                .await?;
            for f in &fetches {
                if let Some(h) = f.header() {
                    ids.extend(channels::email::parse_ids(&String::from_utf8_lossy(h)));
                }
            }
        }
        let _ = s.logout().await;
        Ok(ids)
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The configuration of the recipe in `../shared/recipes/dovecot`, for any user and a given port.
fn write_config(dir: &Path, port: u16, introspection_url: Option<&str>) -> anyhow::Result<()> {
    for sub in ["run", "state", "home"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let root = command_output("id", &["-u"]) == "0";
    let (mail_user, internal, login) = if root {
        // Dovecot refuses uid 0 for mail processes: the mailbox belongs to an unprivileged account.
        ("nobody".to_string(), "dovecot".to_string(), "dovenull".to_string())
    } else {
        let me = command_output("id", &["-un"]);
        (me.clone(), me.clone(), me)
    };
    let uid = command_output("id", &["-u", &mail_user]);
    let gid = command_output("id", &["-g", &mail_user]);
    let internal_group = command_output("id", &["-gn", &internal]);
    if root {
        let status = Command::new("chown")
            .arg(format!("{mail_user}:{gid}"))
            .arg(dir.join("home"))
            .status()?;
        if !status.success() {
            bail!("chown of the Dovecot home failed");
        }
    }
    let d = dir.display();
    // Tokens checked by the authorization server's introspection endpoint; the
    // password database stays for the tests' own IMAP client.
    let (mechanisms, oauth_passdb) = match introspection_url {
        Some(url) => {
            std::fs::write(
                dir.join("dovecot-oauth2.conf.ext"),
                format!(
                    "introspection_mode = post\nintrospection_url = {url}\nforce_introspection = yes\n\
                     username_attribute = username\nactive_attribute = active\nactive_value = true\n"
                ),
            )?;
            (
                "plain login xoauth2 oauthbearer",
                format!(
                    "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {d}/dovecot-oauth2.conf.ext\n}}\n"
                ),
            )
        }
        None => ("plain login", String::new()),
    };
    std::fs::write(
        dir.join("passwd"),
        format!("{MAIL_USER}:{{PLAIN}}{MAIL_PASSWORD}:{uid}:{gid}::{d}/home/{MAIL_USER}\n"),
    )?;
    let conf = format!(
        r#"base_dir = {d}/run
state_dir = {d}/state
instance_name = switchyard-test-{port}
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%n {d}/passwd
}}
{oauth_passdb}
userdb {{
  driver = passwd-file
  args = username_format=%n {d}/passwd
}}
protocol imap {{
  mail_max_userip_connections = 1000
  imap_idle_notify_interval = 2 mins
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = $default_internal_user
}}
service auth-worker {{
  user = $default_internal_user
}}
"#
    );
    std::fs::write(dir.join("dovecot.conf"), conf)?;
    Ok(())
}

/// aiosmtpd writing every message it accepts into a folder.
pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
    _tmp: tempfile::TempDir,
}

/// One message the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    pub raw: String,
    pub rcpt_tos: Vec<String>,
    /// Who authenticated (XOAUTH2), when the sink asks for it.
    pub auth: Option<String>,
}

impl Received {
    /// The decoded text body.
    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .and_then(|m| m.body_text(0).map(|t| t.to_string()))
            .unwrap_or_default()
    }

    /// The decoded subject (encoded words undone), as a mail client shows it.
    pub fn subject(&self) -> Option<String> {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .and_then(|m| m.subject().map(str::to_string))
    }

    /// Attached files: name, content type, bytes.
    pub fn attachments(&self) -> Vec<(String, String, Vec<u8>)> {
        use mail_parser::MimeHeaders;
        let Some(m) = mail_parser::MessageParser::default().parse(self.raw.as_bytes()) else {
            return Vec::new();
        };
        m.attachments()
            .map(|a| {
                let kind = a
                    .content_type()
                    .map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()))
                    .unwrap_or_default();
                (
                    a.attachment_name().unwrap_or_default().to_string(),
                    kind,
                    a.contents().to_vec(),
                )
            })
            .collect()
    }

    /// A header's value, unfolded.
    pub fn header(&self, name: &'static str) -> Option<String> {
        let message = mail_parser::MessageParser::default().parse(self.raw.as_bytes())?;
        let raw = message.header_raw(name)?;
        Some(raw.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

impl SmtpSink {
    pub async fn start() -> anyhow::Result<SmtpSink> {
        SmtpSink::start_with(None).await
    }

    /// Offers only AUTH XOAUTH2, checks tokens against `introspection_url`, and takes mail only after it.
    pub async fn start_with_oauth(introspection_url: &str) -> anyhow::Result<SmtpSink> {
        SmtpSink::start_with(Some(introspection_url)).await
    }

    async fn start_with(introspection_url: Option<&str>) -> anyhow::Result<SmtpSink> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("received");
        let port = free_port()?;
        let python = std::env::var("SWITCHYARD_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("servers/smtp_sink.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(&dir)
            .arg(port.to_string())
            .args(introspection_url)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| {
                format!("starting the SMTP sink with {python} (needs python3-aiosmtpd; scripts/test.sh installs it)")
            })?;
        wait_for_port(port, "the SMTP sink", &mut child).await?;
        Ok(SmtpSink {
            port,
            dir,
            child,
            _tmp: tmp,
        })
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .into_iter()
            .filter_map(|json| {
                let envelope: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).ok()?).ok()?;
                let raw = std::fs::read(json.with_extension("eml")).ok()?;
                Some(Received {
                    raw: String::from_utf8_lossy(&raw).to_string(),
                    rcpt_tos: envelope["rcpt_tos"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                    auth: envelope["auth"].as_str().map(str::to_string),
                })
            })
            .collect()
    }

    /// Waits until a received message satisfies `pred`.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Received) -> bool) -> anyhow::Result<Received> {
        for _ in 0..300 {
            if let Some(r) = self.received().into_iter().find(|r| pred(r)) {
                return Ok(r);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "the SMTP sink did not receive {what} within 15 s; got {} messages",
            self.received().len()
        )
    }
}

/// A gateway configuration file reading Dovecot's `sav` mailbox and sending
/// through the sink; `mailbox_extra` adds keys to the `[[email.mailboxes]]` entry.
pub fn write_gateway_config(
    dir: &Path,
    dovecot: &Dovecot,
    sink: &SmtpSink,
    mailbox_extra: &str,
) -> anyhow::Result<PathBuf> {
    let path = dir.join("switchyard.toml");
    std::fs::write(
        &path,
        format!(
            r#"[email]
enabled = true
address = "sav@maker.test"
loop_id = "e2e-node"
max_acks_per_hour = 100000

[email.smtp]
host = "127.0.0.1"
port = {smtp}
security = "plain"

[[email.mailboxes]]
name = "sav"
host = "127.0.0.1"
port = {imap}
security = "plain"
user = "{MAIL_USER}"
password = "{MAIL_PASSWORD}"
{mailbox_extra}
"#,
            smtp = sink.port,
            imap = dovecot.port
        ),
    )?;
    Ok(path)
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
