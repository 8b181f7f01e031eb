//! What the vdc benches share: the synthetic catalogue, a `quantix-iso vdc` process signed in as its first
//! admin, and the statistics they print.
//!
//! Each bench is its own crate and uses only part of this module, so the parts another bench uses would
//! otherwise warn as dead code.
#![allow(dead_code)]

pub mod bulk;
pub mod dataset;
pub mod load;
pub mod queries;
pub mod sse;
pub mod stats;
pub mod vdc;
