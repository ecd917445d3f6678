//! Reading what the SMTP sink ([`crate::smtp`], aiosmtpd's Mailbox handler) delivered into a
//! Maildir: every message parsed and decoded for the tests (RFC 2047 subjects,
//! base64/quoted-printable bodies), and, for the `faults` and `loadgen` binaries, the
//! delivered files and their Message-IDs without panicking.

use std::path::{Path, PathBuf};

use mail_parser::{MessageParser, MimeHeaders};

use crate::Error;

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

/// Every file delivered into the maildir (new/ and cur/); none when it does not exist yet.
pub fn delivered_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries {
            out.push(e?.path());
        }
    }
    Ok(out)
}

/// Every message delivered into the maildir (new/ and cur/), parsed.
pub fn read_maildir(dir: &Path) -> Vec<Received> {
    let mut out = Vec::new();
    for path in delivered_files(dir).unwrap() {
        let raw = std::fs::read(&path).unwrap();
        let msg = MessageParser::default()
            .parse(&raw)
            .unwrap_or_else(|| panic!("unparseable mail {}", path.display()));
        let ct = msg.content_type().expect("Content-Type");
        let from = msg.from().and_then(|a| a.first());
        out.push(Received {
            subject: msg.subject().expect("Subject").to_owned(),
            to: msg
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .expect("To")
                .to_owned(),
            from: from.and_then(|a| a.address()).expect("From").to_owned(),
            from_name: from.and_then(|a| a.name()).map(str::to_owned),
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
    out
}

pub fn maildir_count(dir: &Path) -> usize {
    read_maildir(dir).len()
}

/// Message-ID (without angle brackets) of every message in the maildir, one entry per
/// delivered copy; an error for a message without one.
pub fn message_ids(dir: &Path) -> Result<Vec<String>, Error> {
    let files = delivered_files(dir).map_err(|e| Error(format!("{}: {e}", dir.display())))?;
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error(format!("reading {}: {e}", path.display())))?;
        match message_id(&text) {
            Some(id) => out.push(id),
            None => {
                return Err(Error(format!(
                    "message without Message-ID: {}",
                    path.display()
                )));
            }
        }
    }
    Ok(out)
}

/// The Message-ID header of a message (unfolded, brackets and blanks removed).
pub fn message_id(text: &str) -> Option<String> {
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            return None;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("message-id") {
            continue;
        }
        let mut v = value.trim().to_owned();
        while let Some(next) = lines.peek() {
            if next.starts_with([' ', '\t']) {
                v.push_str(next.trim());
                lines.next();
            } else {
                break;
            }
        }
        return Some(v.trim_matches(['<', '>', ' ']).to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_read_from_folded_headers() {
        let m = "X-Peer: x\r\nMessage-ID:\r\n <abc.1@portal.example>\r\nSubject: s\r\n\r\nbody";
        assert_eq!(message_id(m).as_deref(), Some("abc.1@portal.example"));
        assert_eq!(message_id("Subject: s\n\nMessage-ID: <x@y>"), None);
    }
}
