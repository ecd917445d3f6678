//! The portal's download-form rules, as [`KeygenError`]s. The rules themselves live in
//! `proto::validate` so the server, the app and this module agree.

use proto::validate::{self as rules, FieldCode};

use crate::error::KeygenError;

/// PFX password (4-20 letters or digits) and, when given, its confirmation.
pub fn validate_password(password: &str, confirm: Option<&str>) -> Result<(), KeygenError> {
    match confirm {
        None => rules::pfx_password(password).map_err(KeygenError::password),
        Some(confirm) => rules::pfx_password_pair(password, confirm).map_err(|errors| {
            // The password's own problem is the more useful one to show first.
            let code = errors
                .iter()
                .find(|e| e.field == "password")
                .or(errors.first())
                .map_or(FieldCode::Format, |e| e.code);
            KeygenError::password(code)
        }),
    }
}

/// Download file name without extension: letters and digits only.
pub fn validate_file_name(name: &str) -> Result<(), KeygenError> {
    rules::file_name(name).map_err(KeygenError::file_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        assert_eq!(validate_password("abcd", None), Ok(()));
        assert_eq!(validate_password("abcd", Some("abcd")), Ok(()));
        assert_eq!(
            validate_password("", None),
            Err(KeygenError::PasswordRequired)
        );
        assert_eq!(
            validate_password("abc", None),
            Err(KeygenError::PasswordFormat)
        );
        assert_eq!(
            validate_password("abcd", Some("abce")),
            Err(KeygenError::PasswordMismatch)
        );
        // Both wrong: the format problem wins.
        assert_eq!(
            validate_password("ab!", Some("abce")),
            Err(KeygenError::PasswordFormat)
        );
        assert_eq!(
            validate_password("", Some("")),
            Err(KeygenError::PasswordRequired)
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(validate_file_name("SingleWindow01B00051"), Ok(()));
        assert_eq!(validate_file_name(""), Err(KeygenError::FileNameRequired));
        assert_eq!(
            validate_file_name("Single-Window"),
            Err(KeygenError::FileNameFormat)
        );
        assert_eq!(validate_file_name("../x"), Err(KeygenError::FileNameFormat));
        assert_eq!(
            validate_file_name(&"a".repeat(65)),
            Err(KeygenError::FileNameTooLong)
        );
    }
}
