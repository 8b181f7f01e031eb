//! Reusable pieces of the pages.

pub mod dialog;
pub mod folder_tree;
pub mod layout;
pub mod status;
pub mod upload;
