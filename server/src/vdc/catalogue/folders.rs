//! The folder tree of the whole cluster, and folders created on the vdc.

use app::model::{FolderListing, FolderPath};

use super::{Catalogue, CatalogueError};
use crate::db::Sql;

impl Catalogue {
    /// Every folder with its image counts: created ones, defaults, and every ancestor of every image's
    /// folder.
    pub async fn folder_tree(&self) -> Result<FolderListing, CatalogueError> {
        let counts: Vec<(String, i64)> =
            Sql::new("SELECT folder_path, images FROM folder_counts WHERE images > 0").fetch_all(&self.db).await?;
        let created: Vec<(String,)> = Sql::new("SELECT path FROM folders").fetch_all(&self.db).await?;
        let parse = |p: &str| FolderPath::parse(p).map_err(|_| CatalogueError::Corrupt(format!("folder {p:?}")));
        let counts =
            counts.iter().map(|(f, n)| Ok((parse(f)?, *n as u64))).collect::<Result<Vec<_>, CatalogueError>>()?;
        let created = created.iter().map(|(f,)| parse(f)).collect::<Result<Vec<_>, _>>()?;
        Ok(FolderListing::build(created, counts))
    }

    pub async fn create_folder(&self, folder: &FolderPath, now: i64) -> Result<FolderListing, CatalogueError> {
        if self.folder_tree().await?.folders.contains(folder) {
            return Err(CatalogueError::FolderExists(folder.to_string()));
        }
        let mut sql = Sql::new("INSERT INTO folders (path, created_at) VALUES (");
        sql.bind(folder.to_string()).push(", ").bind(now).push(") ON CONFLICT (path) DO NOTHING");
        let mut tx = self.write().await?;
        sql.execute(&mut *tx).await?;
        self.commit_announcing(tx, Vec::new()).await?;
        self.folder_tree().await
    }
}
