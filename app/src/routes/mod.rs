//! One page per file.

pub mod account;
pub mod library;
pub mod node_images;
pub mod not_found;
pub mod vm_wizard;
pub mod vms;
