//! Audit actions in words, for an application's history (and any page that shows the audit
//! log to people).

use crate::Lang;

/// Every audit action code the server writes, with its zh-TW and English words.
pub const ACTIONS: &[(&str, &str, &str)] = &[
    ("application.submit", "送出申請", "Application submitted"),
    (
        "application.modify",
        "異動公司及聯絡人資料",
        "Company and contact data changed",
    ),
    (
        "application.expire",
        "逾期未繳費，取消申請",
        "Cancelled: not paid in time",
    ),
    (
        "application.withdraw",
        "業者撤回申請，繳款書作廢",
        "Withdrawn by the applicant; bill void",
    ),
    ("payment.record", "完成繳費", "Fee paid"),
    ("certificate.issue", "憑證已核發", "Certificate issued"),
    (
        "certificate.register",
        "憑證已註冊",
        "Certificate registered",
    ),
    ("certificate.revoke", "憑證已註銷", "Certificate revoked"),
    ("certificate.suspend", "憑證已暫禁", "Certificate suspended"),
    (
        "certificate.unsuspend",
        "憑證已解禁",
        "Certificate unsuspended",
    ),
];

/// The words for `action` in `lang`; an unknown code is shown as it is.
pub fn action_words(action: &str, lang: Lang) -> &str {
    ACTIONS
        .iter()
        .find(|(code, _, _)| *code == action)
        .map(|(_, zh, en)| match lang {
            Lang::ZhTw => *zh,
            Lang::En => *en,
        })
        .unwrap_or(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_actions_have_words_unknown_ones_stay_codes() {
        assert_eq!(action_words("payment.record", Lang::ZhTw), "完成繳費");
        assert_eq!(action_words("payment.record", Lang::En), "Fee paid");
        assert_eq!(action_words("x.y", Lang::ZhTw), "x.y");
        let mut codes: Vec<_> = ACTIONS.iter().map(|a| a.0).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ACTIONS.len());
    }
}
