//! [`CardReader`] over PC/SC (pcsc-lite on Linux/macOS, WinSCard on Windows) speaking PIV.

use std::ffi::CString;

use pcsc::{Context, Disposition, Protocols, Scope, ShareMode};

use super::apdu::Transport;
use super::{CardError, CardReader, SignRequest, Signed, Slot, TokenState, piv};

/// Reads PIV cards through the system's PC/SC service. A fresh PC/SC context per call, so
/// a restarted pcscd or a re-plugged reader is picked up without restarting the bridge.
#[derive(Debug, Default)]
pub struct PcscReader;

impl PcscReader {
    pub fn new() -> Self {
        Self
    }
}

fn map_pcsc(e: pcsc::Error) -> CardError {
    use pcsc::Error as E;
    match e {
        E::NoService | E::ServiceStopped => CardError::NoService,
        E::NoReadersAvailable => CardError::NoReader,
        E::UnknownReader | E::ReaderUnavailable => CardError::Reader(e.to_string()),
        E::NoSmartcard => CardError::NoCard,
        E::RemovedCard | E::ResetCard => CardError::CardRemoved,
        E::UnpoweredCard | E::UnresponsiveCard | E::UnsupportedCard => {
            CardError::Card(e.to_string())
        }
        other => CardError::Reader(other.to_string()),
    }
}

/// An open PC/SC card handle as a [`Transport`].
struct PcscTransport<'c> {
    card: &'c pcsc::Card,
}

impl Transport for PcscTransport<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError> {
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        let r = self.card.transmit(apdu, &mut buf).map_err(map_pcsc)?;
        Ok(r.to_vec())
    }
}

fn reader_names(ctx: &Context) -> Result<Vec<CString>, CardError> {
    match ctx.list_readers_owned() {
        Ok(names) if names.is_empty() => Err(CardError::NoReader),
        Ok(names) => Ok(names),
        Err(e) => Err(map_pcsc(e)),
    }
}

/// Runs `f` on the card in `reader` inside a PC/SC transaction (exclusive access for the
/// whole APDU sequence). `Ok(None)` when the reader is empty.
fn with_card<T>(
    ctx: &Context,
    reader: &CString,
    f: impl FnOnce(&mut dyn Transport) -> Result<T, CardError>,
) -> Result<Option<T>, CardError> {
    let mut card = match ctx.connect(reader, ShareMode::Shared, Protocols::ANY) {
        Ok(card) => card,
        Err(pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard) => return Ok(None),
        Err(e) => return Err(map_pcsc(e)),
    };
    let tx = card.transaction().map_err(map_pcsc)?;
    let result = f(&mut PcscTransport { card: &tx });
    // Ending the transaction can fail if the card went away; the operation's own result is
    // what matters.
    let _ = tx.end(Disposition::LeaveCard);
    result.map(Some)
}

impl CardReader for PcscReader {
    fn slots(&mut self, with_certificates: bool) -> Result<Vec<Slot>, CardError> {
        let ctx = Context::establish(Scope::User).map_err(map_pcsc)?;
        let mut slots = Vec::new();
        for name in reader_names(&ctx)? {
            let description = name.to_string_lossy().into_owned();
            let token = match with_card(&ctx, &name, |t| piv::read_token(t, with_certificates)) {
                Ok(Some(token)) => token,
                Ok(None) | Err(CardError::NoCard | CardError::CardRemoved) => TokenState::Absent,
                Err(e) => {
                    tracing::warn!(reader = %description, error = %e, "cannot read the card");
                    TokenState::Unrecognized
                }
            };
            slots.push(Slot { description, token });
        }
        Ok(slots)
    }

    fn sign(&mut self, request: &SignRequest<'_>) -> Result<Signed, CardError> {
        let ctx = Context::establish(Scope::User).map_err(map_pcsc)?;
        let names = reader_names(&ctx)?;
        let candidates: Vec<&CString> = match request.slot {
            Some(wanted) => vec![
                names
                    .iter()
                    .find(|n| n.to_string_lossy() == wanted)
                    .ok_or_else(|| CardError::UnknownReader(wanted.to_owned()))?,
            ],
            None => names.iter().collect(),
        };
        // Without an explicit reader: the first one holding a PIV card.
        let mut last_error = CardError::NoCard;
        for name in candidates {
            let outcome = with_card(&ctx, name, |t| {
                piv::sign(t, request.pin, request.hash, request.digest)
            });
            match outcome {
                Ok(Some((signature, certificate, card_serial))) => {
                    return Ok(Signed {
                        signature,
                        certificate,
                        card_serial,
                        slot: name.to_string_lossy().into_owned(),
                    });
                }
                Ok(None) => last_error = CardError::NoCard,
                Err(CardError::UnsupportedCard) if request.slot.is_none() => {
                    last_error = CardError::UnsupportedCard;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }
}
