//! Image rows as SQLite holds them, and their reading into the wire type.

use app::model::{FolderPath, ImageFormat, IsoMetadata, PoolId};
use uuid::Uuid;

use super::{StoreError, Tx};
use crate::db::ContentColumns;
use crate::node::pools::Locator;

/// Every column the API shows, in one row.
#[derive(sqlx::FromRow)]
pub(super) struct ImageRow {
    pub id: String,
    pub pool_id: String,
    pub filename: String,
    pub name: String,
    pub folder_path: String,
    pub size_bytes: i64,
    pub format: String,
    pub checksum: Option<String>,
    pub os_family: Option<String>,
    pub os_distribution: Option<String>,
    pub os_version: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision: i64,
    pub name_key: String,
    #[sqlx(flatten)]
    pub content: ContentColumns,
}

pub(super) const COLUMNS: &str = concat!(
    "id, pool_id, filename, name, folder_path, size_bytes, format, checksum, os_family, os_distribution, os_version, \
     created_at, updated_at, revision, name_key, ",
    crate::content_columns!()
);

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(super) fn parse_id(id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(id).map_err(|_| corrupt("image id", id))
}

impl ImageRow {
    pub fn into_meta(self, locator: &Locator) -> Result<IsoMetadata, StoreError> {
        let path = locator
            .path_of(&self.pool_id, &self.filename)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut meta = IsoMetadata {
            id: parse_id(&self.id)?,
            folder_path: FolderPath::parse(&self.folder_path).map_err(|_| corrupt("folder", &self.folder_path))?,
            format: ImageFormat::from_extension(&self.format).ok_or_else(|| corrupt("format", &self.format))?,
            storage_pool_id: Some(PoolId::parse(&self.pool_id).map_err(|_| corrupt("pool id", &self.pool_id))?),
            name: self.name,
            filename: self.filename,
            size_bytes: self.size_bytes as u64,
            path,
            checksum: self.checksum,
            os_family: self.os_family,
            os_distribution: self.os_distribution,
            os_version: self.os_version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision as u64,
            node_id: None,
            os_source: None,
            volume_id: None,
            arch: None,
            os_edition: None,
            boot: None,
            detection_error: None,
            ova: None,
        };
        let id = meta.id.to_string();
        self.content.apply(&mut meta).map_err(|column| corrupt(column, &id))?;
        Ok(meta)
    }
}

/// One image, read inside `tx`.
pub(super) async fn fetch(tx: &mut Tx, locator: &Locator, id: Uuid) -> Result<IsoMetadata, StoreError> {
    let row: Option<ImageRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM images WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    row.ok_or(StoreError::ImageNotFound(id))?.into_meta(locator)
}
