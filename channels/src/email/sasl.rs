//! The SASL initial responses of token logins (RFC 7628 OAUTHBEARER and
//! Google's and Microsoft's XOAUTH2), as IMAP and SMTP send them (the
//! transport base64-encodes them).

/// XOAUTH2: `user=<user>^Aauth=Bearer <token>^A^A`.
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// OAUTHBEARER (RFC 7628 §3.1): a GS2 header naming the user, then the
/// bearer token. `,` and `=` in the user are escaped as the GS2 header wants.
pub fn oauthbearer(user: &str, token: &str) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01auth=Bearer {token}\x01\x01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_is_the_documented_string() {
        // The example of Google's XOAUTH2 documentation, before base64.
        assert_eq!(
            xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
        );
    }

    #[test]
    fn oauthbearer_escapes_the_user_in_its_gs2_header() {
        assert_eq!(
            oauthbearer("a,b=c@x", "tok"),
            "n,a=a=2Cb=3Dc@x,\x01auth=Bearer tok\x01\x01"
        );
    }
}
