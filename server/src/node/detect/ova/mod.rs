//! `OvaScanner`: reads an OVA as its bytes stream past, once — tar headers, the OVF descriptor, the
//! manifest, and a SHA-1/SHA-256 of every member for the manifest check.
//!
//! Memory stays bounded whatever the archive: only the descriptor (≤ 4 MiB) and the manifest (≤ 1 MiB)
//! are kept, other members are hashed and forgotten, and at most `MAX_MEMBERS` digests are remembered.
//! The per-byte cost is the hashing: both algorithms until the manifest has been read (OVF puts it
//! second, before the disks), then only the algorithm the manifest lists for each member.

mod manifest;
mod os_types;
mod ovf;
mod tar;

use sha1::{Digest, Sha1};
use sha2::Sha256;

pub use manifest::{Manifest, MismatchReason};

use super::OsInfo;
use tar::{Kind, Member, Sink, TarReader};

const MAX_DESCRIPTOR: u64 = 4 << 20;
const MAX_MANIFEST: u64 = 1 << 20;
/// An OVA holds a descriptor, a manifest, a certificate and a few disks; 1024 is far beyond that.
const MAX_MEMBERS: usize = 1024;
const MAX_NAME: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    Bios,
    Efi,
}

/// What an OVA's descriptor and manifest say. Fields are `None`/empty when the archive does not say
/// (or could not be read); `error` then says why, in a sentence for the image's `detection_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvaProbe {
    /// The member the descriptor was read from.
    pub descriptor: Option<String>,
    pub os: Option<OsInfo>,
    /// `ovf:id` of the OperatingSystemSection: a CIM OSType number.
    pub cim_os_id: Option<u16>,
    /// `vmw:osType`, e.g. `ubuntu64Guest`.
    pub vmw_os_type: Option<String>,
    pub os_description: Option<String>,
    pub vcpus: Option<u32>,
    pub memory_mib: Option<u64>,
    /// Each disk's capacity in bytes, in DiskSection order.
    pub disks: Vec<u64>,
    pub nics: Option<u32>,
    pub firmware: Option<Firmware>,
    pub manifest: Manifest,
    /// `href`s that point outside the archive. Reported only: nothing here reads files.
    pub external_refs: Vec<String>,
    pub error: Option<String>,
}

/// Feed it the OVA's bytes in order, in chunks of any size, then call [`OvaScanner::finish`].
pub struct OvaScanner {
    tar: TarReader,
    scan: Scan,
}

impl Default for OvaScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl OvaScanner {
    pub fn new() -> Self {
        OvaScanner { tar: TarReader::new(), scan: Scan::default() }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.tar.feed(bytes, &mut self.scan);
    }

    pub fn finish(self) -> OvaProbe {
        let OvaScanner { tar, scan } = self;
        let mut notes = scan.notes;
        if let Err(e) = tar.finish() {
            notes.push(e.to_string());
        }
        let mut probe = OvaProbe {
            descriptor: None,
            os: None,
            cim_os_id: None,
            vmw_os_type: None,
            os_description: None,
            vcpus: None,
            memory_mib: None,
            disks: Vec::new(),
            nics: None,
            firmware: None,
            manifest: Manifest::Absent,
            external_refs: Vec::new(),
            error: None,
        };
        match scan.descriptor {
            Capture::Done { name, bytes } => {
                probe.descriptor = Some(name);
                match ovf::parse(&bytes) {
                    Ok(d) => {
                        if !d.external_refs.is_empty() {
                            notes.push(format!(
                                "the OVF descriptor refers to files outside the archive (never read): {}",
                                d.external_refs.join(", ")
                            ));
                        }
                        notes.extend(d.notes);
                        probe.os = d.os;
                        probe.cim_os_id = d.cim_os_id;
                        probe.vmw_os_type = d.vmw_os_type;
                        probe.os_description = d.os_description;
                        probe.vcpus = d.vcpus;
                        probe.memory_mib = d.memory_mib;
                        probe.disks = d.disks;
                        probe.nics = Some(d.nics);
                        probe.firmware = d.firmware;
                        probe.external_refs = d.external_refs;
                    }
                    Err(e) => notes.push(e),
                }
            }
            Capture::TooLarge { name, size } => {
                probe.descriptor = Some(name);
                notes
                    .push(format!("the OVF descriptor is too large ({size} bytes; at most {MAX_DESCRIPTOR} are read)"));
            }
            Capture::Reading { name, .. } => {
                probe.descriptor = Some(name);
                notes.push("the archive ends inside the OVF descriptor".to_owned());
            }
            Capture::None => notes.push("no .ovf descriptor in the archive".to_owned()),
        }
        probe.manifest = match scan.manifest {
            Capture::None => Manifest::Absent,
            Capture::TooLarge { size, .. } => {
                Manifest::Unreadable { reason: format!("it is {size} bytes; at most {MAX_MANIFEST} are read") }
            }
            Capture::Reading { .. } => Manifest::Unreadable { reason: "the archive ends inside it".to_owned() },
            Capture::Done { name, bytes } => match manifest::parse(&bytes) {
                Ok(lines) => verify(&lines, &scan.members, &name),
                Err(reason) => Manifest::Unreadable { reason },
            },
        };
        if scan.too_many_members {
            notes.push(format!("the archive has more than {MAX_MEMBERS} members; the rest were not checked"));
        }
        probe.error = (!notes.is_empty()).then(|| notes.join("; "));
        probe
    }
}

/// A member we keep the bytes of, from its first byte to its last.
#[derive(Debug, Default)]
enum Capture {
    #[default]
    None,
    Reading {
        name: String,
        bytes: Vec<u8>,
    },
    Done {
        name: String,
        bytes: Vec<u8>,
    },
    TooLarge {
        name: String,
        size: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Descriptor,
    Manifest,
}

struct Digested {
    name: String,
    sha1: Option<[u8; 20]>,
    sha256: Option<[u8; 32]>,
}

struct Current {
    name: String,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
    kept: Option<Kept>,
}

#[derive(Default)]
struct Scan {
    current: Option<Current>,
    members: Vec<Digested>,
    descriptor: Capture,
    manifest: Capture,
    /// Parsed as soon as the manifest member ends, so later members are hashed only as it requires.
    manifest_lines: Option<Vec<manifest::Line>>,
    too_many_members: bool,
    notes: Vec<String>,
}

impl Scan {
    /// Which digests a member needs: all of them until the manifest is known.
    fn algorithms(&self, name: &str) -> (bool, bool) {
        match &self.manifest_lines {
            None => (true, true),
            Some(lines) => {
                lines.iter().filter(|l| l.file == name).fold((false, false), |(s1, s256), l| match l.algorithm {
                    manifest::Algorithm::Sha1 => (true, s256),
                    manifest::Algorithm::Sha256 => (s1, true),
                })
            }
        }
    }

    fn claim(&mut self, name: &str, size: u64) -> Option<Kept> {
        let lower = name.to_ascii_lowercase();
        let (slot, kept, limit) = if lower.ends_with(".ovf") {
            (&mut self.descriptor, Kept::Descriptor, MAX_DESCRIPTOR)
        } else if lower.ends_with(".mf") {
            (&mut self.manifest, Kept::Manifest, MAX_MANIFEST)
        } else {
            return None;
        };
        if !matches!(slot, Capture::None) {
            return None;
        }
        if size > limit {
            *slot = Capture::TooLarge { name: name.to_owned(), size };
            return None;
        }
        *slot = Capture::Reading { name: name.to_owned(), bytes: Vec::with_capacity(size as usize) };
        Some(kept)
    }

    fn slot(&mut self, kept: Kept) -> &mut Capture {
        match kept {
            Kept::Descriptor => &mut self.descriptor,
            Kept::Manifest => &mut self.manifest,
        }
    }
}

impl Sink for Scan {
    fn begin(&mut self, member: &Member) {
        self.current = None;
        if member.kind != Kind::File {
            return;
        }
        if self.members.len() >= MAX_MEMBERS {
            self.too_many_members = true;
            return;
        }
        let mut name = manifest::normalise(&member.name);
        if let Some((cut, _)) = name.char_indices().nth(MAX_NAME) {
            name.truncate(cut);
        }
        let kept = self.claim(&name, member.size);
        let (sha1, sha256) = self.algorithms(&name);
        self.current = Some(Current { name, sha1: sha1.then(Sha1::new), sha256: sha256.then(Sha256::new), kept });
    }

    fn data(&mut self, bytes: &[u8]) {
        let Some(current) = &mut self.current else { return };
        if let Some(h) = &mut current.sha1 {
            h.update(bytes);
        }
        if let Some(h) = &mut current.sha256 {
            h.update(bytes);
        }
        let slot = match current.kept {
            Some(Kept::Descriptor) => &mut self.descriptor,
            Some(Kept::Manifest) => &mut self.manifest,
            None => return,
        };
        if let Capture::Reading { bytes: buf, .. } = slot {
            buf.extend_from_slice(bytes);
        }
    }

    fn end(&mut self) {
        let Some(current) = self.current.take() else { return };
        if let Some(kept) = current.kept {
            let slot = self.slot(kept);
            if let Capture::Reading { name, bytes } = std::mem::take(slot) {
                if kept == Kept::Manifest {
                    self.manifest_lines = manifest::parse(&bytes).ok();
                }
                *self.slot(kept) = Capture::Done { name, bytes };
            }
        }
        self.members.push(Digested {
            name: current.name,
            sha1: current.sha1.map(|h| h.finalize().into()),
            sha256: current.sha256.map(|h| h.finalize().into()),
        });
    }
}

fn verify(lines: &[manifest::Line], members: &[Digested], manifest_name: &str) -> Manifest {
    let mismatch = |member: &str, reason| Manifest::Mismatch { member: member.to_owned(), reason };
    for line in lines {
        let Some(member) = members.iter().find(|m| m.name == line.file) else {
            return mismatch(&line.file, MismatchReason::Missing);
        };
        let matches = match line.algorithm {
            manifest::Algorithm::Sha1 => member.sha1.is_some_and(|d| d[..] == line.digest[..]),
            manifest::Algorithm::Sha256 => member.sha256.is_some_and(|d| d[..] == line.digest[..]),
        };
        if !matches {
            return mismatch(&line.file, MismatchReason::Digest);
        }
    }
    // The manifest cannot list itself, and a signature (.cert) signs the manifest.
    let covered = |m: &&Digested| m.name == manifest_name || m.name.to_ascii_lowercase().ends_with(".cert");
    match members.iter().filter(|m| !covered(m)).find(|m| !lines.iter().any(|l| l.file == m.name)) {
        Some(unlisted) => mismatch(&unlisted.name, MismatchReason::Unlisted),
        None => Manifest::Verified,
    }
}

#[cfg(test)]
mod tests;
