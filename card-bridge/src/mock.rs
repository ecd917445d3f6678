//! An in-memory [`CardReader`] for tests of the HiPKI and HTTP layers: cards with a
//! certificate, an RSA key, a PIN and a retry counter.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rsa::Pkcs1v15Sign;

use crate::card::{
    CardCertificate, CardError, CardReader, SignRequest, Signed, Slot, Token, TokenState,
};
use crate::pkcs1::HashAlg;

pub struct MockCard {
    pub serial: String,
    pub cert_der: Vec<u8>,
    pub key: rsa::PrivateKey,
    pub pin: String,
    pub tries: u8,
}

pub enum MockSlot {
    Empty(String),
    Unknown(String),
    Card(String, Box<MockCard>),
}

pub struct MockReader {
    pub slots: Vec<MockSlot>,
    /// `slots`/`sign` answer this error instead, e.g. `NoService`.
    pub fail_with: Option<CardError>,
    /// How many times the card was asked for anything (to prove refused requests never
    /// reach it).
    pub touched: Arc<AtomicUsize>,
}

impl MockReader {
    pub fn new(slots: Vec<MockSlot>) -> Self {
        Self {
            slots,
            fail_with: None,
            touched: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl CardReader for MockReader {
    fn slots(&mut self, with_certificates: bool) -> Result<Vec<Slot>, CardError> {
        self.touched.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = &self.fail_with {
            return Err(e.clone());
        }
        if self.slots.is_empty() {
            return Err(CardError::NoReader);
        }
        Ok(self
            .slots
            .iter()
            .map(|s| match s {
                MockSlot::Empty(name) => Slot {
                    description: name.clone(),
                    token: TokenState::Absent,
                },
                MockSlot::Unknown(name) => Slot {
                    description: name.clone(),
                    token: TokenState::Unrecognized,
                },
                MockSlot::Card(name, card) => Slot {
                    description: name.clone(),
                    token: TokenState::Present(Token {
                        serial: card.serial.clone(),
                        label: "MOCK".into(),
                        manufacturer: "mock".into(),
                        model: "mock".into(),
                        certificates: if with_certificates {
                            vec![CardCertificate {
                                id: "9A".into(),
                                label: "signature".into(),
                                der: card.cert_der.clone(),
                            }]
                        } else {
                            Vec::new()
                        },
                    }),
                },
            })
            .collect())
    }

    fn sign(&mut self, request: &SignRequest<'_>) -> Result<Signed, CardError> {
        self.touched.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = &self.fail_with {
            return Err(e.clone());
        }
        if self.slots.is_empty() {
            return Err(CardError::NoReader);
        }
        let (name, card) = self
            .slots
            .iter_mut()
            .filter_map(|s| match s {
                MockSlot::Card(name, card) => Some((name, card)),
                _ => None,
            })
            .find(|(name, _)| request.slot.is_none_or(|want| *name == want))
            .ok_or(match request.slot {
                Some(want) => CardError::UnknownReader(want.to_owned()),
                None => CardError::NoCard,
            })?;
        if card.tries == 0 {
            return Err(CardError::PinBlocked);
        }
        if request.pin.as_bytes() != card.pin.as_bytes() {
            card.tries -= 1;
            return Err(if card.tries == 0 {
                CardError::PinBlocked
            } else {
                CardError::WrongPin {
                    tries_left: Some(card.tries),
                }
            });
        }
        card.tries = 3;
        let scheme = match request.hash {
            HashAlg::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            HashAlg::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            HashAlg::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        };
        let signature = card
            .key
            .sign(scheme, request.digest)
            .map_err(|e| CardError::Card(e.to_string()))?;
        Ok(Signed {
            signature,
            certificate: card.cert_der.clone(),
            card_serial: card.serial.clone(),
            slot: name.clone(),
        })
    }
}
