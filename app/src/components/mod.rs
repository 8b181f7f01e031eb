//! Reusable pieces of the pages.

pub mod actions;
pub mod dialog;
pub mod folder_tree;
pub mod image_table;
pub mod iso_picker;
pub mod layout;
pub mod list_view;
pub mod paged;
pub mod search;
pub mod status;
pub mod transfers;
pub mod upload;
