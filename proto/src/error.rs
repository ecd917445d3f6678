//! The one error vocabulary of the portal: every `code` the API answers with
//! (`{"error": {"code", "message", "fields"}}`) and every per-line code of a refused bank
//! reconciliation file, each with the zh-TW and English text the app shows. The server maps
//! its errors to these codes (server/src/error.rs decides the HTTP status); the app never
//! shows the server's English `message` in place of this text, only beside it as a detail.
//!
//! Field-level codes of `validation_failed` are [`crate::validate::FieldCode`].

use crate::model::labelled_enum;

labelled_enum!(
    /// `error.code` of every API error answer (docs/API.md lists the HTTP status of each).
    ErrorCode {
        BadRequest = "bad_request",
            "無法處理此要求，請重新整理頁面後再試",
            "The request could not be read; reload the page and try again";
        Unauthenticated = "unauthenticated",
            "登入已逾時或帳號密碼錯誤，請重新登入",
            "Not logged in, session expired or wrong credentials";
        Forbidden = "forbidden",
            "您沒有執行此動作的權限",
            "You are not allowed to do this";
        Csrf = "csrf",
            "安全檢查失敗，請重新整理頁面後再試",
            "Security check failed; reload the page and try again";
        NotFound = "not_found",
            "查無資料",
            "Not found";
        InvalidTransition = "invalid_transition",
            "目前的申請或憑證狀態不允許此動作，請重新整理後確認",
            "The status of the application or certificate does not allow this now; reload and check";
        Conflict = "conflict",
            "與系統中已有的資料衝突（例如已核發或已註冊），請重新整理後確認",
            "This conflicts with what is already recorded (e.g. already issued or registered); reload and check";
        IdempotencyKeyReused = "idempotency_key_reused",
            "此頁面已送出過一份內容不同的申請，請先至申請紀錄查看；如需再申請，請重新開啟申請頁",
            "This page already submitted an application with different data; check your applications, and open the application page again to apply once more";
        TooLarge = "too_large",
            "送出的資料或檔案過大",
            "The request or file is too large";
        ValidationFailed = "validation_failed",
            "請修正標示的欄位",
            "Please correct the marked fields";
        BadCsr = "bad_csr",
            "憑證請求（CSR）未通過檢查（簽章、演算法、金鑰長度或弱金鑰），請重新產製金鑰",
            "The certificate request (CSR) was refused (signature, algorithm, key size or weak key); generate the key again";
        BadCertificate = "bad_certificate",
            "上傳的檔案不是本系統核發給貴公司的憑證",
            "The uploaded file is not a certificate this portal issued to your company";
        PaymentRejected = "payment_rejected",
            "繳費資料不符（查無繳款書、金額不符或繳款書已作廢），未入帳",
            "The payment was refused (unknown bill, wrong amount or void bill); nothing was recorded";
        RateLimited = "rate_limited",
            "嘗試次數過多，請稍後再試",
            "Too many attempts; please wait and try again";
        ApplicationLimit = "application_limit",
            "貴公司今日新增的申請件數已達上限，請明日再申請；如有急需請洽客服",
            "Your company has reached today's limit of new applications; apply again tomorrow, or contact the help desk if it is urgent";
        CardRevoked = "card_revoked",
            "此工商憑證已被廢止或暫禁，無法登入，請洽經濟部工商憑證管理中心",
            "This business certificate has been revoked or suspended and cannot log in; contact the MOEA Certification Authority (MOEACA)";
        CardRevocationUnknown = "card_revocation_unknown",
            "無法確認工商憑證是否已被廢止，請稍後再試",
            "The card certificate's revocation status could not be determined; try again later";
        Internal = "internal",
            "系統發生錯誤，請稍後再試；如持續發生，請將錯誤代碼提供給客服",
            "Something went wrong on the server; try again later, and quote the request id if it persists";
    }
);

labelled_enum!(
    /// Why one line of a bank reconciliation file was refused (`ImportRowError::code`).
    ImportRowCode {
        Malformed = "malformed",
            "格式錯誤（欄位、金額或日期無法辨識，或繳費日期在未來）",
            "Malformed line (fields, amount or date unreadable, or a paid date in the future)";
        Duplicate = "duplicate",
            "同一張繳款書在檔案中重複出現",
            "The bill appears more than once in the file";
        UnknownBill = "unknown_bill",
            "查無此繳款書號碼",
            "No such bill number";
        WrongAmount = "wrong_amount",
            "金額與繳款書不符",
            "The amount differs from the bill";
        VoidBill = "void_bill",
            "繳款書已作廢（申請已取消）",
            "The bill is void (the application was cancelled)";
        AlreadyPaid = "already_paid",
            "此繳款書已以不同的繳費資料入帳",
            "The bill was already paid with a different record";
        NotPayable = "not_payable",
            "申請案件目前不是待繳費狀態",
            "The application is not waiting for payment";
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Lang;

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    fn check_texts(code: &str, zh: &str, en: &str) {
        assert!(!zh.trim().is_empty(), "{code}: zh-TW text");
        assert!(!en.trim().is_empty(), "{code}: English text");
        assert_ne!(zh, en, "{code}: the two texts are the same");
        assert!(has_cjk(zh), "{code}: zh-TW text without Chinese: {zh}");
        assert!(!has_cjk(en), "{code}: English text with Chinese: {en}");
    }

    #[test]
    fn every_error_code_has_zh_tw_and_english_text() {
        assert_eq!(ErrorCode::ALL.len(), 18);
        for c in ErrorCode::ALL {
            check_texts(c.code(), c.label(Lang::ZhTw), c.label(Lang::En));
        }
        for c in ImportRowCode::ALL {
            check_texts(c.code(), c.label(Lang::ZhTw), c.label(Lang::En));
        }
    }

    #[test]
    fn wire_names_are_the_snake_case_codes() {
        for c in ErrorCode::ALL {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.code()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *c);
            assert!(
                c.code()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
        }
        for c in ImportRowCode::ALL {
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.code())
            );
        }
        assert_eq!(
            ErrorCode::from_code("payment_rejected"),
            Some(ErrorCode::PaymentRejected)
        );
        assert_eq!(ErrorCode::from_code("network"), None);
    }
}
