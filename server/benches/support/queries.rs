//! What the library and the picker ask of `GET /api/v1/images`: folder navigation (exact and recursive),
//! node, pool and OS filters, other sort orders, and the second page of a listing (`PAGE2:` is replaced
//! by the first page's cursor, see [`with_second_page`]).

pub const LISTS: &[&str] = &[
    "folder=/linux/ubuntu/22.04",
    "folder=/windows&recursive=true&os_family=windows",
    "node_id=hv00042",
    "folder=/linux&recursive=true&pool_id=pool1&sort=size&order=desc",
    "os_family=bsd&sort=name",
    "folder=/drivers&recursive=true&limit=50",
    "pool_id=pool2&sort=created&order=desc",
    "PAGE2:folder=/linux&recursive=true",
];

/// Text search: a specific term, one matching ~9% of the catalogue, one within a subtree, and one rare.
pub const SEARCHES: &[&str] = &["q=rocky-9.3-1", "q=rocky", "q=2022&folder=/windows&recursive=true", "q=virtio"];

/// [`LISTS`] with the `PAGE2:` query given the cursor of its first page, asked of the vdc at `base`.
pub async fn with_second_page(client: &reqwest::Client, base: &str) -> Vec<String> {
    let mut out = Vec::new();
    for q in LISTS {
        out.push(match q.strip_prefix("PAGE2:") {
            Some(q) => {
                let first: app::model::ImageList =
                    client.get(format!("{base}/api/v1/images?{q}")).send().await.unwrap().json().await.unwrap();
                format!("{q}&cursor={}", first.next_cursor.expect("a second page"))
            }
            None => q.to_string(),
        });
    }
    out
}

/// A query's label in a report: without its cursor, marked as the second page.
pub fn label(q: &str) -> String {
    match q.split_once("&cursor=") {
        Some((q, _)) => format!("{q} (page 2)"),
        None => q.to_owned(),
    }
}
