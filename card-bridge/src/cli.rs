//! Command line: `card-bridge serve --allow-origin URL… [--port N]`, `card-bridge list`.

use std::io::Write;

use card_auth::CertificateInfo;
use clap::{Parser, Subcommand};

use crate::card::{CardError, CardReader, TokenState};

pub const DEFAULT_PORT: u16 = 61161;

#[derive(Debug, Parser)]
#[command(
    name = "card-bridge",
    version,
    about = "Local IC-card helper for the customs certificate portal (HiPKI-compatible, 127.0.0.1 only)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve /popupForm, /pkcs11info and /sign on 127.0.0.1.
    Serve {
        /// Portal origin allowed to use the card (repeat for several), e.g.
        /// https://portal.example. No wildcard.
        #[arg(long = "allow-origin", required = true, value_name = "ORIGIN")]
        allow_origin: Vec<String>,
        /// Port on 127.0.0.1 (HiPKI's is 61161; 0 picks a free one and prints it).
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
    },
    /// List readers, cards and the subjects of their certificates.
    List,
}

/// Writes the reader/card/certificate listing.
pub fn print_list(reader: &mut dyn CardReader, out: &mut dyn Write) -> Result<(), CardError> {
    let slots = reader.slots(true)?;
    let io = |e: std::io::Error| CardError::Reader(format!("writing the listing: {e}"));
    for slot in slots {
        writeln!(out, "reader: {}", slot.description).map_err(io)?;
        match slot.token {
            TokenState::Absent => writeln!(out, "  no card").map_err(io)?,
            TokenState::Unrecognized => {
                writeln!(out, "  unknown card (no PIV application)").map_err(io)?
            }
            TokenState::Present(token) => {
                writeln!(out, "  card: {} serial {}", token.label, token.serial).map_err(io)?;
                if token.certificates.is_empty() {
                    writeln!(out, "  no certificate").map_err(io)?;
                }
                for cert in &token.certificates {
                    match CertificateInfo::from_der(&cert.der) {
                        Ok(info) => {
                            writeln!(out, "  certificate {}: {}", cert.id, info.subject_dn)
                                .map_err(io)?;
                            writeln!(out, "    issuer: {}", info.issuer_dn).map_err(io)?;
                            writeln!(out, "    valid: {} .. {}", info.not_before, info.not_after)
                                .map_err(io)?;
                            if let Some(tax_id) = &info.tax_id {
                                writeln!(out, "    tax ID (統一編號): {tax_id}").map_err(io)?;
                            }
                        }
                        Err(e) => writeln!(out, "  certificate {}: unreadable ({e})", cert.id)
                            .map_err(io)?,
                    }
                }
            }
        }
    }
    Ok(())
}
