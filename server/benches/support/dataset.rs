//! A synthetic cluster catalogue: NODES nodes with PER_NODE images each, spread over the folders, OS
//! families, pools and versions a real library holds. Each node's images are generated on demand from a
//! seed of their own, so 5 million images never sit in memory at once and every run sees the same ones.

use app::model::{BootModes, FolderPath, ImageFormat, IsoMetadata, NodeRef, OsSource};
use rand::{Rng, SeedableRng, rngs::StdRng};
use uuid::Uuid;

const DISTROS: &[(&str, &str, &str, &[&str])] = &[
    ("ubuntu", "linux", "/linux/ubuntu", &["20.04", "22.04", "24.04", "24.10"]),
    ("debian", "linux", "/linux/debian", &["11.9", "12.5", "13.0"]),
    ("rocky", "linux", "/linux/rhel/rocky", &["8.9", "9.3", "9.4"]),
    ("alma", "linux", "/linux/rhel/alma", &["8.9", "9.4"]),
    ("fedora", "linux", "/linux/fedora", &["39", "40", "41"]),
    ("alpine", "linux", "/linux/alpine", &["3.18", "3.19", "3.20"]),
    ("windows-server", "windows", "/windows/server", &["2016", "2019", "2022", "2025"]),
    ("windows", "windows", "/windows/desktop", &["10", "11"]),
    ("freebsd", "bsd", "/other/bsd", &["13.3", "14.0", "14.1"]),
    ("virtio-win", "windows", "/drivers", &["0.1.229", "0.1.240"]),
    ("tools", "other", "/other/tools", &["1", "2"]),
];

/// First revision of the dataset; revisions grow by one per image, so each is unique.
const FIRST_REVISION: u64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    pub nodes: usize,
    pub per_node: usize,
}

impl Dataset {
    pub fn new(nodes: usize, per_node: usize) -> Self {
        Self { nodes, per_node }
    }

    pub fn images_total(&self) -> usize {
        self.nodes * self.per_node
    }

    pub fn node(&self, n: usize) -> NodeRef {
        NodeRef {
            node_id: format!("hv{n:05}").parse().unwrap(),
            node_name: Some(format!("hypervisor {n:05}")),
            node_api_url: Some(format!("http://10.{}.{}.10:3001", n / 250, n % 250)),
        }
    }

    pub fn all_nodes(&self) -> impl Iterator<Item = NodeRef> + '_ {
        (0..self.nodes).map(|n| self.node(n))
    }

    /// Node `n`'s images, the same on every call.
    pub fn images(&self, n: usize) -> Vec<IsoMetadata> {
        let mut rng = StdRng::seed_from_u64(2026 ^ ((n as u64) << 20));
        let first = FIRST_REVISION + (n * self.per_node) as u64;
        (0..self.per_node).map(|i| image(&mut rng, i, first + i as u64)).collect()
    }

    /// Revisions above every revision of the dataset, for updates that must win.
    pub fn next_revision(&self) -> u64 {
        FIRST_REVISION + self.images_total() as u64 + 1
    }
}

fn image(rng: &mut StdRng, i: usize, revision: u64) -> IsoMetadata {
    let (distro, family, base, versions) = DISTROS[rng.random_range(0..DISTROS.len())];
    let version = versions[rng.random_range(0..versions.len())];
    let folder = FolderPath::parse(&format!("{base}/{version}")).unwrap();
    let filename = format!("{distro}-{version}-{i:03}-amd64.iso");
    IsoMetadata {
        id: Uuid::from_u128(rng.random()),
        name: filename.trim_end_matches(".iso").to_owned(),
        path: format!("/data/pool{}/iso/{filename}", i % 3),
        filename,
        folder_path: folder,
        size_bytes: rng.random_range(200u64 << 20..6u64 << 30),
        format: ImageFormat::Iso,
        storage_pool_id: Some(format!("pool{}", i % 3).parse().unwrap()),
        checksum: Some(format!("sha256:{:064x}", rng.random::<u128>())),
        os_family: Some(family.to_owned()),
        os_distribution: Some(distro.to_owned()),
        os_version: Some(version.to_owned()),
        created_at: 1_760_000_000 + i as i64,
        updated_at: 1_760_000_000 + i as i64,
        revision,
        node_id: None,
        os_source: Some(OsSource::Content),
        volume_id: Some(format!("{distro} {version} amd64")),
        arch: Some("x86_64".to_owned()),
        os_edition: None,
        boot: Some(BootModes { bios: true, uefi: i.is_multiple_of(2) }),
        detection_error: None,
        ova: None,
    }
}
