//! Who hears of a catalogue change: this replica's open pages through an in-process channel, and on
//! PostgreSQL every other replica through a `NOTIFY` sent **inside the transaction that made the change**,
//! so another replica hears of it exactly when it commits: never of a change rolled back, never before
//! it can be read, and never not at all while its listener is connected (a listener that reconnects
//! cannot know what it missed: it announces a resync, see `vdc::replicas`).
//!
//! Notices carry ids and revisions, never rows: a page that hears of a change reads what it shows
//! through the API, like any other read.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Backend, CatalogueError, Tx};
use crate::db::Sql;

/// The one channel every replica of a catalogue listens on.
pub const CHANNEL: &str = "quantix_catalogue";

/// Images per notice. PostgreSQL refuses a payload of 8,000 bytes or more; an image takes at most 63
/// bytes (`["<36-char uuid>",<20 digits>],`), so 100 of them and the envelope stay below 6,600.
const IMAGES_PER_NOTICE: usize = 100;

/// An image a write changed, and the revision it holds since.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedImage {
    pub id: Uuid,
    pub revision: u64,
}

/// What happened, as this replica's pages are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogueEvent {
    /// Images changed (none listed: the folder tree changed, or more changed than one event lists).
    Images(Arc<[ChangedImage]>),
    /// A node's sync state, pools or name changed; no image did.
    Nodes,
    /// This replica may have missed changes made by others: whoever shows catalogue data reloads it.
    Resync,
}

/// One `NOTIFY` payload: what one replica changed, for the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The replica that made the change; its own listener skips it (its pages heard in-process).
    pub origin: Uuid,
    #[serde(flatten)]
    pub what: Noticed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Noticed {
    /// Images changed, as `[id, revision]` pairs (empty: the folder tree changed).
    Images { images: Vec<(Uuid, u64)> },
    /// A node's state changed.
    Nodes { node_id: String },
}

impl Notice {
    /// What this notice tells a page.
    pub fn event(&self) -> CatalogueEvent {
        match &self.what {
            Noticed::Images { images } => {
                CatalogueEvent::Images(images.iter().map(|&(id, revision)| ChangedImage { id, revision }).collect())
            }
            Noticed::Nodes { .. } => CatalogueEvent::Nodes,
        }
    }
}

/// The notices that tell other replicas about `changed` (at least one: an empty change is the folder
/// tree's).
fn image_notices(origin: Uuid, changed: &[ChangedImage]) -> Vec<String> {
    let payload = |chunk: &[ChangedImage]| {
        let images = chunk.iter().map(|c| (c.id, c.revision)).collect();
        serde_json::to_string(&Notice { origin, what: Noticed::Images { images } }).expect("a notice serialises")
    };
    if changed.is_empty() {
        return vec![payload(&[])];
    }
    changed.chunks(IMAGES_PER_NOTICE).map(payload).collect()
}

/// This replica's side of the feed: who it is, and its pages' channel.
#[derive(Clone)]
pub(super) struct Feed {
    origin: Uuid,
    backend: Backend,
    local: broadcast::Sender<CatalogueEvent>,
}

impl Feed {
    pub(super) fn new(backend: Backend) -> Self {
        // 64 events of slack per page: a page further behind is told to resync (see `vdc::live`).
        Self { origin: Uuid::new_v4(), backend, local: broadcast::channel(64).0 }
    }

    pub(super) fn origin(&self) -> Uuid {
        self.origin
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<CatalogueEvent> {
        self.local.subscribe()
    }

    /// Tells this replica's pages (no one listening is fine).
    pub(super) fn tell(&self, event: CatalogueEvent) {
        let _ = self.local.send(event);
    }

    /// Tells the other replicas about `changed`, as part of `tx`: they hear of it when it commits.
    pub(super) async fn announce_in(&self, tx: &mut Tx, changed: &[ChangedImage]) -> Result<(), CatalogueError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        // One statement for all of a transaction's notices: one round trip, not one per hundred images.
        let mut sql = Sql::new("SELECT ");
        for (i, payload) in image_notices(self.origin, changed).into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("pg_notify(").bind(CHANNEL).push(", ").bind(payload).push(")::text");
        }
        sql.execute(&mut **tx).await?;
        Ok(())
    }

    /// Tells the other replicas that a node's state changed. Outside any transaction: node states also
    /// age with time alone, so pages reload them every few seconds anyway (`tick`).
    pub(super) async fn announce_node(&self, db: &sqlx::AnyPool, node_id: &str) -> Result<(), CatalogueError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let payload = serde_json::to_string(&Notice {
            origin: self.origin,
            what: Noticed::Nodes { node_id: node_id.to_owned() },
        })
        .expect("a notice serialises");
        let mut sql = Sql::new("SELECT pg_notify(");
        sql.bind(CHANNEL).push(", ").bind(payload).push(")::text");
        sql.execute(db).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_notices_stay_below_postgresqls_payload_limit() {
        let changed: Vec<_> = (0..1_000).map(|_| ChangedImage { id: Uuid::new_v4(), revision: u64::MAX }).collect();
        let notices = image_notices(Uuid::new_v4(), &changed);
        assert_eq!(notices.len(), 10);
        for n in &notices {
            assert!(n.len() < 8_000, "{} bytes", n.len());
        }
        let back: Vec<_> = notices
            .iter()
            .flat_map(|n| match serde_json::from_str::<Notice>(n).unwrap().what {
                Noticed::Images { images } => images,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(back, changed.iter().map(|c| (c.id, c.revision)).collect::<Vec<_>>());
    }

    #[test]
    fn a_folder_change_is_one_notice_without_images() {
        let notices = image_notices(Uuid::nil(), &[]);
        assert_eq!(notices.len(), 1);
        let n: Notice = serde_json::from_str(&notices[0]).unwrap();
        assert_eq!(n.event(), CatalogueEvent::Images(Arc::from([])));
    }
}
