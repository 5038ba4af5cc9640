//! The `switchyard` command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::config::Config;
use crate::server::Gateway;

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "Omnichannel triage gateway for technical hotlines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        /// Configuration file (switchyard.toml); optional.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (overrides server.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Check the configuration and reach every server it names (store, IMAP,
    /// SMTP, WhatsApp Graph API, translation); exit 1 if any check fails.
    Doctor {
        /// Configuration file (switchyard.toml); optional.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (overrides server.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Agent accounts, without the API (first steps, a locked-out admin).
    Agents {
        /// Configuration file (switchyard.toml); optional.
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// Data directory (overrides server.data_dir).
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// Work with triage rules.
    Triage {
        #[command(subcommand)]
        command: TriageCommand,
    },
    /// Look at mail as the gateway sees it.
    Email {
        #[command(subcommand)]
        command: EmailCommand,
    },
    /// Print the agent API's OpenAPI 3.1 document (also served at
    /// /api/v1/openapi.json), to generate a client without a running gateway.
    Openapi,
    /// Copy the embedded store and the attachment files into DEST (absent or
    /// empty), consistently, while the gateway runs.
    Backup {
        dest: PathBuf,
        /// Configuration file (switchyard.toml); optional.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (overrides server.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Restore a backup from SRC into an empty data directory; start the
    /// gateway on it afterwards.
    Restore {
        src: PathBuf,
        /// Configuration file (switchyard.toml); optional.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (overrides server.data_dir).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AgentsCommand {
    /// Create an account; without --password-stdin a one-time password is
    /// printed, to be changed at the first sign-in.
    Add {
        username: String,
        /// The name customers and colleagues see (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// agent, supervisor or admin.
        #[arg(long, default_value = "agent")]
        role: String,
        /// A queue the agent works (repeat for several).
        #[arg(long = "queue")]
        queues: Vec<String>,
        /// Open conversations the agent may hold at once (default 5).
        #[arg(long)]
        max_open: Option<i64>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every account with its role, state and queues.
    List,
    /// Disable an account: its sessions end and it cannot sign in.
    Disable { username: String },
}

#[derive(Subcommand)]
enum EmailCommand {
    /// Print, as JSON, the normalised message the pipeline would see for a raw mail
    /// (RFC 5322 file; an mbox "From " first line is tolerated).
    Inspect {
        file: PathBuf,
        /// Configuration file, for our own addresses and the loop id.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum TriageCommand {
    /// Validate a rule file: every mistake with line, column and a hint. Exit 1 if any.
    Check { file: PathBuf },
    /// Classify JSON Lines from stdin ({"id","channel","from","subject","text"}), one verdict per line on stdout.
    Classify {
        /// Rule file; the built-in rules when absent.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Knowledge-base folder; the built-in entries when absent.
        #[arg(long)]
        kb: Option<PathBuf>,
    },
    /// Score rules on labelled history: JSON Lines with `expected` (critical, important or faq)
    /// per message; prints the confusion matrix, precision and recall per class, and every
    /// miss with the rules that fired and the words they matched.
    Eval {
        file: PathBuf,
        /// Rule file; the built-in rules when absent.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Knowledge-base folder; the built-in entries when absent.
        #[arg(long)]
        kb: Option<PathBuf>,
    },
    /// Print the built-in rule file, a starting point for your own.
    Defaults,
    /// Print the shipped concept lexicons that any rule file can name.
    Concepts,
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();
    match cli.command {
        Command::Triage { command } => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match command {
                TriageCommand::Check { file } => {
                    if !crate::triage_cli::check(&file, &mut out)? {
                        std::process::exit(1);
                    }
                    Ok(())
                }
                TriageCommand::Classify { rules, kb } => {
                    crate::triage_cli::classify(rules.as_deref(), kb.as_deref(), std::io::stdin().lock(), &mut out)
                }
                TriageCommand::Eval { file, rules, kb } => {
                    if !crate::triage_cli::eval(&file, rules.as_deref(), kb.as_deref(), &mut out)? {
                        std::process::exit(1);
                    }
                    Ok(())
                }
                TriageCommand::Defaults => {
                    use std::io::Write;
                    out.write_all(triage::rules::DEFAULT_RULES.as_bytes())?;
                    Ok(())
                }
                TriageCommand::Concepts => {
                    use std::io::Write;
                    out.write_all(triage::rules::CONCEPTS.as_bytes())?;
                    Ok(())
                }
            }
        }
        Command::Email {
            command: EmailCommand::Inspect { file, config },
        } => {
            let cfg = Config::load(config.as_deref()).context("reading the configuration")?;
            let raw = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let stdout = std::io::stdout();
            crate::email::inspect(&raw, &cfg.email, &mut stdout.lock())
        }
        Command::Openapi => {
            let doc = crate::api::document()
                .to_pretty_json()
                .context("writing the OpenAPI document")?;
            println!("{doc}");
            Ok(())
        }
        Command::Doctor { config, data_dir } => {
            let mut cfg = Config::load(config.as_deref()).context("reading the configuration")?;
            if let Some(dir) = data_dir {
                cfg.server.data_dir = dir;
            }
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let report = runtime.block_on(crate::doctor::run(&cfg));
            #[allow(clippy::print_stdout)]
            {
                print!("{}", report.render());
            }
            if report.failed() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Agents {
            config,
            data_dir,
            command,
        } => {
            let mut cfg = Config::load(config.as_deref()).context("reading the configuration")?;
            if let Some(dir) = data_dir {
                cfg.server.data_dir = dir;
            }
            std::fs::create_dir_all(&cfg.server.data_dir)
                .with_context(|| format!("creating data directory {}", cfg.server.data_dir.display()))?;
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let mut out = std::io::stdout().lock();
            runtime.block_on(async {
                match command {
                    AgentsCommand::Add {
                        username,
                        name,
                        role,
                        queues,
                        max_open,
                        password_stdin,
                    } => {
                        let password = if password_stdin {
                            let mut line = String::new();
                            std::io::stdin().read_line(&mut line).context("reading the password")?;
                            Some(line.trim_end_matches(['\r', '\n']).to_string())
                        } else {
                            None
                        };
                        let new = crate::agents_cli::NewAccount {
                            username,
                            display_name: name,
                            role,
                            queues,
                            max_open,
                            password,
                        };
                        crate::agents_cli::add(&cfg, new, &mut out).await
                    }
                    AgentsCommand::List => crate::agents_cli::list(&cfg, &mut out).await,
                    AgentsCommand::Disable { username } => crate::agents_cli::disable(&cfg, &username, &mut out).await,
                }
            })
        }
        Command::Backup { dest, config, data_dir } => {
            let cfg = embedded_store_config(config.as_deref(), data_dir)?;
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let manifest = runtime.block_on(crate::backup::backup(
                &cfg.server.data_dir,
                &dest,
                Clock::system().now_ms(),
            ))?;
            print_manifest("backed up", &dest, &manifest);
            Ok(())
        }
        Command::Restore { src, config, data_dir } => {
            let cfg = embedded_store_config(config.as_deref(), data_dir)?;
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let manifest = runtime.block_on(crate::backup::restore(&src, &cfg.server.data_dir))?;
            print_manifest("restored into", &cfg.server.data_dir, &manifest);
            Ok(())
        }
        Command::Serve {
            config,
            data_dir,
            listen,
        } => {
            let mut cfg = Config::load(config.as_deref()).context("reading the configuration")?;
            if let Some(dir) = data_dir {
                cfg.server.data_dir = dir;
            }
            if let Some(addr) = listen {
                cfg.server.listen = addr;
            }
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            runtime.block_on(serve(cfg))
        }
    }
}

/// The configuration, when the store is the embedded one in the data directory.
fn embedded_store_config(config: Option<&std::path::Path>, data_dir: Option<PathBuf>) -> anyhow::Result<Config> {
    let mut cfg = Config::load(config).context("reading the configuration")?;
    if let Some(dir) = data_dir {
        cfg.server.data_dir = dir;
    }
    if !cfg.store.url.expose().is_empty() {
        anyhow::bail!(
            "store.url is set: backup and restore handle the embedded store of the data directory; \
             back up PostgreSQL with pg_dump (or point-in-time recovery) and copy {} beside it",
            cfg.server.data_dir.join("blobs").display()
        );
    }
    Ok(cfg)
}

#[allow(clippy::print_stdout)]
fn print_manifest(what: &str, place: &std::path::Path, m: &crate::backup::Manifest) {
    for db in &m.databases {
        println!(
            "switchyard: {what} {}: {} ({} bytes, sha256 {})",
            place.display(),
            db.file,
            db.bytes,
            db.sha256
        );
    }
    println!("switchyard: {} attachment files, {} bytes", m.blobs, m.blob_bytes);
    if !m.missing_blobs.is_empty() {
        println!(
            "switchyard: {} files the store names were erased while the backup ran: {}",
            m.missing_blobs.len(),
            m.missing_blobs.join(", ")
        );
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let gateway = Gateway::start(config, Clock::system()).await?;
    let address = listener.local_addr().unwrap_or(listen);
    if let Some(password) = &gateway.generated_admin_password {
        // Shown once, on purpose on stdout: it is the admin's only way in.
        #[allow(clippy::print_stdout)]
        {
            println!("switchyard: created the account \"admin\" with the one-time password: {password}");
            println!(
                "switchyard: sign in at http://{address}/inbox as admin; you will be asked to choose your own password."
            );
        }
    }
    #[allow(clippy::print_stdout)]
    {
        println!("switchyard: listening on http://{address}");
    }
    gateway.serve(listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("SWITCHYARD_LOG").unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn"));
    let json = std::env::var("SWITCHYARD_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colours only for a person at a terminal, never in a log file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
