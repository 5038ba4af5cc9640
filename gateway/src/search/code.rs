//! Codes — serials, fault codes, models, firmware, phone numbers — compared
//! however they were written: `E-301`, `E301` and `e 301` are one code.

/// Upper-case letters and digits, nothing else: the form codes are compared in.
pub fn normalise(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Enough of a phone number's trailing digits that `+33 6 12 34 56 78` and
/// `06 12 34 56 78` meet, and too many for two numbers to meet by chance.
const PHONE_DIGITS: usize = 9;

/// The comparable key of a phone number, when it has enough digits to be one.
pub fn phone_key(value: &str) -> Option<String> {
    if value.chars().any(char::is_alphabetic) {
        return None;
    }
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return None;
    }
    Some(digits[digits.len().saturating_sub(PHONE_DIGITS)..].iter().collect())
}

/// A code as the words a tokenizer splits it into: at every separator and
/// every change between letters and digits (`SN-4471B` → `sn 4471 b`).
pub fn parts(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut last_digit: Option<bool> = None;
    for c in value.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            last_digit = None;
            continue;
        }
        let digit = c.is_ascii_digit();
        if last_digit.is_some_and(|d| d != digit) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        last_digit = Some(digit);
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A word that names a code rather than says something: letters and digits
/// mixed (`E301`, `SN4471`), or digits joined by separators (`22-0417`).
pub fn looks_like_code(token: &str) -> bool {
    let alnum = token.chars().filter(|c| c.is_alphanumeric()).count();
    let digits = token.chars().filter(char::is_ascii_digit).count();
    if alnum < 2 || digits == 0 {
        return false;
    }
    let letters = alnum - digits;
    let separated = token.chars().any(|c| matches!(c, '-' | '/' | '.' | '_'));
    letters > 0 || separated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_code_however_written() {
        for written in ["E-301", "E301", "e 301", "e.301"] {
            assert_eq!(normalise(written), "E301", "{written}");
        }
        assert_eq!(normalise("22-0417"), "220417");
    }

    #[test]
    fn a_number_with_its_country_code_meets_its_national_form() {
        assert_eq!(phone_key("+33 6 12 34 56 78"), phone_key("06.12.34.56.78"));
        assert_eq!(phone_key("+33 6 12 34 56 78").as_deref(), Some("612345678"));
        assert_eq!(phone_key("1234"), None, "too short to be a number");
        assert_eq!(phone_key("E-3012345678"), None, "letters: a code, not a number");
    }

    #[test]
    fn parts_split_where_a_tokenizer_does() {
        assert_eq!(parts("E-301"), ["e", "301"]);
        assert_eq!(parts("E301"), ["e", "301"]);
        assert_eq!(parts("SN-4471B"), ["sn", "4471", "b"]);
        assert_eq!(parts("22-0417"), ["22", "0417"]);
    }

    #[test]
    fn codes_are_told_from_words_and_numbers() {
        for code in ["E301", "E-301", "22-0417", "SN4471", "v2.4"] {
            assert!(looks_like_code(code), "{code}");
        }
        for word in ["pompe", "301", "E", "arrêt"] {
            assert!(!looks_like_code(word), "{word}");
        }
    }
}
