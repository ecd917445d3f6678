//! Card access behind [`CardReader`]: what the HTTP/HiPKI layer needs from a card, whatever
//! talks to it (PC/SC + PIV APDUs today, a PKCS#11 module such as HiCOS for real MOEACA
//! cards tomorrow, a mock in tests).

pub mod apdu;
#[cfg(test)]
pub(crate) mod fake_piv;
pub mod pcsc_reader;
pub mod piv;
pub mod tlv;

use crate::pin::Pin;
use crate::pkcs1::HashAlg;

/// One reader ("slot" in PKCS#11 and HiPKI terms) and what is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Reader name; HiPKI's `slotDescription`, used to pick a reader when signing.
    pub description: String,
    pub token: TokenState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// No card in the reader.
    Absent,
    /// A card we cannot use (HiPKI reports `"unknown token"`).
    Unrecognized,
    Present(Token),
}

/// A usable card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Card serial (HiPKI `cardSN` / token `serialNumber`); for PIV the CHUID GUID in hex.
    pub serial: String,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    /// Empty unless certificates were asked for.
    pub certificates: Vec<CardCertificate>,
}

/// A certificate stored on the card, with the key reference that signs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardCertificate {
    /// Key/object reference as text (PIV: `9A`; PKCS#11: CKA_ID in hex).
    pub id: String,
    pub label: String,
    pub der: Vec<u8>,
}

/// What to sign: a digest the caller computed, with the PIN that unlocks the key.
#[derive(Debug, Clone)]
pub struct SignRequest<'a> {
    /// Reader to use; `None` means the first reader holding a usable card.
    pub slot: Option<&'a str>,
    pub pin: &'a Pin,
    pub hash: HashAlg,
    pub digest: &'a [u8],
}

/// A PKCS#1 v1.5 signature and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub signature: Vec<u8>,
    /// The certificate of the signing key, DER.
    pub certificate: Vec<u8>,
    pub card_serial: String,
    pub slot: String,
}

/// Card access. Implementations are blocking; the HTTP layer calls them from a blocking
/// thread and never holds two operations at once.
pub trait CardReader: Send {
    /// All readers with their card state; certificates only if `with_certificates`.
    fn slots(&mut self, with_certificates: bool) -> Result<Vec<Slot>, CardError>;

    /// Verifies the PIN and signs `request.digest` with the card's signature key,
    /// PKCS#1 v1.5 (the implementation pads as its card needs: the host builds the block
    /// for PIV's raw RSA, a PKCS#11 token takes the DigestInfo with CKM_RSA_PKCS).
    fn sign(&mut self, request: &SignRequest<'_>) -> Result<Signed, CardError>;
}

/// Why a card operation failed. The HiPKI layer maps each to a `ret_code`/`last_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the PC/SC service is not running")]
    NoService,
    #[error("no card reader is connected")]
    NoReader,
    #[error("no reader named {0:?}")]
    UnknownReader(String),
    #[error("no card in the reader")]
    NoCard,
    #[error("the card was removed or reset during the operation")]
    CardRemoved,
    #[error("the card is not supported (no PIV application)")]
    UnsupportedCard,
    #[error("the card holds no signature certificate")]
    NoCertificate,
    #[error("unsupported key on the card: {0}")]
    UnsupportedKey(String),
    #[error("wrong PIN")]
    WrongPin { tries_left: Option<u8> },
    #[error("the PIN is blocked")]
    PinBlocked,
    #[error("the PIN has the wrong length or characters for this card")]
    PinFormat,
    #[error("the card refused to sign: PIN not verified")]
    NotLoggedIn,
    #[error("card error: {0}")]
    Card(String),
    #[error("reader error: {0}")]
    Reader(String),
}
