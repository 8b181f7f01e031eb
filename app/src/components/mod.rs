//! Reusable pieces of the pages.

pub mod actions;
pub mod dialog;
pub mod folder_tree;
pub mod iso_picker;
pub mod layout;
pub mod status;
pub mod upload;
