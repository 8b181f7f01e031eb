//! The one place an image changes: each change takes the next node-wide revision, is applied, is
//! recorded in the outbox for the vdc and on the file's tag ([`file_tags`]), all inside the caller's
//! transaction.

use app::model::{FolderPath, ImageEventType, IsoMetadata, OsSource, PoolId};
use uuid::Uuid;

use super::{StoreError, Tx, rows::fetch};
use crate::db::{OnUniqueViolation, search_key, search_text};
use crate::node::{
    content::Findings,
    file_tags::{self, FileTag},
    names::ImageFileName,
    pools::Locator,
};

/// What a change sets on an existing image.
#[derive(Debug, Clone)]
pub(super) enum ImageUpdate<'a> {
    /// Moved to another folder.
    Folder(&'a FolderPath),
    /// The file was renamed on disk (in `pool`): new filename, display name and format; id and folder stay.
    File { pool: &'a PoolId, name: &'a ImageFileName },
    /// The file's contents changed behind the node's back: new size, and the old checksum no longer holds.
    Contents { size: u64, mtime_ns: Option<i64> },
    /// The file's SHA-256, known again without hashing (its tag still describes it).
    Checksum(&'a str),
    /// The file's SHA-256, once computed, and what its content says.
    Hashed { checksum: &'a str, found: &'a Findings },
    /// What the content says (an image registered before detection existed).
    Findings(&'a Findings),
    /// An operator's correction of the OS fields: from now on the OS fields are the user's.
    UserOs(&'a UserOs),
    /// Nothing but a new revision: the node's database went back in time, and what it holds must
    /// outrank what the vdc kept from the future it lost.
    Restamp,
}

/// Sets what the content says; the OS fields only where no person corrected them. Placeholders $1–$11
/// are [`bind_findings`]'s, then `updated_at` ($12) and `revision` ($13).
const FINDINGS_SET: &str = "\
    os_family = CASE WHEN os_source = 'user' THEN os_family ELSE $1 END, \
    os_distribution = CASE WHEN os_source = 'user' THEN os_distribution ELSE $2 END, \
    os_version = CASE WHEN os_source = 'user' THEN os_version ELSE $3 END, \
    os_source = CASE WHEN os_source = 'user' THEN 'user' ELSE $4 END, \
    volume_id = $5, arch = $6, os_edition = $7, boot_bios = $8, boot_uefi = $9, \
    detection_error = $10, ova_json = $11, content_checked = 1, updated_at = $12, revision = $13";

fn bind_findings<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    f: &'q Findings,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    q.bind(f.os.family)
        .bind(f.os.distribution.as_deref())
        .bind(f.os.version.as_deref())
        .bind(f.source.map(OsSource::as_str))
        .bind(f.volume_id.as_deref())
        .bind(f.arch.as_deref())
        .bind(f.edition.as_deref())
        .bind(f.boot.map(|b| b.bios as i64))
        .bind(f.boot.map(|b| b.uefi as i64))
        .bind(f.error.as_deref())
        .bind(f.ova.as_ref().map(|o| serde_json::to_string(o).expect("an OVA's facts serialise")))
}

/// The OS fields an operator sets (`None`: left as they are).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserOs {
    pub family: Option<String>,
    pub distribution: Option<String>,
    pub version: Option<String>,
}

/// Takes the next revision.
pub(super) async fn next_revision(tx: &mut Tx) -> Result<u64, StoreError> {
    let value: i64 = sqlx::query_scalar(
        "UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision' RETURNING CAST(value AS INTEGER)",
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(value as u64)
}

/// Records `image` (as it is after the change, at its new revision) for delivery to the vdc, and tags its
/// file with what the change made of it. The tag is written inside the transaction, so tags of one image
/// are written in the order of its revisions.
pub(super) async fn record(tx: &mut Tx, event: ImageEventType, image: &IsoMetadata) -> Result<(), StoreError> {
    if event != ImageEventType::Deleted && !image.path.is_empty() {
        let mtime_ns: Option<i64> = sqlx::query_scalar("SELECT file_mtime_ns FROM images WHERE id = $1")
            .bind(image.id.to_string())
            .fetch_optional(&mut **tx)
            .await?
            .flatten();
        file_tags::write_or_warn(std::path::Path::new(&image.path), &FileTag::of(image, mtime_ns));
    }
    // The record replaces any earlier one of this image that still waits (it carries the whole image,
    // at a higher revision), so the outbox is bounded by the number of images, not of changes. A batch
    // being delivered meanwhile loses nothing: its acknowledgement only forgets records up to its last
    // sequence number, and this one comes after.
    let (id, now) = (image.id.to_string(), crate::now_unix());
    let folded: Vec<i64> = sqlx::query_scalar("DELETE FROM outbox WHERE image_id = $1 RETURNING pending_since")
        .bind(&id)
        .fetch_all(&mut **tx)
        .await?;
    let json = serde_json::to_string(image).expect("metadata serialises");
    sqlx::query(
        "INSERT INTO outbox (event_type, revision, image_json, created_at, image_id, pending_since) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.code())
    .bind(image.revision as i64)
    .bind(json)
    .bind(now)
    .bind(&id)
    .bind(folded.into_iter().min().unwrap_or(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Applies `change` to image `id` at the next revision and records it; returns the image as it is now.
pub(super) async fn update(
    tx: &mut Tx,
    locator: &Locator,
    id: Uuid,
    change: ImageUpdate<'_>,
) -> Result<IsoMetadata, StoreError> {
    let revision = next_revision(tx).await? as i64;
    let (now, id_text) = (crate::now_unix(), id.to_string());
    let done = match &change {
        ImageUpdate::Folder(folder) => {
            sqlx::query("UPDATE images SET folder_path = $1, updated_at = $2, revision = $3 WHERE id = $4")
                .bind(folder.as_str())
                .bind(now)
                .bind(revision)
                .bind(&id_text)
                .execute(&mut **tx)
                .await
        }
        ImageUpdate::File { name, .. } => {
            sqlx::query(
                "UPDATE images SET filename = $1, name = $2, format = $3, name_key = $4, search_text = $5, \
                 updated_at = $6, revision = $7, filename_key = $8 WHERE id = $9",
            )
            .bind(name.as_str())
            .bind(name.stem())
            .bind(name.format().extension())
            .bind(search_key(name.stem()))
            .bind(search_text(name.stem(), name.as_str()))
            .bind(now)
            .bind(revision)
            .bind(name.key())
            .bind(&id_text)
            .execute(&mut **tx)
            .await
        }
        ImageUpdate::Contents { size, mtime_ns } => {
            sqlx::query(
                "UPDATE images SET size_bytes = $1, file_mtime_ns = $2, checksum = NULL, updated_at = $3, \
                 revision = $4 WHERE id = $5",
            )
            .bind(*size as i64)
            .bind(*mtime_ns)
            .bind(now)
            .bind(revision)
            .bind(&id_text)
            .execute(&mut **tx)
            .await
        }
        ImageUpdate::Restamp => {
            sqlx::query("UPDATE images SET revision = $1 WHERE id = $2")
                .bind(revision)
                .bind(&id_text)
                .execute(&mut **tx)
                .await
        }
        ImageUpdate::Checksum(checksum) => {
            sqlx::query("UPDATE images SET checksum = $1, updated_at = $2, revision = $3 WHERE id = $4")
                .bind(*checksum)
                .bind(now)
                .bind(revision)
                .bind(&id_text)
                .execute(&mut **tx)
                .await
        }
        ImageUpdate::Hashed { checksum, found } => {
            bind_findings(sqlx::query(&format!("UPDATE images SET {FINDINGS_SET}, checksum = $14 WHERE id = $15")), found)
                .bind(now)
                .bind(revision)
                .bind(*checksum)
                .bind(&id_text)
                .execute(&mut **tx)
                .await
        }
        ImageUpdate::Findings(found) => {
            bind_findings(sqlx::query(&format!("UPDATE images SET {FINDINGS_SET} WHERE id = $14")), found)
                .bind(now)
                .bind(revision)
                .bind(&id_text)
                .execute(&mut **tx)
                .await
        }
        ImageUpdate::UserOs(os) => {
            sqlx::query(
                "UPDATE images SET os_family = COALESCE($1, os_family), os_distribution = COALESCE($2, os_distribution), \
                 os_version = COALESCE($3, os_version), os_source = 'user', updated_at = $4, revision = $5 WHERE id = $6",
            )
            .bind(os.family.as_deref())
            .bind(os.distribution.as_deref())
            .bind(os.version.as_deref())
            .bind(now)
            .bind(revision)
            .bind(&id_text)
            .execute(&mut **tx)
            .await
        }
    };
    let done = done.on_unique_violation(|| match &change {
        ImageUpdate::File { pool, name } => {
            StoreError::NameTaken { pool: pool.to_string(), filename: name.to_string() }
        }
        _ => StoreError::Corrupt(format!("a unique constraint refused an update of image {id}")),
    })?;
    if done.rows_affected() == 0 {
        return Err(StoreError::ImageNotFound(id));
    }
    let meta = fetch(tx, locator, id).await?;
    record(tx, ImageEventType::Updated, &meta).await?;
    Ok(meta)
}
