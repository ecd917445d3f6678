//! card-bridge: lets a web page use an IC card through a small local HTTP server that
//! speaks the protocol of Taiwan's HiPKI Local Server (`http://localhost:61161`).
//!
//! Layers, each in its own module:
//! * [`card`]: the [`card::CardReader`] trait, PIV over PC/SC ([`card::pcsc_reader`]),
//!   APDU/TLV plumbing;
//! * [`hipki`]: the HiPKI JSON protocol (MakeSignature, pkcs11info, error codes, PKCS#7);
//! * [`http`]: axum routes, origin policy, the popup page;
//! * [`pin`], [`pkcs1`]: the PIN type and PKCS#1 v1.5 padding.

pub mod card;
pub mod cli;
pub mod hipki;
pub mod http;
pub mod pin;
pub mod pkcs1;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod test_support;
