//! `probe_iso`: what an ISO image says about itself, read through a fixed budget.

use super::directory;
use super::eltorito::{self, Boot};
use super::iso9660::{self, Descriptor, FIRST_DESCRIPTOR, Primary, SECTOR};
use super::read_at::{Budgeted, ReadAt, ReadError};
use super::text::Field;
use super::udf;

/// Detection reads at most this much of an image, whatever its descriptors point at. In practice a
/// probe reads 40–120 KiB: ~10 descriptor sectors, the boot catalogue, the root directory, UDF's anchor.
pub const READ_BUDGET: u64 = 1 << 20;

/// A descriptor set is a handful of sectors; past this many the image is lying.
const MAX_DESCRIPTOR_SECTORS: u64 = 64;
/// Catalogues with more than a few entries are rare; 4 sectors hold 255 records.
const CATALOGUE_SECTORS: u64 = 4;
/// Root directories of installers hold tens of names; 32 sectors hold about a thousand.
const ROOT_DIRECTORY_BYTES: u32 = 32 * SECTOR as u32;
const MAX_ROOT_FILES: usize = 256;
/// Proxmox's `/.cd-info` is five short lines.
const CD_INFO_MAX_BYTES: u32 = 4096;

/// What an ISO image's descriptors say. Every field is `None`/`false` when the image does not say it
/// (or could not be read); `error` then says why, in a sentence for the image's `detection_error`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IsoProbe {
    pub volume_id: Option<String>,
    pub system_id: Option<String>,
    pub publisher_id: Option<String>,
    pub application_id: Option<String>,
    /// The size the Primary Volume Descriptor declares (blocks × block size).
    pub volume_size_bytes: Option<u64>,
    /// The Joliet volume id: mixed case and up to 16 UCS-2 characters where the PVD's is upper case.
    pub joliet_volume_id: Option<String>,
    /// A UDF Volume Recognition Sequence (BEA01, NSR02/NSR03) follows the ISO descriptors.
    pub udf: bool,
    /// UDF's logical volume identifier, when the anchor at sector 256 leads to one.
    pub udf_volume_id: Option<String>,
    /// `None`: no El Torito boot record (or an unreadable catalogue; see `error`).
    pub boot: Option<Boot>,
    /// Names in the root directory (Rock Ridge names where present), at most 256.
    pub root_files: Vec<String>,
    /// The text of `/.cd-info`, the product file Proxmox installers carry, at most 4 KiB.
    pub cd_info: Option<String>,
    pub error: Option<String>,
}

impl IsoProbe {
    /// The volume label to show: Joliet's when it is the PVD's name in its original case (the PVD
    /// allows only upper case and `_`), else the PVD's — Joliet's 16 characters are often a cut of it.
    pub fn label(&self) -> Option<&str> {
        match (&self.volume_id, &self.joliet_volume_id) {
            (Some(pvd), Some(joliet)) if is_same_name(pvd, joliet) => Some(joliet),
            (Some(pvd), _) => Some(pvd),
            (None, Some(joliet)) => Some(joliet),
            (None, None) => self.udf_volume_id.as_deref(),
        }
    }

    /// Every volume name the image carries, most authoritative first, for the rules to match.
    pub fn volume_names(&self) -> impl Iterator<Item = &str> {
        [&self.volume_id, &self.joliet_volume_id, &self.udf_volume_id].into_iter().filter_map(|v| v.as_deref())
    }
}

/// The PVD id is the Joliet one upper-cased, with the characters ISO 9660 forbids mapped to `_`.
fn is_same_name(pvd: &str, joliet: &str) -> bool {
    let d_chars = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
    };
    d_chars(pvd) == d_chars(joliet)
}

/// Reads an image's volume descriptors, El Torito catalogue, UDF name and root directory, never more
/// than [`READ_BUDGET`] bytes. Never panics; whatever could not be read is left `None` and explained.
pub fn probe_iso(src: &impl ReadAt) -> IsoProbe {
    probe_with_budget(src, READ_BUDGET)
}

fn probe_with_budget(src: &impl ReadAt, budget: u64) -> IsoProbe {
    let reader = Budgeted::new(src, budget);
    let mut probe = Probing { reader: &reader, budget, found: IsoProbe::default(), notes: Vec::new() };
    probe.run();
    let Probing { mut found, notes, .. } = probe;
    found.error = (!notes.is_empty()).then(|| notes.join("; "));
    found
}

struct Probing<'r, R> {
    reader: &'r Budgeted<R>,
    budget: u64,
    found: IsoProbe,
    notes: Vec<String>,
}

impl<R: ReadAt> Probing<'_, R> {
    fn run(&mut self) {
        let len = self.reader.len();
        if len < (FIRST_DESCRIPTOR + 1) * SECTOR {
            self.notes.push(format!("no ISO 9660 volume descriptor at sector 16: the file is only {len} bytes long"));
            return;
        }
        let Some(set) = self.walk_descriptors() else { return };
        if let Some(pvd) = set.primary {
            self.take_primary(&pvd, len);
            self.read_root(&pvd);
        } else if set.udf {
            self.notes.push("the image has no ISO 9660 primary volume descriptor, only UDF".to_owned());
        }
        if let Some(field) = set.joliet {
            self.found.joliet_volume_id = self.text("Joliet volume id", field);
        }
        if let Some(sector) = set.catalogue {
            self.read_catalogue(sector);
        }
        if set.udf {
            self.found.udf = true;
            match udf::logical_volume_id(self.reader) {
                Ok(field) => self.found.udf_volume_id = field.and_then(|f| self.text("UDF volume id", f)),
                Err(e) => self.read_failed("the UDF volume descriptors", e),
            }
        }
    }

    fn walk_descriptors(&mut self) -> Option<DescriptorSet> {
        let mut set = DescriptorSet::default();
        let mut in_recognition_sequence = false;
        for n in 0..MAX_DESCRIPTOR_SECTORS {
            let at = FIRST_DESCRIPTOR + n;
            let sector = match self.reader.read_vec(at * SECTOR, SECTOR as usize) {
                Ok(sector) => sector,
                Err(e) => {
                    self.read_failed(&format!("volume descriptor sector {at}"), e);
                    break;
                }
            };
            match iso9660::classify(&sector) {
                Descriptor::None if n == 0 => {
                    self.notes.push("no ISO 9660 volume descriptor at sector 16".to_owned());
                    return None;
                }
                Descriptor::None => break,
                Descriptor::Primary if set.primary.is_none() => set.primary = Some(Primary::parse(&sector)),
                Descriptor::Supplementary if set.joliet.is_none() => set.joliet = iso9660::joliet_volume_id(&sector),
                Descriptor::BootRecord if set.catalogue.is_none() => {
                    set.catalogue = iso9660::el_torito_catalogue(&sector)
                }
                Descriptor::BeginExtended => in_recognition_sequence = true,
                Descriptor::Nsr if in_recognition_sequence => set.udf = true,
                Descriptor::EndExtended => break,
                _ => {}
            }
        }
        Some(set)
    }

    fn take_primary(&mut self, pvd: &Primary, file_len: u64) {
        self.found.volume_id = self.text("volume id", pvd.volume_id.clone());
        self.found.system_id = self.text("system id", pvd.system_id.clone());
        self.found.publisher_id = self.text("publisher id", pvd.publisher_id.clone());
        self.found.application_id = self.text("application id", pvd.application_id.clone());
        self.found.volume_size_bytes = pvd.volume_bytes();
        if let Some(declared) = pvd.volume_bytes()
            && declared > file_len
        {
            self.notes.push(format!(
                "the image is truncated: its volume descriptor declares {declared} bytes, the file has {file_len}"
            ));
        }
    }

    fn read_catalogue(&mut self, sector: u32) {
        let offset = u64::from(sector) * SECTOR;
        let available = self.reader.len().saturating_sub(offset).min(CATALOGUE_SECTORS * SECTOR);
        if available < 64 {
            self.notes.push(format!("boot catalogue at sector {sector} lies past the end of the file"));
            return;
        }
        match self.reader.read_vec(offset, available as usize) {
            Ok(bytes) => match eltorito::parse(&bytes) {
                Ok(boot) => self.found.boot = Some(boot),
                Err(why) => self.notes.push(format!("boot catalogue at sector {sector} {why}")),
            },
            Err(e) => self.read_failed(&format!("boot catalogue at sector {sector}"), e),
        }
    }

    fn read_root(&mut self, pvd: &Primary) {
        if u64::from(pvd.block_size) != SECTOR {
            // Every real disc uses 2048; others are legal but not worth a second code path here.
            return;
        }
        let (extent, size) = pvd.root_extent;
        let Some(dir) = self.read_extent("root directory", extent, size.min(ROOT_DIRECTORY_BYTES)) else { return };
        let entries = directory::entries(&dir, SECTOR as usize, MAX_ROOT_FILES);
        let cd_info = entries.iter().find(|e| !e.is_dir && e.name == ".cd-info" && e.size <= CD_INFO_MAX_BYTES);
        if let Some(e) = cd_info
            && let Some(bytes) = self.read_extent("/.cd-info", e.extent, e.size)
        {
            self.found.cd_info = key_value_text(&bytes);
        }
        self.found.root_files = entries.into_iter().map(|e| e.name).collect();
    }

    fn read_extent(&mut self, what: &str, extent: u32, size: u32) -> Option<Vec<u8>> {
        match self.reader.read_vec(u64::from(extent) * SECTOR, size as usize) {
            Ok(bytes) => Some(bytes),
            Err(ReadError::PastEnd { .. }) => {
                self.notes.push(format!("{what} at sector {extent} lies past the end of the file"));
                None
            }
            Err(e) => {
                self.read_failed(what, e);
                None
            }
        }
    }

    /// A field's text, noting when something in it had to be replaced.
    fn text(&mut self, what: &str, field: Field) -> Option<String> {
        if field.replaced {
            self.notes.push(format!("the {what} contains control characters or bytes that are not text (replaced)"));
        }
        field.text
    }

    fn read_failed(&mut self, what: &str, e: ReadError) {
        self.notes.push(match e {
            ReadError::PastEnd { .. } => format!("{what} lies past the end of the file"),
            ReadError::Budget if self.budget.is_multiple_of(1 << 20) => {
                format!("stopped before {what}: detection reads at most {} MiB", self.budget >> 20)
            }
            ReadError::Budget => format!("stopped before {what}: detection reads at most {} bytes", self.budget),
            ReadError::Io(e) => format!("could not read {what}: {e}"),
        });
    }
}

/// A small `KEY='value'` file as text: lines kept, every other control character replaced.
fn key_value_text(bytes: &[u8]) -> Option<String> {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .filter(|&c| c != '\r')
        .map(|c| if c.is_control() && c != '\n' { char::REPLACEMENT_CHARACTER } else { c })
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[derive(Default)]
struct DescriptorSet {
    primary: Option<Primary>,
    joliet: Option<Field>,
    catalogue: Option<u32>,
    udf: bool,
}

#[cfg(test)]
mod tests;
