//! The configuration file: read over the defaults, then what the gateway
//! derives from it at start (service levels and calendars, chat limits,
//! addresses). A bad file is an error naming what is wrong, never a panic.
#![no_main]

use gateway::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    let Ok(text) = std::str::from_utf8(raw) else {
        return;
    };
    let Ok(config) = Config::from_toml(text) else {
        return;
    };
    let _ = gateway::sla::SlaPolicies::parse(&config.sla);
    let _ = gateway::webchat::ChatLimits::new(&config.webchat.limits);
    let _ = gateway::reports::weekly::weekday(&config.reports.weekly_day);
    let _ = config.store_url();
    let _ = config.email.own_addresses();
    let _ = config.email.message_id_domain();
    let _ = config.whatsapp.missing_secrets();
});
