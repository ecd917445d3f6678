//! The one error type of the crate. Every variant has a stable `code` that JavaScript sees
//! as `KeygenError.code`; messages are for people and may change.

use std::fmt;

use proto::validate::FieldCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeygenError {
    /// RSA modulus size other than 2048, 3072 or 4096.
    KeySize(u32),
    /// A key that is neither RSA nor ECDSA P-256 (or an RSA key with an exponent other than 65537).
    UnsupportedAlgorithm(String),
    /// The PKCS#8 bytes do not parse.
    BadKey(String),
    /// A certificate (leaf or chain) that does not parse.
    BadCertificate(String),
    /// The certificate's public key is not the key's public key.
    KeyMismatch,
    PasswordRequired,
    PasswordFormat,
    PasswordMismatch,
    FileNameRequired,
    FileNameFormat,
    FileNameTooLong,
    /// The PFX friendlyName (certificate name) is empty, too long or has control characters.
    FriendlyName,
    /// `profile` other than `compatible` or `modern`.
    Profile(String),
    SubjectRequired(&'static str),
    SubjectFormat(&'static str),
    SubjectTooLong(&'static str),
    /// The system random number generator failed.
    Random,
    /// A cryptographic primitive failed where it should not (reported, never a panic).
    Crypto(String),
    /// Two RSA primes too close to each other (|p - q| <= 2^(bits/2 - 100), FIPS 186-5
    /// A.1.3): the caller generates new primes. Happens with probability about 2^-100.
    PrimesTooClose,
}

impl KeygenError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            KeygenError::KeySize(_) => "key_size",
            KeygenError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            KeygenError::BadKey(_) => "bad_key",
            KeygenError::BadCertificate(_) => "bad_certificate",
            KeygenError::KeyMismatch => "key_mismatch",
            KeygenError::PasswordRequired => "password_required",
            KeygenError::PasswordFormat => "password_format",
            KeygenError::PasswordMismatch => "password_mismatch",
            KeygenError::FileNameRequired => "file_name_required",
            KeygenError::FileNameFormat => "file_name_format",
            KeygenError::FileNameTooLong => "file_name_too_long",
            KeygenError::FriendlyName => "friendly_name",
            KeygenError::Profile(_) => "profile",
            KeygenError::SubjectRequired(_) => "subject_required",
            KeygenError::SubjectFormat(_) => "subject_format",
            KeygenError::SubjectTooLong(_) => "subject_too_long",
            KeygenError::Random => "random",
            KeygenError::Crypto(_) => "crypto",
            KeygenError::PrimesTooClose => "primes_too_close",
        }
    }

    /// The input field the error is about, where there is one (`cn`, `password`, ...).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            KeygenError::SubjectRequired(f)
            | KeygenError::SubjectFormat(f)
            | KeygenError::SubjectTooLong(f) => Some(f),
            KeygenError::PasswordRequired | KeygenError::PasswordFormat => Some("password"),
            KeygenError::PasswordMismatch => Some("password_confirm"),
            KeygenError::FileNameRequired
            | KeygenError::FileNameFormat
            | KeygenError::FileNameTooLong => Some("file_name"),
            KeygenError::FriendlyName => Some("friendly_name"),
            KeygenError::Profile(_) => Some("profile"),
            _ => None,
        }
    }

    pub(crate) fn bad_key(why: &'static str) -> Self {
        KeygenError::BadKey(why.into())
    }

    pub(crate) fn bad_certificate(why: &'static str) -> Self {
        KeygenError::BadCertificate(why.into())
    }

    pub(crate) fn password(code: FieldCode) -> Self {
        match code {
            FieldCode::Required => KeygenError::PasswordRequired,
            FieldCode::Mismatch => KeygenError::PasswordMismatch,
            _ => KeygenError::PasswordFormat,
        }
    }

    pub(crate) fn file_name(code: FieldCode) -> Self {
        match code {
            FieldCode::Required => KeygenError::FileNameRequired,
            FieldCode::TooLong => KeygenError::FileNameTooLong,
            _ => KeygenError::FileNameFormat,
        }
    }
}

impl fmt::Display for KeygenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeygenError::KeySize(bits) => write!(
                f,
                "RSA key size {bits} is not allowed; use 2048, 3072 or 4096"
            ),
            KeygenError::UnsupportedAlgorithm(what) => {
                write!(f, "unsupported key algorithm: {what}")
            }
            KeygenError::BadKey(why) => write!(f, "the private key is not valid PKCS#8: {why}"),
            KeygenError::BadCertificate(why) => write!(f, "the certificate is not valid: {why}"),
            KeygenError::KeyMismatch => {
                f.write_str("the certificate was not issued for this private key")
            }
            KeygenError::PasswordRequired => f.write_str("a password is required"),
            KeygenError::PasswordFormat => {
                f.write_str("the password must be 4 to 20 letters or digits")
            }
            KeygenError::PasswordMismatch => f.write_str("the two passwords do not match"),
            KeygenError::FileNameRequired => f.write_str("a file name is required"),
            KeygenError::FileNameFormat => {
                f.write_str("the file name may contain letters and digits only")
            }
            KeygenError::FileNameTooLong => f.write_str("the file name is too long"),
            KeygenError::FriendlyName => f.write_str(
                "the certificate name must be 1 to 64 characters, without control characters or characters outside the Basic Multilingual Plane (such as emoji)",
            ),
            KeygenError::Profile(p) => write!(
                f,
                "unknown PKCS#12 profile {p:?}; use \"compatible\" or \"modern\""
            ),
            KeygenError::SubjectRequired(field) => write!(f, "subject {field} is required"),
            KeygenError::SubjectFormat(field) => {
                write!(f, "subject {field} has characters that are not allowed")
            }
            KeygenError::SubjectTooLong(field) => write!(f, "subject {field} is too long"),
            KeygenError::Random => f.write_str("the system random number generator failed"),
            KeygenError::Crypto(why) => write!(f, "cryptographic operation failed: {why}"),
            KeygenError::PrimesTooClose => {
                f.write_str("the two RSA primes are too close to each other; generate new ones")
            }
        }
    }
}

impl std::error::Error for KeygenError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_snake_case() {
        let all = [
            KeygenError::KeySize(1024),
            KeygenError::UnsupportedAlgorithm("x".into()),
            KeygenError::BadKey("x".into()),
            KeygenError::BadCertificate("x".into()),
            KeygenError::KeyMismatch,
            KeygenError::PasswordRequired,
            KeygenError::PasswordFormat,
            KeygenError::PasswordMismatch,
            KeygenError::FileNameRequired,
            KeygenError::FileNameFormat,
            KeygenError::FileNameTooLong,
            KeygenError::FriendlyName,
            KeygenError::Profile("x".into()),
            KeygenError::SubjectRequired("cn"),
            KeygenError::SubjectFormat("c"),
            KeygenError::SubjectTooLong("o"),
            KeygenError::Random,
            KeygenError::Crypto("x".into()),
            KeygenError::PrimesTooClose,
        ];
        let mut codes: Vec<_> = all.iter().map(KeygenError::code).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|e| !e.to_string().is_empty()));
    }

    #[test]
    fn field_codes_map_to_errors() {
        assert_eq!(
            KeygenError::password(FieldCode::Required),
            KeygenError::PasswordRequired
        );
        assert_eq!(
            KeygenError::password(FieldCode::Format),
            KeygenError::PasswordFormat
        );
        assert_eq!(
            KeygenError::password(FieldCode::Mismatch),
            KeygenError::PasswordMismatch
        );
        assert_eq!(
            KeygenError::file_name(FieldCode::TooLong),
            KeygenError::FileNameTooLong
        );
        assert_eq!(KeygenError::SubjectFormat("c").field(), Some("c"));
        assert_eq!(KeygenError::KeyMismatch.field(), None);
    }
}
