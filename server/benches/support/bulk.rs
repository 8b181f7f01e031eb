//! The bulk of a large catalogue, written straight into the vdc's PostgreSQL database with `COPY`: rows
//! exactly as the vdc's own upsert writes them (the same columns, the same derived name key and search
//! text, the same content columns), for nodes already registered through the API. Through HTTP, a million
//! rows take longer than the whole bench may; what is timed through HTTP afterwards is the ingest of
//! bursts into the loaded catalogue.
//!
//! Bulk-load practice, none of it a change to what the vdc runs: the secondary indexes are dropped before
//! the copy and built again after it from their own definitions (whatever the migrations made), which is
//! several times faster than maintaining them row by row (1 M rows: about 5 min row by row on 2 busy
//! cores, an index build a few seconds each); the per-folder and per-node counters the triggers keep
//! are computed once at the end (the table's triggers are off during the copy); then the table is
//! vacuumed and analysed, as autovacuum would have done by the time a catalogue this size is queried.

use std::time::Instant;

use app::model::IsoMetadata;
use server::db::{CONTENT_COLUMNS, ContentColumns, search_key, search_text};
use sqlx::{Connection, Executor, PgConnection};

use super::dataset::Dataset;

/// Rows per `COPY` (one transaction each): a failure part-way loses little, and memory stays flat.
const ROWS_PER_COPY: usize = 50_000;

/// Copies every image of `data` into the catalogue at `url`; seconds taken.
pub async fn load(url: &str, data: &Dataset) -> f64 {
    let start = Instant::now();
    let mut conn = PgConnection::connect(url).await.unwrap();
    // The loader's own session only: index builds sort in memory instead of in many small runs.
    conn.execute("SET maintenance_work_mem = '512MB'").await.unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'images' AND indexname <> 'images_pkey'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for (name, _) in &indexes {
        conn.execute(format!("DROP INDEX {name}").as_str()).await.unwrap();
    }
    conn.execute("ALTER TABLE images DISABLE TRIGGER USER").await.unwrap();
    let columns = format!(
        "node_id, id, revision, deleted, name, filename, folder_path, size_bytes, format, storage_pool_id, path, \
         checksum, os_family, os_distribution, os_version, created_at, updated_at, name_key, search_text, {CONTENT_COLUMNS}"
    );
    let mut text = String::new();
    let mut rows = 0;
    for n in 0..data.nodes {
        let node_id = data.node(n).node_id.to_string();
        for image in data.images(n) {
            push_row(&mut text, &node_id, &image);
            rows += 1;
            if rows % ROWS_PER_COPY == 0 {
                copy(&mut conn, &columns, &mut text).await;
                eprint!("\r  {rows} rows copied, {:.0} s", start.elapsed().as_secs_f64());
            }
        }
    }
    copy(&mut conn, &columns, &mut text).await;
    eprintln!();
    for (name, definition) in &indexes {
        let t = Instant::now();
        conn.execute(definition.as_str()).await.unwrap();
        eprintln!("  index {name} built in {:.1} s", t.elapsed().as_secs_f64());
    }
    conn.execute("ALTER TABLE images ENABLE TRIGGER USER").await.unwrap();
    conn.execute(
        "INSERT INTO folder_counts (folder_path, images) \
         SELECT folder_path, COUNT(*) FROM images WHERE deleted = FALSE GROUP BY folder_path \
         ON CONFLICT (folder_path) DO UPDATE SET images = excluded.images",
    )
    .await
    .unwrap();
    conn.execute(
        "UPDATE nodes SET image_count = c.images, max_revision = c.revision FROM \
         (SELECT node_id, COUNT(*) AS images, MAX(revision) AS revision FROM images WHERE deleted = FALSE GROUP BY node_id) c \
         WHERE nodes.id = c.node_id",
    )
    .await
    .unwrap();
    conn.execute("VACUUM (ANALYZE) images").await.unwrap();
    start.elapsed().as_secs_f64()
}

async fn copy(conn: &mut PgConnection, columns: &str, text: &mut String) {
    if text.is_empty() {
        return;
    }
    let mut sink = conn.copy_in_raw(&format!("COPY images ({columns}) FROM STDIN")).await.unwrap();
    sink.send(text.as_bytes()).await.unwrap();
    sink.finish().await.unwrap();
    text.clear();
}

/// One row in `COPY`'s text format: tab-separated, `\N` for NULL.
fn push_row(out: &mut String, node_id: &str, m: &IsoMetadata) {
    let c = ContentColumns::of(m);
    let int = |v: i64| Some(v.to_string());
    let fields: [Option<String>; 27] = [
        Some(node_id.to_owned()),
        Some(m.id.to_string()),
        int(m.revision as i64),
        Some("f".into()),
        Some(m.name.clone()),
        Some(m.filename.clone()),
        Some(m.folder_path.to_string()),
        int(m.size_bytes as i64),
        Some(m.format.extension().to_owned()),
        m.storage_pool_id.as_ref().map(|p| p.to_string()),
        Some(m.path.clone()),
        m.checksum.clone(),
        m.os_family.clone(),
        m.os_distribution.clone(),
        m.os_version.clone(),
        int(m.created_at),
        int(m.updated_at),
        Some(search_key(&m.name)),
        Some(search_text(&m.name, &m.filename)),
        c.os_source,
        c.volume_id,
        c.arch,
        c.os_edition,
        c.boot_bios.map(|b| b.to_string()),
        c.boot_uefi.map(|b| b.to_string()),
        c.detection_error,
        c.ova_json,
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match field {
            None => out.push_str("\\N"),
            Some(v) => escape_into(out, v),
        }
    }
    out.push('\n');
}

/// `COPY` text escapes: the backslash, and the characters that would end a field or a row.
fn escape_into(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
