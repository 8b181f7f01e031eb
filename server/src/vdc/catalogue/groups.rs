//! The grouped listing: identical images (the same SHA-256) on several hosts as one group, over the whole
//! filtered result, keyset-paged like the plain list.
//!
//! A group is represented by its first image under the asked sort. The page is read along the sort
//! order, keeping an image only if no other image of the filtered result with its checksum comes before
//! it: each test is a lookup by checksum (`images_by_checksum`), so a page costs its length times the
//! copies per image, not a pass over the whole result, and a cursor is the representative's, exactly as
//! in the plain list.

use std::collections::HashMap;

use app::model::{FolderPath, ImageGroup, ImageGroupList, ImageLocation, NodeId, PoolId, SortOrder};
use uuid::Uuid;

use super::{
    Catalogue, CatalogueError,
    images::{COLUMNS, Row},
    listing::push_cursor,
};
use crate::db::{ImageFilter, Sql, folder_condition, sort_columns};

#[derive(sqlx::FromRow)]
struct GroupRow {
    #[sqlx(flatten)]
    row: Row,
    copies: i64,
}

impl Catalogue {
    pub async fn list_groups(&self, f: &ImageFilter) -> Result<ImageGroupList, CatalogueError> {
        let columns = sort_columns(f.sort, true);
        let (dir, before) = match f.order {
            SortOrder::Asc => ("ASC", "<"),
            SortOrder::Desc => ("DESC", ">"),
        };
        let qualified = |table: &str| columns.iter().map(|c| format!("{table}.{c}")).collect::<Vec<_>>().join(", ");
        // The outer query reads `images i`, the subqueries `images o`: the filters, written with bare
        // column names, bind to the innermost table in each.
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS}, CAST(CASE WHEN i.checksum IS NULL THEN 1 ELSE (SELECT COUNT(*) FROM images o \
             WHERE o.deleted = FALSE AND o.checksum = i.checksum"
        ));
        self.push_filters(&mut sql, f, condition(f), false);
        sql.push(") END AS BIGINT) AS copies FROM images i WHERE i.deleted = FALSE");
        self.push_filters(&mut sql, f, condition(f), false);
        sql.push(
            " AND (i.checksum IS NULL OR NOT EXISTS (SELECT 1 FROM images o WHERE o.deleted = FALSE \
             AND o.checksum = i.checksum",
        );
        self.push_filters(&mut sql, f, condition(f), false);
        sql.push(&format!(" AND ({}) {before} ({})))", qualified("o"), qualified("i")));
        if let Some(cursor) = &f.cursor {
            push_cursor(&mut sql, f, cursor);
        }
        let order: Vec<String> = columns.iter().map(|k| format!("i.{k} {dir}")).collect();
        sql.push(&format!(" ORDER BY {} LIMIT ", order.join(", "))).bind(f.limit as i64 + 1);
        let mut rows: Vec<GroupRow> = sql.fetch_all(&self.db).await?;
        let next_cursor = if rows.len() > f.limit as usize {
            rows.truncate(f.limit as usize);
            rows.last().map(|r| r.row.cursor(f.sort).encode())
        } else {
            None
        };
        let checksums: Vec<String> = rows.iter().filter(|r| r.copies > 1).filter_map(|r| r.row.checksum()).collect();
        let mut elsewhere = self.locations(f, checksums).await?;
        let mut groups = Vec::with_capacity(rows.len());
        for GroupRow { row, copies } in rows {
            let image = row.into_meta()?;
            let first = location_of(&image)?;
            let locations = match &image.checksum {
                Some(c) if copies > 1 => elsewhere.remove(c).unwrap_or_else(|| vec![first]),
                _ => vec![first],
            };
            groups.push(ImageGroup { checksum: image.checksum.clone(), copies: copies as u64, image, locations });
        }
        Ok(ImageGroupList { groups, next_cursor })
    }

    /// Every image of the filtered result holding one of `checksums`, by checksum, in the sort's order.
    async fn locations(
        &self,
        f: &ImageFilter,
        checksums: Vec<String>,
    ) -> Result<HashMap<String, Vec<ImageLocation>>, CatalogueError> {
        let mut out: HashMap<String, Vec<ImageLocation>> = HashMap::new();
        if checksums.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::new(
            "SELECT checksum, node_id, storage_pool_id, id, folder_path FROM images WHERE deleted = FALSE \
             AND checksum IN ",
        );
        sql.bind_list(checksums);
        self.push_filters(&mut sql, f, condition(f), false);
        let dir = match f.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let order: Vec<String> = sort_columns(f.sort, true).iter().map(|k| format!("{k} {dir}")).collect();
        sql.push(&format!(" ORDER BY {}", order.join(", ")));
        let rows: Vec<(String, String, Option<String>, String, String)> = sql.fetch_all(&self.db).await?;
        for (checksum, node, pool, id, folder) in rows {
            let location = parse_location(&node, pool.as_deref(), &id, &folder)?;
            out.entry(checksum).or_default().push(location);
        }
        Ok(out)
    }
}

fn condition(f: &ImageFilter) -> Option<crate::db::FolderCondition> {
    f.folder.as_ref().and_then(|folder| folder_condition(folder, f.recursive))
}

fn location_of(image: &app::model::IsoMetadata) -> Result<ImageLocation, CatalogueError> {
    Ok(ImageLocation {
        node_id: image
            .node_id
            .clone()
            .ok_or_else(|| CatalogueError::Corrupt(format!("image {} has no node", image.id)))?,
        storage_pool_id: image.storage_pool_id.clone(),
        id: image.id,
        folder_path: image.folder_path.clone(),
    })
}

fn parse_location(node: &str, pool: Option<&str>, id: &str, folder: &str) -> Result<ImageLocation, CatalogueError> {
    let corrupt = |what: &str| CatalogueError::Corrupt(format!("{what} of image {id}"));
    Ok(ImageLocation {
        node_id: NodeId::parse(node).map_err(|_| corrupt("node"))?,
        storage_pool_id: pool.map(PoolId::parse).transpose().map_err(|_| corrupt("pool"))?,
        id: Uuid::parse_str(id).map_err(|_| corrupt("id"))?,
        folder_path: FolderPath::parse(folder).map_err(|_| corrupt("folder"))?,
    })
}
