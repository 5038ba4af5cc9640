//! What a new account must be, checked the same way by the API and by
//! `switchyard agents add`.

/// Why an account cannot be created as asked: a stable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AccountError {
    pub code: &'static str,
    pub message: String,
}

pub const ROLES: [&str; 3] = ["agent", "supervisor", "admin"];

/// Shortest password an account may be given.
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn check_username(username: &str) -> Result<(), AccountError> {
    if username.is_empty()
        || username.len() > 64
        || !username.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c))
    {
        return Err(AccountError {
            code: "bad_username",
            message: "1 to 64 letters, digits, '.', '_', '-' or '@'".into(),
        });
    }
    Ok(())
}

pub fn check_role(role: &str) -> Result<(), AccountError> {
    if !ROLES.contains(&role) {
        return Err(AccountError {
            code: "bad_role",
            message: "role is agent, supervisor or admin".into(),
        });
    }
    Ok(())
}

pub fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError {
            code: "weak_password",
            message: format!("use at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    Ok(())
}

/// A new account: its name, its role and its first password.
pub fn check_new_account(username: &str, role: &str, password: &str) -> Result<(), AccountError> {
    check_username(username)?;
    check_role(role)?;
    check_password(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mistake_has_its_code() {
        assert_eq!(check_new_account("jane.doe@sav", "agent", "0123456789"), Ok(()));
        let code = |u: &str, r: &str, p: &str| check_new_account(u, r, p).err().map(|e| e.code);
        assert_eq!(code("", "agent", "0123456789"), Some("bad_username"));
        assert_eq!(code("jane doe", "agent", "0123456789"), Some("bad_username"));
        assert_eq!(code(&"x".repeat(65), "agent", "0123456789"), Some("bad_username"));
        assert_eq!(code("jane", "root", "0123456789"), Some("bad_role"));
        assert_eq!(code("jane", "agent", "012345678"), Some("weak_password"));
        assert_eq!(
            code("jane", "agent", "ééééééééé"),
            Some("weak_password"),
            "counted in characters"
        );
    }
}
