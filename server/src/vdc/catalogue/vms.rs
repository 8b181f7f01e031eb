//! VM definitions in the catalogue.

use app::model::IsoPin;
use uuid::Uuid;

use super::{Catalogue, CatalogueError};
use crate::db::OnUniqueViolation;
use crate::db::Sql;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VmRecord {
    pub id: String,
    pub name: String,
    pub vcpus: i64,
    pub memory_mib: i64,
    pub disk_gib: i64,
    pub disk_pool_id: String,
    pub iso_id: String,
    pub node_id: String,
    pub created_at: i64,
    /// `bios` or `uefi`.
    pub firmware: String,
}

const SELECT: &str =
    "SELECT id, name, vcpus, memory_mib, disk_gib, disk_pool_id, iso_id, node_id, created_at, firmware FROM vms";

impl Catalogue {
    /// Stores a new definition; a taken name is refused by the database itself (replicas race safely).
    pub async fn create_vm(&self, vm: &VmRecord) -> Result<(), CatalogueError> {
        let mut sql = Sql::new(
            "INSERT INTO vms (id, name, vcpus, memory_mib, disk_gib, disk_pool_id, iso_id, node_id, created_at, firmware) \
             VALUES (",
        );
        sql.bind(vm.id.clone()).push(", ").bind(vm.name.clone()).push(", ").bind(vm.vcpus).push(", ");
        sql.bind(vm.memory_mib).push(", ").bind(vm.disk_gib).push(", ").bind(vm.disk_pool_id.clone()).push(", ");
        sql.bind(vm.iso_id.clone()).push(", ").bind(vm.node_id.clone()).push(", ").bind(vm.created_at).push(", ");
        sql.bind(vm.firmware.clone()).push(")");
        sql.execute(&self.db).await.on_unique_violation(|| CatalogueError::VmNameTaken(vm.name.clone()))?;
        Ok(())
    }

    pub async fn vms(&self) -> Result<Vec<VmRecord>, CatalogueError> {
        Ok(Sql::new(&format!("{SELECT} ORDER BY name")).fetch_all(&self.db).await?)
    }

    pub async fn vm(&self, id: Uuid) -> Result<VmRecord, CatalogueError> {
        let mut sql = Sql::new(&format!("{SELECT} WHERE id = "));
        sql.bind(id.to_string());
        let rows: Vec<VmRecord> = sql.fetch_all(&self.db).await?;
        rows.into_iter().next().ok_or(CatalogueError::VmNotFound(id))
    }

    pub async fn delete_vm(&self, id: Uuid) -> Result<(), CatalogueError> {
        let mut sql = Sql::new("DELETE FROM vms WHERE id = ");
        sql.bind(id.to_string());
        match sql.execute(&self.db).await?.rows_affected() {
            0 => Err(CatalogueError::VmNotFound(id)),
            _ => Ok(()),
        }
    }

    /// Names of the VMs that boot from `iso_id`.
    pub async fn vms_using(&self, iso_id: Uuid) -> Result<Vec<String>, CatalogueError> {
        let mut sql = Sql::new("SELECT name FROM vms WHERE iso_id = ");
        sql.bind(iso_id.to_string()).push(" ORDER BY name");
        let rows: Vec<(String,)> = sql.fetch_all(&self.db).await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// What the VM definitions placed on `node_id` boot from: the pins that node must hold.
    pub async fn pins_of_node(&self, node_id: &str) -> Result<Vec<IsoPin>, CatalogueError> {
        let mut sql = Sql::new("SELECT iso_id, id, name FROM vms WHERE node_id = ");
        sql.bind(node_id.to_owned()).push(" ORDER BY id");
        let rows: Vec<(String, String, String)> = sql.fetch_all(&self.db).await?;
        let corrupt = |what: &str, v: &str| CatalogueError::Corrupt(format!("{what} {v:?} of a VM definition"));
        rows.into_iter()
            .map(|(iso, vm, name)| {
                Ok(IsoPin {
                    image_id: Uuid::parse_str(&iso).map_err(|_| corrupt("ISO id", &iso))?,
                    vm_id: Uuid::parse_str(&vm).map_err(|_| corrupt("id", &vm))?,
                    vm_name: name,
                })
            })
            .collect()
    }
}
