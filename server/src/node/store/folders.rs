//! Explicit folders, and the folder operations that move whole subtrees.

use app::model::{FolderListing, FolderPath};
use uuid::Uuid;

use super::{
    NodeStore, StoreError, Tx,
    changes::{self, ImageUpdate},
    rows::parse_id,
};

/// Makes `folder` exist explicitly (idempotent).
pub(super) async fn ensure_folder(tx: &mut Tx, folder: &FolderPath) -> Result<(), StoreError> {
    if !folder.is_root() {
        sqlx::query("INSERT OR IGNORE INTO folders (path, created_at) VALUES ($1, $2)")
            .bind(folder.as_str())
            .bind(crate::now_unix())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Everything a folder operation needs to decide: explicit folders and each image's folder.
struct Tree {
    explicit: Vec<FolderPath>,
    images: Vec<(Uuid, FolderPath)>,
}

impl Tree {
    async fn load(tx: &mut Tx) -> Result<Tree, StoreError> {
        let explicit: Vec<String> = sqlx::query_scalar("SELECT path FROM folders").fetch_all(&mut **tx).await?;
        let images: Vec<(String, String)> =
            sqlx::query_as("SELECT id, folder_path FROM images").fetch_all(&mut **tx).await?;
        let parse = |p: &str| FolderPath::parse(p).map_err(|_| StoreError::Corrupt(format!("folder {p:?}")));
        Ok(Tree {
            explicit: explicit.iter().map(|p| parse(p)).collect::<Result<_, _>>()?,
            images: images.iter().map(|(id, f)| Ok((parse_id(id)?, parse(f)?))).collect::<Result<_, StoreError>>()?,
        })
    }

    fn listing(&self) -> FolderListing {
        FolderListing::build(self.explicit.iter().cloned(), self.images.iter().map(|(_, f)| (f.clone(), 1)))
    }

    fn exists(&self, folder: &FolderPath) -> bool {
        self.listing().folders.contains(folder)
    }

    fn images_within<'a>(&'a self, folder: &'a FolderPath) -> impl Iterator<Item = &'a (Uuid, FolderPath)> + 'a {
        self.images.iter().filter(move |(_, f)| f.is_within(folder))
    }
}

impl NodeStore {
    pub async fn folders(&self) -> Result<FolderListing, StoreError> {
        let mut tx = self.db.begin().await?;
        let listing = Tree::load(&mut tx).await?.listing();
        tx.commit().await?;
        Ok(listing)
    }

    #[tracing::instrument(skip(self))]
    pub async fn create_folder(&self, folder: &FolderPath) -> Result<FolderListing, StoreError> {
        let mut tx = self.write().await?;
        if Tree::load(&mut tx).await?.exists(folder) {
            return Err(StoreError::FolderExists(folder.clone()));
        }
        ensure_folder(&mut tx, folder).await?;
        let listing = Tree::load(&mut tx).await?.listing();
        self.commit(tx).await?;
        Ok(listing)
    }

    /// Renames `from` to `to`, moving every image and folder beneath it; each moved image is a change.
    #[tracing::instrument(skip(self))]
    pub async fn rename_folder(&self, from: &FolderPath, to: &FolderPath) -> Result<FolderListing, StoreError> {
        if from.is_root() {
            return Err(StoreError::RootFolder("renamed"));
        }
        if to.is_within(from) {
            return Err(StoreError::IntoItself { from: from.clone(), to: to.clone() });
        }
        let mut tx = self.write().await?;
        let tree = Tree::load(&mut tx).await?;
        if !tree.exists(from) {
            return Err(StoreError::FolderNotFound(from.clone()));
        }
        if tree.exists(to) {
            return Err(StoreError::FolderExists(to.clone()));
        }
        // The new path may be too deep or too long for what lies beneath: the caller's request is refused.
        let rebase = |f: &FolderPath| f.rebase(from, to).expect("within `from`").map_err(StoreError::from);
        let moved: Vec<(Uuid, FolderPath)> =
            tree.images_within(from).map(|(id, f)| Ok((*id, rebase(f)?))).collect::<Result<_, StoreError>>()?;
        let folders: Vec<(FolderPath, FolderPath)> = tree
            .explicit
            .iter()
            .filter(|f| f.is_within(from))
            .map(|f| Ok((f.clone(), rebase(f)?)))
            .collect::<Result<_, StoreError>>()?;
        for (old, _) in &folders {
            sqlx::query("DELETE FROM folders WHERE path = $1").bind(old.as_str()).execute(&mut *tx).await?;
        }
        ensure_folder(&mut tx, to).await?;
        for (_, new) in &folders {
            ensure_folder(&mut tx, new).await?;
        }
        for (id, folder) in &moved {
            changes::update(&mut tx, &self.locator, *id, ImageUpdate::Folder(folder)).await?;
        }
        let listing = Tree::load(&mut tx).await?.listing();
        self.commit(tx).await?;
        Ok(listing)
    }

    /// Deletes a folder with no image anywhere beneath it (its empty subfolders go with it).
    #[tracing::instrument(skip(self))]
    pub async fn delete_folder(&self, folder: &FolderPath) -> Result<FolderListing, StoreError> {
        if folder.is_root() {
            return Err(StoreError::RootFolder("deleted"));
        }
        if FolderPath::defaults().any(|d| &d == folder) {
            return Err(StoreError::DefaultFolder(folder.clone()));
        }
        let mut tx = self.write().await?;
        let tree = Tree::load(&mut tx).await?;
        if !tree.exists(folder) {
            return Err(StoreError::FolderNotFound(folder.clone()));
        }
        let images = tree.images_within(folder).count() as u64;
        if images > 0 {
            return Err(StoreError::FolderNotEmpty { path: folder.clone(), images });
        }
        for f in tree.explicit.iter().filter(|f| f.is_within(folder)) {
            sqlx::query("DELETE FROM folders WHERE path = $1").bind(f.as_str()).execute(&mut *tx).await?;
        }
        let listing = Tree::load(&mut tx).await?.listing();
        self.commit(tx).await?;
        Ok(listing)
    }
}
