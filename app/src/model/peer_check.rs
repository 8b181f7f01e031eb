//! What the vdc accepts from a node: every field of a sync call checked as strictly as the node's own API
//! checks what a user sends it. A node is a peer, not a trusted part of the vdc: a bug or a hostile
//! process there must not plant text that breaks a page (a multi-byte "checksum" once made the grouped
//! library panic), a document (control characters in a path make domain XML ill-formed) or a number the
//! database cannot hold.

use super::{
    BucketScope, FORBIDDEN_CHARS, HeartbeatRequest, ImageFormat, InventoryDigest, IsoMetadata, NodeRef,
    NotifyImageChangeRequest, NotifyImageChangesRequest, StoragePool, SyncNodeDigestRequest, SyncNodeImagesRequest,
    text::{find_hidden, shown},
};

/// Longest file name, display name and OS text a node may report, in bytes.
const MAX_NAME: usize = 255;
const MAX_PATH: usize = 4096;
const MAX_OS_TEXT: usize = 64;
const MAX_POOLS: usize = 256;

/// A refused field: where it is (`events[3].image.checksum`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct PeerFieldError {
    pub field: String,
    pub problem: String,
}

fn refuse(field: impl Into<String>, problem: impl Into<String>) -> PeerFieldError {
    PeerFieldError { field: field.into(), problem: problem.into() }
}

/// `sha256:` and 64 lower-case hex digits: the one form of a checksum on the wire.
pub fn is_sha256_checksum(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn at_most_i64(field: &str, v: u64) -> Result<(), PeerFieldError> {
    if v > i64::MAX as u64 {
        return Err(refuse(field, format!("is {v}, more than the largest value stored ({})", i64::MAX)));
    }
    Ok(())
}

/// Text shown to people: not empty, at most `max` bytes, no control, bidirectional or zero-width character.
fn plain_text(field: &str, s: &str, max: usize) -> Result<(), PeerFieldError> {
    if s.is_empty() {
        return Err(refuse(field, "is empty"));
    }
    if s.len() > max {
        return Err(refuse(field, format!("is {} bytes long; the limit is {max}", s.len())));
    }
    if let Some((_, why)) = find_hidden(s) {
        return Err(refuse(field, format!("holds {why}: \"{}\"", shown(s))));
    }
    Ok(())
}

fn optional_text(field: &str, s: &Option<String>, max: usize) -> Result<(), PeerFieldError> {
    s.as_deref().map_or(Ok(()), |s| plain_text(field, s, max))
}

impl IsoMetadata {
    /// Checks an image as a node reported it; `at` names it in the error (`images[2]`).
    pub fn check_from_node(&self, at: &str) -> Result<(), PeerFieldError> {
        let f = |name: &str| format!("{at}.{name}");
        if self.revision == 0 {
            return Err(refuse(f("revision"), "is 0; revisions start at 1"));
        }
        at_most_i64(&f("revision"), self.revision)?;
        at_most_i64(&f("size_bytes"), self.size_bytes)?;
        for (name, t) in [("created_at", self.created_at), ("updated_at", self.updated_at)] {
            if t < 0 {
                return Err(refuse(f(name), format!("is {t}, before 1970")));
            }
        }
        plain_text(&f("name"), &self.name, MAX_NAME)?;
        plain_text(&f("filename"), &self.filename, MAX_NAME)?;
        let file = &self.filename;
        if file.contains(['/', '\\']) || file.contains(FORBIDDEN_CHARS) || file.starts_with('.') {
            return Err(refuse(f("filename"), format!("\"{}\" is not one plain file name", shown(file))));
        }
        if ImageFormat::from_filename(file) != Some(self.format) {
            return Err(refuse(f("filename"), format!("\"{}\" does not end in .{}", shown(file), self.format)));
        }
        plain_text(&f("path"), &self.path, MAX_PATH)?;
        let dir = self.path.strip_suffix(file.as_str()).and_then(|d| d.strip_suffix('/'));
        let normal = |d: &str| d.starts_with('/') && !d.split('/').any(|seg| seg == "." || seg == "..");
        if !dir.is_some_and(normal) {
            return Err(refuse(
                f("path"),
                format!("\"{}\" is not an absolute path ending in the file name", shown(&self.path)),
            ));
        }
        if let Some(c) = &self.checksum
            && !is_sha256_checksum(c)
        {
            return Err(refuse(
                f("checksum"),
                format!("must be \"sha256:\" and 64 lower-case hex digits, not \"{}\"", shown(c)),
            ));
        }
        if let Some(family) = &self.os_family {
            let name = family.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !name || !(1..=32).contains(&family.len()) {
                return Err(refuse(
                    f("os_family"),
                    format!("\"{}\" is not a family name (1 to 32 of a-z, 0-9, '-')", shown(family)),
                ));
            }
        }
        optional_text(&f("os_distribution"), &self.os_distribution, MAX_OS_TEXT)?;
        optional_text(&f("os_version"), &self.os_version, MAX_OS_TEXT)?;
        optional_text(&f("volume_id"), &self.volume_id, 128)?;
        optional_text(&f("os_edition"), &self.os_edition, MAX_OS_TEXT)?;
        optional_text(&f("detection_error"), &self.detection_error, 2048)?;
        if let Some(arch) = &self.arch
            && (!(1..=32).contains(&arch.len())
                || !arch.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'))
        {
            return Err(refuse(f("arch"), format!("\"{}\" is not an architecture name", shown(arch))));
        }
        if let Some(ova) = &self.ova {
            optional_text(&f("ova.os"), &ova.os, MAX_NAME)?;
            if ova.disks.len() > 64 {
                return Err(refuse(f("ova.disks"), format!("lists {} disks; the limit is 64", ova.disks.len())));
            }
            for (i, d) in ova.disks.iter().enumerate() {
                at_most_i64(&f(&format!("ova.disks[{i}].capacity_bytes")), d.capacity_bytes)?;
            }
            if let Some(m) = ova.memory_mib {
                at_most_i64(&f("ova.memory_mib"), m)?;
            }
        }
        Ok(())
    }
}

impl NodeRef {
    /// The node's own fields (its id and URL are parsed on the way in).
    pub fn check(&self) -> Result<(), PeerFieldError> {
        optional_text("node_name", &self.node_name, 128)
    }
}

impl StoragePool {
    fn check_from_node(&self, at: &str) -> Result<(), PeerFieldError> {
        plain_text(&format!("{at}.name"), &self.name, 128)?;
        plain_text(&format!("{at}.path"), &self.path, MAX_PATH)?;
        for (name, v) in [
            ("capacity_bytes", self.capacity_bytes),
            ("free_bytes", self.free_bytes),
            ("image_count", self.image_count),
        ] {
            at_most_i64(&format!("{at}.{name}"), v)?;
        }
        Ok(())
    }
}

impl NotifyImageChangeRequest {
    pub fn check(&self) -> Result<(), PeerFieldError> {
        self.node.check()?;
        self.image.check_from_node("image")
    }
}

impl NotifyImageChangesRequest {
    pub fn check(&self) -> Result<(), PeerFieldError> {
        self.node.check()?;
        self.events.iter().enumerate().try_for_each(|(i, e)| e.image.check_from_node(&format!("events[{i}].image")))
    }
}

impl SyncNodeImagesRequest {
    pub fn check(&self) -> Result<(), PeerFieldError> {
        self.node.check()?;
        at_most_i64("as_of_revision", self.as_of_revision)?;
        self.images.iter().enumerate().try_for_each(|(i, m)| m.check_from_node(&format!("images[{i}]")))?;
        if let Some(scope) = &self.scope {
            scope.check()?;
            // Only the vdc runs these checks, and only it links the hashing.
            #[cfg(feature = "ssr")]
            if let Some(i) = self.images.iter().position(|m| !scope.holds(m.id)) {
                return Err(refuse(format!("images[{i}]"), "is in none of the buckets of scope.buckets"));
            }
        }
        Ok(())
    }
}

impl SyncNodeDigestRequest {
    pub fn check(&self) -> Result<(), PeerFieldError> {
        self.node.check()?;
        at_most_i64("as_of_revision", self.as_of_revision)?;
        self.digest.check("digest")
    }
}

impl InventoryDigest {
    fn check(&self, field: &str) -> Result<(), PeerFieldError> {
        const MAX: u32 = InventoryDigest::MAX_BUCKETS;
        if !(1..=MAX).contains(&self.bucket_count) {
            return Err(refuse(format!("{field}.bucket_count"), format!("is {}; it is 1 to {MAX}", self.bucket_count)));
        }
        if self.buckets.len() != self.bucket_count as usize {
            return Err(refuse(
                format!("{field}.buckets"),
                format!("has {} hashes for {} buckets", self.buckets.len(), self.bucket_count),
            ));
        }
        let hex16 = |h: &String| {
            h.len() == InventoryDigest::HASH_HEX_LEN && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        match self.buckets.iter().position(|h| !hex16(h)) {
            Some(i) => Err(refuse(format!("{field}.buckets[{i}]"), "is not 16 lowercase hex digits")),
            None => Ok(()),
        }
    }
}

impl BucketScope {
    fn check(&self) -> Result<(), PeerFieldError> {
        self.digest.check("scope.digest")?;
        if self.buckets.is_empty() {
            return Err(refuse("scope.buckets", "is empty"));
        }
        let ascending = self.buckets.windows(2).all(|w| w[0] < w[1]);
        if !ascending || self.buckets.last().is_some_and(|&b| b >= self.digest.bucket_count) {
            return Err(refuse(
                "scope.buckets",
                format!("must be ascending bucket numbers below {}", self.digest.bucket_count),
            ));
        }
        Ok(())
    }
}

impl HeartbeatRequest {
    pub fn check(&self) -> Result<(), PeerFieldError> {
        self.node.check()?;
        at_most_i64("pending", self.pending)?;
        if self.pools.len() > MAX_POOLS {
            return Err(refuse("pools", format!("lists {} pools; the limit is {MAX_POOLS}", self.pools.len())));
        }
        self.pools.iter().enumerate().try_for_each(|(i, p)| p.check_from_node(&format!("pools[{i}]")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FolderPath;

    fn image() -> IsoMetadata {
        IsoMetadata {
            id: uuid::Uuid::nil(),
            name: "debian-12".into(),
            filename: "debian-12.iso".into(),
            folder_path: FolderPath::parse("/linux").unwrap(),
            size_bytes: 1 << 30,
            format: ImageFormat::Iso,
            storage_pool_id: Some("local".parse().unwrap()),
            path: "/srv/pool/iso/debian-12.iso".into(),
            checksum: Some(format!("sha256:{}", "ab".repeat(32))),
            os_family: Some("linux".into()),
            os_distribution: Some("Debian".into()),
            os_version: Some("12".into()),
            created_at: 1_700_000_000,
            updated_at: 1_700_000_000,
            revision: 7,
            node_id: None,
            os_source: Some(crate::model::OsSource::Content),
            volume_id: Some("Debian 12.0.0 amd64 n".into()),
            arch: Some("x86_64".into()),
            os_edition: Some("netinst".into()),
            boot: Some(crate::model::BootModes { bios: true, uefi: true }),
            detection_error: None,
            ova: None,
        }
    }

    #[test]
    fn a_well_formed_image_passes() {
        image().check_from_node("image").unwrap();
        let unhashed = IsoMetadata { checksum: None, os_family: None, ..image() };
        unhashed.check_from_node("image").unwrap();
    }

    #[test]
    fn each_hostile_field_is_refused_by_name() {
        let cases: Vec<(&str, IsoMetadata)> = vec![
            ("checksum", IsoMetadata { checksum: Some("sha256:é".into()), ..image() }),
            ("checksum", IsoMetadata { checksum: Some(format!("sha256:{}", "AB".repeat(32))), ..image() }),
            ("checksum", IsoMetadata { checksum: Some(format!("md5:{}", "ab".repeat(32))), ..image() }),
            ("revision", IsoMetadata { revision: u64::MAX, ..image() }),
            ("revision", IsoMetadata { revision: 0, ..image() }),
            ("size_bytes", IsoMetadata { size_bytes: i64::MAX as u64 + 1, ..image() }),
            ("created_at", IsoMetadata { created_at: -1, ..image() }),
            ("name", IsoMetadata { name: "a\u{202E}b".into(), ..image() }),
            ("name", IsoMetadata { name: String::new(), ..image() }),
            ("filename", IsoMetadata { filename: "../x.iso".into(), path: "/srv/../x.iso".into(), ..image() }),
            (
                "filename",
                IsoMetadata { filename: "debian-12.img".into(), path: "/srv/pool/iso/debian-12.img".into(), ..image() },
            ),
            ("path", IsoMetadata { path: "/srv/pool/iso/\u{1}\u{1b}\u{7}/debian-12.iso".into(), ..image() }),
            ("path", IsoMetadata { path: "relative/debian-12.iso".into(), ..image() }),
            ("path", IsoMetadata { path: "/srv/pool/iso/other.iso".into(), ..image() }),
            ("path", IsoMetadata { path: "/srv/../etc/debian-12.iso".into(), ..image() }),
            ("os_family", IsoMetadata { os_family: Some("Linux<script>".into()), ..image() }),
            ("os_version", IsoMetadata { os_version: Some("1\n2".into()), ..image() }),
            ("os_distribution", IsoMetadata { os_distribution: Some("x".repeat(65)), ..image() }),
            ("volume_id", IsoMetadata { volume_id: Some("VOL\u{1b}[2J".into()), ..image() }),
            ("arch", IsoMetadata { arch: Some("x86 64".into()), ..image() }),
            ("detection_error", IsoMetadata { detection_error: Some("a\u{202e}b".into()), ..image() }),
        ];
        for (field, m) in cases {
            let e = m.check_from_node("images[4]").unwrap_err();
            assert_eq!(e.field, format!("images[4].{field}"), "{e}");
        }
    }

    #[test]
    fn requests_name_the_event_and_check_their_node() {
        let bad = IsoMetadata { checksum: Some("sha256:x".into()), ..image() };
        let node = NodeRef { node_id: "hv1".parse().unwrap(), node_name: None, node_api_url: None };
        let ev = |image| crate::model::ImageChange {
            image,
            event_type: crate::model::ImageEventType::Created,
            timestamp: 0,
        };
        let req = NotifyImageChangesRequest { node: node.clone(), events: vec![ev(image()), ev(bad)] };
        assert_eq!(req.check().unwrap_err().field, "events[1].image.checksum");
        let named = NodeRef { node_name: Some("hv\u{1b}[2J".into()), ..node.clone() };
        let req = HeartbeatRequest { node: named, pending: 0, pools: vec![] };
        assert_eq!(req.check().unwrap_err().field, "node_name");
        let req = SyncNodeImagesRequest { node, as_of_revision: u64::MAX, images: vec![], timestamp: 0, scope: None };
        assert_eq!(req.check().unwrap_err().field, "as_of_revision");
    }

    #[test]
    fn a_digest_and_its_scope_are_checked_bucket_by_bucket() {
        let node = NodeRef { node_id: "hv1".parse().unwrap(), node_name: None, node_api_url: None };
        let digest = |count: u32, hash: &str| InventoryDigest {
            bucket_count: count,
            buckets: vec![hash.into(); count as usize],
        };
        let req = |d: InventoryDigest| SyncNodeDigestRequest {
            node: node.clone(),
            as_of_revision: 1,
            digest: d,
            timestamp: 0,
        };
        req(digest(2, "0123456789abcdef")).check().unwrap();
        assert_eq!(req(digest(0, "")).check().unwrap_err().field, "digest.bucket_count");
        assert_eq!(req(digest(2, "0123456789ABCDEF")).check().unwrap_err().field, "digest.buckets[0]");
        let short = InventoryDigest { buckets: vec!["0123456789abcdef".into()], ..digest(2, "0123456789abcdef") };
        assert_eq!(req(short).check().unwrap_err().field, "digest.buckets");

        let part = |buckets: Vec<u32>, images: Vec<IsoMetadata>| SyncNodeImagesRequest {
            node: node.clone(),
            as_of_revision: 9,
            images,
            timestamp: 0,
            scope: Some(BucketScope { digest: digest(2, "0123456789abcdef"), buckets }),
        };
        part(vec![0, 1], vec![image()]).check().unwrap();
        for bad in [vec![], vec![2], vec![1, 0], vec![0, 0]] {
            assert_eq!(part(bad.clone(), vec![]).check().unwrap_err().field, "scope.buckets", "{bad:?}");
        }
        #[cfg(feature = "ssr")]
        {
            let other = 1 - crate::model::digest::bucket_of(image().id, 2);
            assert_eq!(part(vec![other], vec![image()]).check().unwrap_err().field, "images[0]");
        }
    }
}
