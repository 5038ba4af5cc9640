//! What a mailbox's OAuth 2 configuration means at the token endpoint: the
//! endpoints and scopes of Microsoft Entra and Google (or the ones given),
//! the form of each grant, and what the endpoint's answer says. Pure.

use serde::Deserialize;

use crate::config::OAuth2Config;

/// How access tokens are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Microsoft 365 app-only: the app's own identity, no user involved.
    ClientCredentials,
    /// Google Workspace: a service account's signed assertion, impersonating the mailbox.
    ServiceAccount,
    /// A refresh token an admin obtained by connecting the mailbox.
    AuthorizationCode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub grant: Grant,
    pub token_url: String,
    pub authorize_url: String,
    pub scope: String,
}

/// The endpoints of `c`, or what is missing from it.
pub fn endpoints(c: &OAuth2Config) -> Result<Endpoints, String> {
    let grant = match c.grant.as_str() {
        "client_credentials" => Grant::ClientCredentials,
        "service_account" => Grant::ServiceAccount,
        "authorization_code" => Grant::AuthorizationCode,
        other => {
            return Err(format!(
                "oauth2.grant {other:?}: use client_credentials, service_account or authorization_code"
            ));
        }
    };
    let or = |given: &str, default: String| {
        if given.trim().is_empty() {
            default
        } else {
            given.trim().to_string()
        }
    };
    let (token_url, authorize_url, scope) = match c.provider.as_str() {
        "microsoft" => {
            if c.tenant.trim().is_empty() && c.token_url.trim().is_empty() {
                return Err("oauth2.tenant: the Microsoft Entra tenant id or domain".into());
            }
            let base = format!("https://login.microsoftonline.com/{}/oauth2/v2.0", c.tenant.trim());
            // App-only tokens carry the app's Exchange roles (IMAP.AccessAsApp,
            // SMTP.SendAsApp); delegated ones ask for the user's permissions.
            let scope = match grant {
                Grant::ClientCredentials => "https://outlook.office365.com/.default",
                _ => {
                    "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access"
                }
            };
            (
                or(&c.token_url, format!("{base}/token")),
                or(&c.authorize_url, format!("{base}/authorize")),
                or(&c.scope, scope.into()),
            )
        }
        "google" => (
            or(&c.token_url, "https://oauth2.googleapis.com/token".into()),
            or(&c.authorize_url, "https://accounts.google.com/o/oauth2/v2/auth".into()),
            or(&c.scope, "https://mail.google.com/".into()),
        ),
        "custom" => {
            if c.token_url.trim().is_empty() {
                return Err("oauth2.token_url is required with provider = \"custom\"".into());
            }
            (
                c.token_url.trim().into(),
                c.authorize_url.trim().into(),
                c.scope.trim().into(),
            )
        }
        other => return Err(format!("oauth2.provider {other:?}: use microsoft, google or custom")),
    };
    if grant == Grant::ClientCredentials && c.client_id.trim().is_empty() {
        return Err("oauth2.client_id is required for client_credentials".into());
    }
    if !matches!(c.mechanism.as_str(), "xoauth2" | "oauthbearer") {
        return Err(format!(
            "oauth2.mechanism {:?}: use xoauth2 or oauthbearer",
            c.mechanism
        ));
    }
    if grant == Grant::ServiceAccount && c.service_account_file.trim().is_empty() {
        return Err("oauth2.service_account_file is required for service_account".into());
    }
    Ok(Endpoints {
        grant,
        token_url,
        authorize_url,
        scope,
    })
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Seconds; absent: an hour, the providers' usual lifetime.
    pub expires_in: Option<i64>,
    /// A new refresh token (providers may rotate them).
    pub refresh_token: Option<String>,
}

/// What went wrong at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Consent is missing or was withdrawn, the secret or the refresh token
    /// is no longer valid: only an admin can fix it.
    #[error("{0}")]
    NeedsReconnect(String),
    /// The endpoint is unreachable or failing: try again later.
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

/// The answer to a token request: a token, or which kind of failure.
pub fn parse_response(status: u16, body: &[u8]) -> Result<TokenResponse, TokenError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice::<TokenResponse>(body)
            .map_err(|e| TokenError::Unavailable(format!("token endpoint answered {status} without a token: {e}")));
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        // RFC 6749 §5.2 errors that a retry will not cure.
        Ok(e)
            if matches!(
                e.error.as_str(),
                "invalid_grant"
                    | "invalid_client"
                    | "unauthorized_client"
                    | "access_denied"
                    | "consent_required"
                    | "interaction_required"
                    | "invalid_scope"
            ) =>
        {
            let detail = e.error_description.unwrap_or_default();
            let detail: String = detail.lines().next().unwrap_or_default().chars().take(300).collect();
            Err(TokenError::NeedsReconnect(
                format!("{}: {detail}", e.error)
                    .trim_end_matches([':', ' '])
                    .to_string(),
            ))
        }
        Ok(e) => Err(TokenError::Unavailable(format!("token endpoint {status}: {}", e.error))),
        Err(_) => Err(TokenError::Unavailable(format!("token endpoint answered {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(provider: &str, grant: &str) -> OAuth2Config {
        OAuth2Config {
            provider: provider.into(),
            grant: grant.into(),
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "app".into(),
            service_account_file: "/etc/switchyard/sa.json".into(),
            ..OAuth2Config::default()
        }
    }

    #[test]
    fn microsoft_and_google_endpoints_and_scopes() {
        let m = endpoints(&config("microsoft", "client_credentials")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            m.token_url,
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(m.scope, "https://outlook.office365.com/.default");
        let d = endpoints(&config("microsoft", "authorization_code")).unwrap_or_else(|e| panic!("{e}"));
        assert!(d.scope.contains("IMAP.AccessAsUser.All") && d.scope.contains("offline_access"));
        let g = endpoints(&config("google", "service_account")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (g.token_url.as_str(), g.scope.as_str()),
            ("https://oauth2.googleapis.com/token", "https://mail.google.com/")
        );
    }

    #[test]
    fn what_is_missing_is_named() {
        let mut c = config("custom", "client_credentials");
        assert!(endpoints(&c).is_err_and(|e| e.contains("token_url")));
        c.token_url = "http://127.0.0.1:9/token".into();
        assert!(endpoints(&c).is_ok());
        c.grant = "password".into();
        assert!(endpoints(&c).is_err_and(|e| e.contains("grant")));
        let mut m = config("microsoft", "client_credentials");
        m.tenant.clear();
        assert!(endpoints(&m).is_err_and(|e| e.contains("tenant")));
    }

    #[test]
    fn a_revoked_grant_needs_an_admin_and_an_outage_does_not() {
        let revoked = br#"{"error":"invalid_grant","error_description":"AADSTS70008: The refresh token has expired.\r\nTrace ID: x"}"#;
        assert_eq!(
            parse_response(400, revoked).err(),
            Some(TokenError::NeedsReconnect(
                "invalid_grant: AADSTS70008: The refresh token has expired.".into()
            ))
        );
        assert!(matches!(parse_response(503, b"busy"), Err(TokenError::Unavailable(_))));
        assert!(matches!(
            parse_response(400, br#"{"error":"temporarily_unavailable"}"#),
            Err(TokenError::Unavailable(_))
        ));
        let ok = parse_response(200, br#"{"access_token":"t","expires_in":3599,"token_type":"Bearer"}"#);
        assert!(ok.is_ok_and(|t| t.access_token == "t" && t.expires_in == Some(3599)));
        assert!(matches!(parse_response(200, b"{}"), Err(TokenError::Unavailable(_))));
    }
}
