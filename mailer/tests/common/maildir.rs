//! Reading what aiosmtpd's Mailbox handler delivered: every message in a Maildir, parsed and
//! decoded (RFC 2047 subjects, base64/quoted-printable bodies). Shared with the server's
//! tests (`server/tests/common` includes this file by path).

use std::path::{Path, PathBuf};

use mail_parser::{MessageParser, MimeHeaders};

/// A received mail, decoded.
#[derive(Debug)]
pub struct Received {
    pub file: PathBuf,
    pub subject: String,
    pub to: String,
    pub from: String,
    pub from_name: Option<String>,
    /// Envelope recipient as the SMTP server saw it (aiosmtpd adds `X-RcptTo`).
    pub rcpt_to: Option<String>,
    pub message_id: String,
    pub content_type: String,
    pub body: String,
    pub raw_is_ascii: bool,
}

/// Every message delivered into the maildir (new/ and cur/), parsed.
pub fn read_maildir(dir: &Path) -> Vec<Received> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let raw = std::fs::read(&path).unwrap();
            let msg = MessageParser::default()
                .parse(&raw)
                .unwrap_or_else(|| panic!("unparseable mail {}", path.display()));
            let ct = msg.content_type().expect("Content-Type");
            out.push(Received {
                subject: msg.subject().expect("Subject").to_owned(),
                to: msg
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .expect("To")
                    .to_owned(),
                from: msg
                    .from()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .expect("From")
                    .to_owned(),
                from_name: msg
                    .from()
                    .and_then(|a| a.first())
                    .and_then(|a| a.name())
                    .map(str::to_owned),
                rcpt_to: msg.header_raw("X-RcptTo").map(|s| s.trim().to_owned()),
                message_id: msg.message_id().expect("Message-ID").to_owned(),
                content_type: format!(
                    "{}/{}; charset={}",
                    ct.ctype(),
                    ct.subtype().unwrap_or(""),
                    ct.attribute("charset").unwrap_or("")
                )
                .to_ascii_lowercase(),
                body: msg.body_text(0).expect("text body").replace("\r\n", "\n"),
                raw_is_ascii: raw.is_ascii(),
                file: path,
            });
        }
    }
    out
}

pub fn maildir_count(dir: &Path) -> usize {
    read_maildir(dir).len()
}
