//! The nodes the vdc has heard from, and their sync state.

use std::time::Duration;

use std::collections::HashMap;

use app::model::{HeartbeatRequest, HeartbeatResponse, NodeId, NodeInfo, NodeRef, NodeSyncState, PoolId, StoragePool};

use super::{Catalogue, CatalogueError, Tx};
use crate::db::Sql;

/// A node as the catalogue knows it.
#[derive(Debug, Clone)]
pub struct NodeRecord {
    pub id: NodeId,
    pub name: String,
    pub api_url: Option<String>,
    pub first_seen_at: i64,
    pub last_contact_at: i64,
    pub last_full_sync_at: Option<i64>,
    pub last_full_sync_revision: Option<i64>,
    pub pending_changes: i64,
    pub image_count: i64,
    /// The highest revision of the node seen in any of its calls.
    pub max_revision: Option<i64>,
}

/// A row of `nodes`, before its id is checked.
#[derive(sqlx::FromRow)]
struct NodeRow {
    id: String,
    name: String,
    api_url: Option<String>,
    first_seen_at: i64,
    last_contact_at: i64,
    last_full_sync_at: Option<i64>,
    last_full_sync_revision: Option<i64>,
    pending_changes: i64,
    image_count: i64,
    max_revision: Option<i64>,
}

impl TryFrom<NodeRow> for NodeRecord {
    type Error = CatalogueError;
    fn try_from(r: NodeRow) -> Result<Self, CatalogueError> {
        Ok(NodeRecord {
            id: NodeId::parse(&r.id).map_err(|e| CatalogueError::Corrupt(e.to_string()))?,
            name: r.name,
            api_url: r.api_url,
            first_seen_at: r.first_seen_at,
            last_contact_at: r.last_contact_at,
            last_full_sync_at: r.last_full_sync_at,
            last_full_sync_revision: r.last_full_sync_revision,
            pending_changes: r.pending_changes,
            image_count: r.image_count,
            max_revision: r.max_revision,
        })
    }
}

/// The periods a node's state is judged by.
#[derive(Debug, Clone, Copy)]
pub struct NodeTimings {
    /// Silent for longer: offline. Half of it: stale.
    pub offline_after: Duration,
    /// Nodes send a full inventory this often; none for twice as long: pending.
    pub sync_interval: Duration,
}

impl NodeRecord {
    pub fn state(&self, now: i64, t: NodeTimings) -> NodeSyncState {
        let silent = now - self.last_contact_at;
        let offline = t.offline_after.as_secs() as i64;
        let full_sync_age = self.last_full_sync_at.map(|at| now - at);
        if silent > offline {
            NodeSyncState::Offline
        } else if silent > offline / 2 {
            NodeSyncState::Stale
        } else if self.pending_changes > 0 || full_sync_age.is_none_or(|age| age > 2 * t.sync_interval.as_secs() as i64)
        {
            NodeSyncState::Pending
        } else {
            NodeSyncState::InSync
        }
    }

    pub fn info(&self, now: i64, t: NodeTimings, pools: Vec<StoragePool>) -> NodeInfo {
        NodeInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            api_url: self.api_url.clone(),
            image_count: self.image_count as u64,
            last_contact_at: Some(self.last_contact_at),
            last_full_sync_at: self.last_full_sync_at,
            state: self.state(now, t),
            pools,
        }
    }
}

/// Records a call from `node` (its name, URL, what it has not delivered yet, the highest revision the call
/// carried); returns the node's revision floor: the `as_of_revision` of its last full inventory.
pub(super) async fn touch(
    tx: &mut Tx,
    node: &NodeRef,
    now: i64,
    pending: Option<u64>,
    seen: Option<i64>,
) -> Result<Option<i64>, CatalogueError> {
    let mut sql = Sql::new(
        "INSERT INTO nodes (id, name, api_url, first_seen_at, last_contact_at, pending_changes, max_revision) VALUES (",
    );
    sql.bind(node.node_id.to_string())
        .push(", ")
        .bind(node.node_name.clone().unwrap_or_else(|| node.node_id.to_string()));
    sql.push(", ").bind(node.node_api_url.clone()).push(", ").bind(now).push(", ").bind(now);
    sql.push(", ")
        .bind(pending.unwrap_or(0) as i64)
        .push(", ")
        .bind(seen)
        .push(") ON CONFLICT (id) DO UPDATE SET last_contact_at = excluded.last_contact_at");
    if seen.is_some() {
        sql.push(
            ", max_revision = CASE WHEN nodes.max_revision IS NULL OR nodes.max_revision < excluded.max_revision \
             THEN excluded.max_revision ELSE nodes.max_revision END",
        );
    }
    if node.node_name.is_some() {
        sql.push(", name = excluded.name");
    }
    if node.node_api_url.is_some() {
        sql.push(", api_url = excluded.api_url");
    }
    if pending.is_some() {
        sql.push(", pending_changes = excluded.pending_changes");
    }
    sql.push(" RETURNING last_full_sync_revision");
    let floor: Vec<(Option<i64>,)> = sql.fetch_all(&mut **tx).await?;
    Ok(floor.into_iter().next().and_then(|(f,)| f))
}

/// Records a full inventory; the floor only ever rises, whichever replica commits last.
pub(super) async fn record_full_sync(tx: &mut Tx, node_id: &str, now: i64, as_of: i64) -> Result<(), CatalogueError> {
    let mut sql = Sql::new("UPDATE nodes SET last_full_sync_at = ");
    sql.bind(now)
        .push(", last_full_sync_revision = CASE WHEN last_full_sync_revision IS NULL OR last_full_sync_revision < ");
    sql.bind(as_of)
        .push(" THEN ")
        .bind(as_of)
        .push(" ELSE last_full_sync_revision END WHERE id = ")
        .bind(node_id.to_owned());
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// What a heartbeat found.
#[derive(Debug, Clone)]
pub struct HeartbeatOutcome {
    /// The catalogue has no full inventory of the node.
    pub full_sync_wanted: bool,
    /// The node as it was before this heartbeat (`None`: never heard from).
    pub before: Option<NodeRecord>,
    pub pools_changed: bool,
}

impl HeartbeatOutcome {
    /// Whether what a page shows of the node changes with this heartbeat: it is new, its name, URL,
    /// pending count or pools changed, or its state (stale, offline) did.
    pub fn visible_change(&self, node: &NodeRef, pending: u64, now: i64, t: NodeTimings) -> bool {
        let Some(before) = &self.before else { return true };
        let mut after = before.clone();
        after.last_contact_at = now;
        after.pending_changes = pending as i64;
        self.pools_changed
            || before.pending_changes != pending as i64
            || node.node_name.as_ref().is_some_and(|n| *n != before.name)
            || node.node_api_url.is_some() && node.node_api_url != before.api_url
            || before.state(now, t) != after.state(now, t)
    }
}

async fn replace_pools(tx: &mut Tx, node: &NodeRef, pools: &[StoragePool]) -> Result<(), CatalogueError> {
    let mut sql = Sql::new("DELETE FROM node_pools WHERE node_id = ");
    sql.bind(node.node_id.to_string());
    sql.execute(&mut **tx).await?;
    let mut sql = Sql::new(
        "INSERT INTO node_pools (node_id, pool_id, name, path, capacity_bytes, free_bytes, image_count) VALUES ",
    );
    for (i, p) in pools.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" }).bind(node.node_id.to_string()).push(", ").bind(p.id.to_string());
        sql.push(", ").bind(p.name.clone()).push(", ").bind(p.path.clone()).push(", ").bind(p.capacity_bytes as i64);
        sql.push(", ").bind(p.free_bytes as i64).push(", ").bind(p.image_count as i64).push(")");
    }
    sql.execute(&mut **tx).await?;
    Ok(())
}

const SELECT_NODES: &str = "SELECT id, name, api_url, first_seen_at, last_contact_at, last_full_sync_at, \
     last_full_sync_revision, pending_changes, image_count, max_revision FROM nodes";

impl Catalogue {
    /// A heartbeat: the node is alive, has `pending` changes not yet delivered, and these pools (an
    /// empty list, from an older node, leaves the known pools alone).
    pub async fn heartbeat(
        &self,
        node: &NodeRef,
        pending: u64,
        pools: &[StoragePool],
        now: i64,
    ) -> Result<HeartbeatOutcome, CatalogueError> {
        let mut tx = self.write().await?;
        let mut sql = Sql::new(&format!("{SELECT_NODES} WHERE id = "));
        sql.bind(node.node_id.to_string());
        let before: Option<NodeRecord> =
            sql.fetch_all::<NodeRow, _>(&mut *tx).await?.into_iter().next().map(NodeRecord::try_from).transpose()?;
        let floor = touch(&mut tx, node, now, Some(pending), None).await?;
        let mut pools_changed = false;
        if !pools.is_empty() {
            let mut sql = Sql::new(
                "SELECT pool_id, name, path, capacity_bytes, free_bytes, image_count FROM node_pools WHERE node_id = ",
            );
            sql.bind(node.node_id.to_string()).push(" ORDER BY pool_id");
            let known: Vec<(String, String, String, i64, i64, i64)> = sql.fetch_all(&mut *tx).await?;
            let mut reported: Vec<_> = pools
                .iter()
                .map(|p| {
                    let n = |v: u64| v as i64;
                    (
                        p.id.to_string(),
                        p.name.clone(),
                        p.path.clone(),
                        n(p.capacity_bytes),
                        n(p.free_bytes),
                        n(p.image_count),
                    )
                })
                .collect();
            reported.sort();
            pools_changed = known != reported;
            if pools_changed {
                replace_pools(&mut tx, node, pools).await?;
            }
        }
        tx.commit().await?;
        Ok(HeartbeatOutcome { full_sync_wanted: floor.is_none(), before, pools_changed })
    }

    /// Records a heartbeat and makes the vdc's answer: whether an inventory is due, the highest revision
    /// seen of the node, and the pins its VM definitions hold there.
    pub async fn answer_heartbeat(
        &self,
        req: &HeartbeatRequest,
        now: i64,
    ) -> Result<(HeartbeatResponse, HeartbeatOutcome), CatalogueError> {
        let outcome = self.heartbeat(&req.node, req.pending, &req.pools, now).await?;
        let node_revision = outcome.before.as_ref().and_then(|n| n.max_revision).map(|r| r as u64);
        let pins = Some(self.pins_of_node(req.node.node_id.as_str()).await?);
        Ok((HeartbeatResponse { full_sync_wanted: outcome.full_sync_wanted, node_revision, pins }, outcome))
    }

    /// Every node's pools, by node id.
    pub async fn node_pools(&self) -> Result<HashMap<NodeId, Vec<StoragePool>>, CatalogueError> {
        let rows: Vec<(String, String, String, String, i64, i64, i64)> = Sql::new(
            "SELECT node_id, pool_id, name, path, capacity_bytes, free_bytes, image_count FROM node_pools ORDER BY node_id, pool_id",
        )
        .fetch_all(&self.db)
        .await?;
        let mut out: HashMap<NodeId, Vec<StoragePool>> = HashMap::new();
        let corrupt = |e: app::model::IdError| CatalogueError::Corrupt(e.to_string());
        for (node, id, name, path, capacity, free, images) in rows {
            out.entry(NodeId::parse(&node).map_err(corrupt)?).or_default().push(StoragePool {
                id: PoolId::parse(&id).map_err(corrupt)?,
                name,
                path,
                capacity_bytes: capacity as u64,
                free_bytes: free as u64,
                image_count: images as u64,
            });
        }
        Ok(out)
    }

    pub async fn nodes(&self) -> Result<Vec<NodeRecord>, CatalogueError> {
        let rows: Vec<NodeRow> = Sql::new(&format!("{SELECT_NODES} ORDER BY name, id")).fetch_all(&self.db).await?;
        rows.into_iter().map(NodeRecord::try_from).collect()
    }

    pub async fn node(&self, id: &str) -> Result<NodeRecord, CatalogueError> {
        let mut sql = Sql::new(&format!("{SELECT_NODES} WHERE id = "));
        sql.bind(id.to_owned());
        let rows: Vec<NodeRow> = sql.fetch_all(&self.db).await?;
        rows.into_iter().next().ok_or_else(|| CatalogueError::NodeNotFound(id.to_owned()))?.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(last_contact_at: i64, last_full_sync_at: Option<i64>, pending_changes: i64) -> NodeRecord {
        NodeRecord {
            id: NodeId::parse("n").unwrap(),
            name: "n".into(),
            api_url: None,
            first_seen_at: 0,
            last_contact_at,
            last_full_sync_at,
            last_full_sync_revision: None,
            pending_changes,
            image_count: 0,
            max_revision: None,
        }
    }

    #[test]
    fn states_follow_contact_and_full_sync() {
        let t = NodeTimings { offline_after: Duration::from_secs(40), sync_interval: Duration::from_secs(60) };
        assert_eq!(rec(1000, Some(990), 0).state(1005, t), NodeSyncState::InSync);
        assert_eq!(rec(1000, Some(990), 3).state(1005, t), NodeSyncState::Pending);
        assert_eq!(rec(1000, None, 0).state(1005, t), NodeSyncState::Pending);
        assert_eq!(rec(1000, Some(800), 0).state(1005, t), NodeSyncState::Pending);
        assert_eq!(rec(1000, Some(990), 0).state(1025, t), NodeSyncState::Stale);
        assert_eq!(rec(1000, Some(990), 0).state(1041, t), NodeSyncState::Offline);
    }
}
