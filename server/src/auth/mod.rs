//! Who is calling: sessions in the database, the operator password login, the development
//! login, the IC-card login, and the request extractors that enforce role and CSRF token.

pub mod card;
pub mod card_revocation;
pub mod extract;
pub mod operators;
pub mod rate_limit;
pub mod sessions;
