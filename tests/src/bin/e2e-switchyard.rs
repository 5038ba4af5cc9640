//! The `switchyard` binary, built inside the e2e package so its tests can run
//! and kill it as a child process.
fn main() -> anyhow::Result<()> {
    gateway::cli::main()
}
