//! Who a WhatsApp customer is, when Meta may name them by phone number, by
//! business-scoped user id (BSUID), or both. A pure decision over what the
//! store knows; `store/whatsapp.rs` reads and writes the rows.

/// What the store holds for one customer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Known {
    pub id: i64,
    pub address: String,
    pub phone: Option<String>,
    pub bsuid: Option<String>,
}

/// What to write so the message's identifiers name one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A customer nobody knew: a new row, keyed by `address`.
    New { address: String },
    /// A known customer; fill in an identifier they now showed.
    Known {
        id: i64,
        address: String,
        add_phone: bool,
        add_bsuid: bool,
    },
    /// The phone number and the BSUID were two rows (the BSUID seen alone
    /// first, the number before that): the BSUID moves to the number's row,
    /// whose conversations hold the longer history.
    Link {
        keep: i64,
        address: String,
        release_bsuid_from: i64,
    },
}

impl Resolution {
    pub fn address(&self) -> &str {
        match self {
            Resolution::New { address } | Resolution::Known { address, .. } | Resolution::Link { address, .. } => {
                address
            }
        }
    }
}

/// `phone`/`bsuid`: what the message carried (at least one); `by_phone`,
/// `by_bsuid`: the rows found for each.
pub fn resolve(
    phone: Option<&str>,
    bsuid: Option<&str>,
    by_phone: Option<Known>,
    by_bsuid: Option<Known>,
) -> Option<Resolution> {
    Some(match (by_phone, by_bsuid) {
        (Some(p), Some(b)) if p.id != b.id => Resolution::Link {
            keep: p.id,
            address: p.address,
            release_bsuid_from: b.id,
        },
        (Some(k), _) | (None, Some(k)) => Resolution::Known {
            add_phone: phone.is_some() && k.phone.is_none(),
            add_bsuid: bsuid.is_some() && k.bsuid.is_none(),
            id: k.id,
            address: k.address,
        },
        (None, None) => Resolution::New {
            address: phone.or(bsuid)?.to_string(),
        },
    })
}

/// A BSUID is a country code, a dot and digits (`FR.1349…`, `US.ENT.…` for a
/// parent); a phone number is digits only.
pub fn is_bsuid(address: &str) -> bool {
    let mut parts = address.splitn(2, '.');
    let country = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, address: &str, phone: Option<&str>, bsuid: Option<&str>) -> Known {
        Known {
            id,
            address: address.into(),
            phone: phone.map(Into::into),
            bsuid: bsuid.map(Into::into),
        }
    }

    #[test]
    fn two_customers_without_a_phone_are_two_customers() {
        let alice = resolve(None, Some("FR.111"), None, None);
        let bernd = resolve(None, Some("DE.222"), None, None);
        assert_eq!(alice.as_ref().map(Resolution::address), Some("FR.111"));
        assert_eq!(bernd.as_ref().map(Resolution::address), Some("DE.222"));
    }

    #[test]
    fn nothing_to_name_the_customer_by_is_no_customer() {
        assert_eq!(resolve(None, None, None, None), None);
    }

    #[test]
    fn a_later_message_with_both_links_them_to_the_first_address() {
        let known = row(1, "FR.111", None, Some("FR.111"));
        assert_eq!(
            resolve(Some("33612345678"), Some("FR.111"), None, Some(known)),
            Some(Resolution::Known {
                id: 1,
                address: "FR.111".into(),
                add_phone: true,
                add_bsuid: false
            })
        );
        let by_number = row(2, "33612345678", Some("33612345678"), None);
        assert_eq!(
            resolve(Some("33612345678"), Some("FR.111"), Some(by_number), None),
            Some(Resolution::Known {
                id: 2,
                address: "33612345678".into(),
                add_phone: false,
                add_bsuid: true
            })
        );
    }

    #[test]
    fn two_rows_of_one_person_join_on_the_numbers_row() {
        let by_number = row(2, "33612345678", Some("33612345678"), None);
        let by_bsuid = row(5, "FR.111", None, Some("FR.111"));
        assert_eq!(
            resolve(Some("33612345678"), Some("FR.111"), Some(by_number), Some(by_bsuid)),
            Some(Resolution::Link {
                keep: 2,
                address: "33612345678".into(),
                release_bsuid_from: 5
            })
        );
    }

    #[test]
    fn bsuids_and_numbers_are_told_apart() {
        assert!(is_bsuid("FR.13491208655302741918"));
        assert!(is_bsuid("US.ENT.11815799212886844830"));
        assert!(!is_bsuid("33612345678"));
        assert!(!is_bsuid("fr.1"));
        assert!(!is_bsuid("FR."));
    }
}
