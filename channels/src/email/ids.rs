//! Message-IDs as they appear in Message-ID, In-Reply-To and References:
//! unfolded, trimmed, without angle brackets. Outlook folds long ids over
//! several lines and some mailers drop the brackets; both must still match.

/// Every id in a header value, in order, without duplicates.
pub fn parse_list(raw: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut push = |id: String| {
        if is_plausible(&id) && !ids.contains(&id) {
            ids.push(id);
        }
    };
    if raw.contains('<') {
        let mut rest = raw;
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('>') else { break };
            push(after[..end].split_whitespace().collect());
            rest = &after[end + 1..];
        }
    } else {
        for token in raw.split(|c: char| c.is_whitespace() || c == ',') {
            push(token.to_string());
        }
    }
    ids
}

/// The first id of a header value (Message-ID, In-Reply-To).
pub fn parse_one(raw: &str) -> Option<String> {
    parse_list(raw).into_iter().next()
}

fn is_plausible(id: &str) -> bool {
    !id.is_empty() && id.len() <= 998 && id.contains('@') && !id.chars().any(|c| c.is_control())
}

/// `<id>` for a header.
pub fn bracket(id: &str) -> String {
    format!("<{id}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_outlook_ids_are_unfolded() {
        let raw = "\r\n <PAXP193MB1234ABCD5678@PAXP193MB1234.EURP193.PROD.OUTLOOK.COM>";
        assert_eq!(
            parse_one(raw).as_deref(),
            Some("PAXP193MB1234ABCD5678@PAXP193MB1234.EURP193.PROD.OUTLOOK.COM")
        );
    }

    #[test]
    fn references_keep_order_and_drop_duplicates() {
        let raw = "<a@x>\r\n\t<b@y> <a@x>\n <c\n @z>";
        assert_eq!(parse_list(raw), vec!["a@x", "b@y", "c@z"]);
    }

    #[test]
    fn ids_without_brackets_and_junk() {
        assert_eq!(parse_list("a@x, b@y"), vec!["a@x", "b@y"]);
        assert!(parse_list("<nonsense>").is_empty());
        assert!(parse_list("").is_empty());
        assert_eq!(parse_one("<unterminated@x"), None);
    }
}
