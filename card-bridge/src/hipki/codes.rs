//! HiPKI `ret_code` (major) and `last_error` (minor) values.
//!
//! Major codes and their texts are those of the HiPKI sample pages' `MajorErrorReason`
//! (several independent copies agree). Minor codes are PKCS#11 CKR values (`0xA0`
//! CKR_PIN_INCORRECT, `0xA2` CKR_PIN_LEN_RANGE, `0xA4` CKR_PIN_LOCKED) and, for a wrong
//! PIN with known tries left, `0x80000000 | tries` as a signed 32-bit number
//! (`-2147483647` = one try left, `-2147483646` = two), as the samples' `MinorErrorReason`
//! shows. Which major code accompanies which card error is our inference (see README).

use crate::card::CardError;

pub const OK: i64 = 0;
pub const NO_TBS: i64 = 0x7600_0003;
pub const NO_CARD: i64 = 0x7600_0006;
pub const NOT_LOGGED_IN: i64 = 0x7600_0007;
pub const BAD_JSON: i64 = 0x7600_000B;
pub const BAD_PARAMETER: i64 = 0x7600_000C;
pub const UNSUPPORTED_FUNCTION: i64 = 0x7600_000E;
pub const UNTRUSTED_SITE: i64 = 0x7600_0031;
pub const NO_PIN: i64 = 0x7600_0998;
pub const LIBRARY_UNAVAILABLE: i64 = 0x7610_0001;
pub const NO_READER: i64 = 0x7610_0003;
pub const READER_INFO_FAILED: i64 = 0x7610_0004;
pub const LOGIN_FAILED: i64 = 0x7610_0006;
pub const KEY_FAILED: i64 = 0x7610_0008;
pub const CERT_FAILED: i64 = 0x7610_0009;
pub const SIGNATURE_TYPE: i64 = 0x7630_0002;
pub const SIGN_FAILED: i64 = 0x7630_0004;
pub const SIGNATURE_DER: i64 = 0x7630_0006;
pub const BASE64_DECODE: i64 = 0x7660_0002;

pub const CKR_FUNCTION_FAILED: i64 = 0x06;
pub const CKR_DEVICE_REMOVED: i64 = 0x32;
pub const CKR_PIN_INCORRECT: i64 = 0xA0;
pub const CKR_PIN_LEN_RANGE: i64 = 0xA2;
pub const CKR_PIN_LOCKED: i64 = 0xA4;
pub const CKR_TOKEN_NOT_PRESENT: i64 = 0xE0;

/// The HiPKI text for a major code.
pub fn major_message(code: i64) -> &'static str {
    match code {
        OK => "",
        NO_TBS => "未輸入待簽訊息",
        NO_CARD => "未插入IC卡",
        NOT_LOGGED_IN => "未登入",
        BAD_JSON => "JSON格式錯誤",
        BAD_PARAMETER => "參數錯誤",
        UNSUPPORTED_FUNCTION => "不支援的方法",
        UNTRUSTED_SITE => "在未授權的網站執行元件",
        NO_PIN => "未輸入PIN碼",
        LIBRARY_UNAVAILABLE => "無法載入IC卡函式庫檔案",
        NO_READER => "無可用讀卡機",
        READER_INFO_FAILED => "取得讀卡機資訊失敗",
        LOGIN_FAILED => "IC卡登入失敗",
        KEY_FAILED => "IC卡取得金鑰失敗",
        CERT_FAILED => "IC卡取得憑證失敗",
        SIGNATURE_TYPE => "簽章型別錯誤",
        SIGN_FAILED => "簽章執行錯誤",
        SIGNATURE_DER => "簽章DER錯誤",
        BASE64_DECODE => "Base64解碼錯誤",
        _ => "未知的錯誤",
    }
}

/// The HiPKI text for a minor code.
pub fn minor_message(code: i64) -> Option<&'static str> {
    Some(match code {
        CKR_FUNCTION_FAILED => "函式失敗",
        CKR_PIN_INCORRECT => "PIN碼錯誤",
        CKR_PIN_LEN_RANGE => "PIN碼長度錯誤",
        CKR_PIN_LOCKED => "已鎖卡",
        CKR_TOKEN_NOT_PRESENT => "未插入IC卡",
        CKR_DEVICE_REMOVED => "IC卡已移除",
        c if c == wrong_pin_minor(1) => "PIN碼錯誤，剩餘一次機會",
        c if c == wrong_pin_minor(2) => "PIN碼錯誤，剩餘兩次機會",
        c if (wrong_pin_minor(3)..=wrong_pin_minor(15)).contains(&c) => "PIN碼錯誤",
        _ => return None,
    })
}

/// `0x80000000 | tries` read as a signed 32-bit integer.
pub fn wrong_pin_minor(tries_left: u8) -> i64 {
    i64::from(i32::MIN) + i64::from(tries_left)
}

/// A HiPKI error: major code, minor code, and our English explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HipkiError {
    pub ret_code: i64,
    pub last_error: i64,
    pub detail: String,
    /// Tries left after a wrong PIN, when the card says.
    pub tries_left: Option<u8>,
}

impl HipkiError {
    pub fn new(ret_code: i64, detail: impl Into<String>) -> Self {
        Self {
            ret_code,
            last_error: 0,
            detail: detail.into(),
            tries_left: None,
        }
    }

    fn with_minor(mut self, last_error: i64) -> Self {
        self.last_error = last_error;
        self
    }
}

impl From<CardError> for HipkiError {
    fn from(e: CardError) -> Self {
        let detail = e.to_string();
        match e {
            CardError::NoService => HipkiError::new(LIBRARY_UNAVAILABLE, detail),
            CardError::NoReader => HipkiError::new(NO_READER, detail),
            CardError::UnknownReader(_) | CardError::Reader(_) => {
                HipkiError::new(READER_INFO_FAILED, detail)
            }
            CardError::NoCard => HipkiError::new(NO_CARD, detail).with_minor(CKR_TOKEN_NOT_PRESENT),
            CardError::CardRemoved => {
                HipkiError::new(NO_CARD, detail).with_minor(CKR_DEVICE_REMOVED)
            }
            CardError::UnsupportedCard | CardError::NoCertificate => {
                HipkiError::new(CERT_FAILED, detail)
            }
            CardError::UnsupportedKey(_) => HipkiError::new(KEY_FAILED, detail),
            CardError::WrongPin { tries_left } => {
                let minor = match tries_left {
                    Some(n @ 1..=15) => wrong_pin_minor(n),
                    _ => CKR_PIN_INCORRECT,
                };
                let mut err = HipkiError::new(LOGIN_FAILED, detail).with_minor(minor);
                err.tries_left = tries_left;
                err
            }
            CardError::PinBlocked => {
                let mut err = HipkiError::new(LOGIN_FAILED, detail).with_minor(CKR_PIN_LOCKED);
                err.tries_left = Some(0);
                err
            }
            CardError::PinFormat => {
                HipkiError::new(LOGIN_FAILED, detail).with_minor(CKR_PIN_LEN_RANGE)
            }
            CardError::NotLoggedIn => HipkiError::new(NOT_LOGGED_IN, detail),
            CardError::Card(_) => {
                HipkiError::new(SIGN_FAILED, detail).with_minor(CKR_FUNCTION_FAILED)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_pin_minor_codes_match_the_hipki_samples() {
        assert_eq!(wrong_pin_minor(1), -2147483647);
        assert_eq!(wrong_pin_minor(2), -2147483646);
        assert_eq!(minor_message(-2147483647), Some("PIN碼錯誤，剩餘一次機會"));
        assert_eq!(minor_message(164), Some("已鎖卡"));
    }

    #[test]
    fn card_errors_map_to_distinct_hipki_codes() {
        let e = HipkiError::from(CardError::WrongPin {
            tries_left: Some(2),
        });
        assert_eq!(
            (e.ret_code, e.last_error, e.tries_left),
            (0x76100006, -2147483646, Some(2))
        );
        let e = HipkiError::from(CardError::WrongPin { tries_left: None });
        assert_eq!(e.last_error, 0xA0);
        let e = HipkiError::from(CardError::PinBlocked);
        assert_eq!((e.ret_code, e.last_error), (0x76100006, 0xA4));
        assert_eq!(HipkiError::from(CardError::NoReader).ret_code, 0x76100003);
        let e = HipkiError::from(CardError::NoCard);
        assert_eq!((e.ret_code, e.last_error), (0x76000006, 0xE0));
        let e = HipkiError::from(CardError::CardRemoved);
        assert_eq!((e.ret_code, e.last_error), (0x76000006, 0x32));
        assert_eq!(HipkiError::from(CardError::NoService).ret_code, 0x76100001);
        assert_eq!(major_message(UNTRUSTED_SITE), "在未授權的網站執行元件");
    }
}
