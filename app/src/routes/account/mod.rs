//! The pages both roles serve to anyone who signs in: the sign-in page and the audit log (admin). They
//! are their own page group (their own WASM bundle), so the image pages carry none of their code.

pub mod audit;
pub mod login;
