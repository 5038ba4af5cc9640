//! The customer directory: which account (and tier) a sender belongs to.

use std::collections::HashMap;

use crate::config::AccountConfig;

#[derive(Debug, Clone, Default)]
pub struct Directory {
    by_address: HashMap<String, usize>,
    by_domain: HashMap<String, usize>,
    by_phone: HashMap<String, usize>,
    accounts: Vec<AccountConfig>,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl Directory {
    pub fn new(accounts: &[AccountConfig]) -> Self {
        let mut d = Directory {
            accounts: accounts.to_vec(),
            ..Directory::default()
        };
        for (i, a) in accounts.iter().enumerate() {
            for addr in &a.addresses {
                d.by_address.insert(addr.trim().to_lowercase(), i);
            }
            for dom in &a.domains {
                d.by_domain.insert(dom.trim().trim_start_matches('@').to_lowercase(), i);
            }
            for p in &a.phones {
                d.by_phone.insert(digits(p), i);
            }
        }
        d
    }

    /// The account of a sender: an email address, a phone number or a wa_id.
    pub fn account(&self, sender: &str) -> Option<&AccountConfig> {
        let s = sender.trim().to_lowercase();
        let index = if let Some((_, domain)) = s.rsplit_once('@') {
            self.by_address.get(&s).or_else(|| self.by_domain.get(domain))
        } else {
            let d = digits(&s);
            if d.is_empty() { None } else { self.by_phone.get(&d) }
        };
        index.and_then(|i| self.accounts.get(*i))
    }

    pub fn accounts(&self) -> &[AccountConfig] {
        &self.accounts
    }

    pub fn tier(&self, sender: &str) -> Option<&str> {
        self.account(sender).map(|a| a.tier.as_str()).filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_accounts_by_address_domain_and_number() {
        let d = Directory::new(&[AccountConfig {
            name: "Key".into(),
            tier: "strategic".into(),
            domains: vec!["key-account.com".into()],
            addresses: vec!["Boss@Other.org".into()],
            phones: vec!["+33 6 00 00 00 01".into()],
        }]);
        assert_eq!(d.tier("anyone@key-account.com"), Some("strategic"));
        assert_eq!(d.tier("boss@other.org"), Some("strategic"));
        assert_eq!(d.tier("33600000001"), Some("strategic"));
        assert_eq!(d.tier("someone@else.com"), None);
        assert_eq!(d.tier("visitor:abcd"), None);
    }
}
