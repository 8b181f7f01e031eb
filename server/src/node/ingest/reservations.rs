//! Names being written right now, per pool: the first upload of a name wins, a second gets a conflict.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use crate::node::names::ImageFileName;

#[derive(Clone, Default)]
pub struct Reservations {
    held: Arc<Mutex<HashSet<(String, String)>>>,
}

/// Releases its name when dropped.
pub struct Reservation {
    held: Arc<Mutex<HashSet<(String, String)>>>,
    key: (String, String),
}

impl Reservations {
    /// Reserves `name` in `pool` (by its NFC key: names that differ only by normalisation are one), or
    /// `None` if someone holds it.
    pub fn reserve(&self, pool: &str, name: &ImageFileName) -> Option<Reservation> {
        let key = (pool.to_owned(), name.key());
        let mut held = self.held.lock().expect("reservations lock");
        held.insert(key.clone()).then(|| Reservation { held: self.held.clone(), key })
    }

    pub fn is_reserved(&self, pool: &str, name: &ImageFileName) -> bool {
        self.held.lock().expect("reservations lock").contains(&(pool.to_owned(), name.key()))
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Ok(mut held) = self.held.lock() {
            held.remove(&self.key);
        }
    }
}
