//! Test-only: builds small but valid ISO 9660 images in memory (ECMA-119 with path tables, optional
//! Joliet, El Torito, Rock Ridge names and a UDF recognition sequence with a logical volume descriptor),
//! so tests can carry real distributions' ids under uninformative filenames without downloading discs.
//!
//! Shared by the detection unit tests (`#[path]`-included) and the integration tests: std only.
//! `xorriso -indev x.iso -report_el_torito plain -toc` and `isoinfo -d -J -R` read these images.

// Each test binary uses a different part of the builder.
#![allow(dead_code)]

const SECTOR: usize = 2048;

/// Which firmware the El Torito catalogue offers a bootable entry for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BootSpec {
    pub bios: bool,
    pub uefi: bool,
}

/// What the image should say. Build with [`IsoSpec::new`] and the setters, then [`IsoSpec::build`].
#[derive(Debug, Clone, Default)]
pub struct IsoSpec {
    pub system_id: String,
    pub volume_id: String,
    pub publisher_id: String,
    pub application_id: String,
    pub joliet_volume_id: Option<String>,
    /// `Some(name)`: a UDF recognition sequence, anchor and logical volume descriptor named `name`.
    pub udf_volume_id: Option<String>,
    pub boot: Option<BootSpec>,
    /// Files in the root directory, with Rock Ridge names.
    pub files: Vec<(String, Vec<u8>)>,
    /// Overrides the volume space size the PVD declares (in 2048-byte blocks).
    pub declared_blocks: Option<u32>,
    /// Overrides where the El Torito boot record says the catalogue is.
    pub catalogue_sector: Option<u32>,
}

impl IsoSpec {
    pub fn new(volume_id: &str) -> Self {
        IsoSpec { volume_id: volume_id.to_owned(), ..IsoSpec::default() }
    }

    pub fn system(mut self, id: &str) -> Self {
        self.system_id = id.to_owned();
        self
    }

    pub fn publisher(mut self, id: &str) -> Self {
        self.publisher_id = id.to_owned();
        self
    }

    pub fn application(mut self, id: &str) -> Self {
        self.application_id = id.to_owned();
        self
    }

    pub fn joliet(mut self, id: &str) -> Self {
        self.joliet_volume_id = Some(id.to_owned());
        self
    }

    pub fn udf(mut self, logical_volume_id: &str) -> Self {
        self.udf_volume_id = Some(logical_volume_id.to_owned());
        self
    }

    pub fn boot(mut self, bios: bool, uefi: bool) -> Self {
        self.boot = Some(BootSpec { bios, uefi });
        self
    }

    pub fn file(mut self, name: &str, data: &[u8]) -> Self {
        self.files.push((name.to_owned(), data.to_vec()));
        self
    }

    pub fn declared_blocks(mut self, blocks: u32) -> Self {
        self.declared_blocks = Some(blocks);
        self
    }

    pub fn catalogue_at(mut self, sector: u32) -> Self {
        self.catalogue_sector = Some(sector);
        self
    }

    pub fn build(&self) -> Vec<u8> {
        Layout::plan(self).write(self)
    }
}

/// Where everything goes, in sectors.
struct Layout {
    boot_record: Option<usize>,
    joliet_svd: Option<usize>,
    terminator: usize,
    recognition: Option<usize>,
    path_tables: usize,
    root: usize,
    joliet_path_tables: Option<usize>,
    joliet_root: Option<usize>,
    catalogue: Option<usize>,
    boot_images: Option<usize>,
    files: Vec<usize>,
    udf_sequence: Option<usize>,
    total: usize,
}

const UDF_ANCHOR: usize = 256;

impl Layout {
    fn plan(spec: &IsoSpec) -> Layout {
        let mut next = 17;
        let mut take = |n: usize| {
            let at = next;
            next += n;
            at
        };
        let boot_record = spec.boot.map(|_| take(1));
        let joliet_svd = spec.joliet_volume_id.as_ref().map(|_| take(1));
        let terminator = take(1);
        let recognition = spec.udf_volume_id.as_ref().map(|_| take(3));
        let path_tables = take(2);
        let root = take(1);
        let joliet_path_tables = spec.joliet_volume_id.as_ref().map(|_| take(2));
        let joliet_root = spec.joliet_volume_id.as_ref().map(|_| take(1));
        let catalogue = spec.boot.map(|_| take(1));
        let boot_images = spec.boot.map(|_| take(2));
        let files = spec.files.iter().map(|(_, data)| take(data.len().div_ceil(SECTOR).max(1))).collect();
        let (udf_sequence, total) = match spec.udf_volume_id {
            Some(_) => {
                assert!(next <= UDF_ANCHOR, "test image too large for a UDF anchor at sector 256");
                (Some(UDF_ANCHOR + 1), UDF_ANCHOR + 3)
            }
            None => (None, next),
        };
        Layout {
            boot_record,
            joliet_svd,
            terminator,
            recognition,
            path_tables,
            root,
            joliet_path_tables,
            joliet_root,
            catalogue,
            boot_images,
            files,
            udf_sequence,
            total,
        }
    }

    fn write(&self, spec: &IsoSpec) -> Vec<u8> {
        let mut image = vec![0u8; self.total * SECTOR];
        let mut put = |sector: usize, bytes: &[u8]| {
            image[sector * SECTOR..sector * SECTOR + bytes.len()].copy_from_slice(bytes);
        };
        let blocks = spec.declared_blocks.unwrap_or(self.total as u32);

        let root = self.root_directory(spec, false);
        put(16, &self.volume_descriptor(spec, 1, blocks, self.path_tables, self.root));
        put(self.path_tables, &path_table(self.root as u32, false));
        put(self.path_tables + 1, &path_table(self.root as u32, true));
        put(self.root, &root);

        if let (Some(svd), Some(tables), Some(jroot)) = (self.joliet_svd, self.joliet_path_tables, self.joliet_root) {
            put(svd, &self.volume_descriptor(spec, 2, blocks, tables, jroot));
            put(tables, &path_table(jroot as u32, false));
            put(tables + 1, &path_table(jroot as u32, true));
            put(jroot, &self.root_directory(spec, true));
        }
        if let (Some(record), Some(catalogue), Some(images), Some(boot)) =
            (self.boot_record, self.catalogue, self.boot_images, spec.boot)
        {
            put(record, &boot_record(spec.catalogue_sector.unwrap_or(catalogue as u32)));
            put(catalogue, &boot_catalogue(boot, images as u32));
        }
        put(self.terminator, &descriptor_header(255, b"CD001"));
        if let Some(vrs) = self.recognition {
            put(vrs, &descriptor_header(0, b"BEA01"));
            put(vrs + 1, &descriptor_header(0, b"NSR02"));
            put(vrs + 2, &descriptor_header(0, b"TEA01"));
        }
        for ((_, data), &at) in spec.files.iter().zip(&self.files) {
            put(at, data);
        }
        if let (Some(sequence), Some(name)) = (self.udf_sequence, &spec.udf_volume_id) {
            put(UDF_ANCHOR, &udf_anchor(sequence as u32));
            put(sequence, &udf_logical_volume(sequence as u32, name));
            put(sequence + 1, &udf_tag(8, sequence as u32 + 1));
        }
        image
    }

    fn volume_descriptor(&self, spec: &IsoSpec, kind: u8, blocks: u32, tables: usize, root: usize) -> Vec<u8> {
        let joliet = kind == 2;
        let mut d = descriptor_header(kind, b"CD001");
        let text = |s: &str, width: usize| if joliet { ucs2(s, width) } else { padded(s.as_bytes(), width, b' ') };
        let volume_id = if joliet { spec.joliet_volume_id.as_deref().unwrap_or("") } else { &spec.volume_id };
        d[8..40].copy_from_slice(&text(&spec.system_id, 32));
        d[40..72].copy_from_slice(&text(volume_id, 32));
        d[80..88].copy_from_slice(&both32(blocks));
        if joliet {
            d[88..91].copy_from_slice(b"%/E");
        }
        d[120..124].copy_from_slice(&both16(1));
        d[124..128].copy_from_slice(&both16(1));
        d[128..132].copy_from_slice(&both16(SECTOR as u16));
        d[132..140].copy_from_slice(&both32(10));
        d[140..144].copy_from_slice(&(tables as u32).to_le_bytes());
        d[148..152].copy_from_slice(&(tables as u32 + 1).to_be_bytes());
        d[156..190].copy_from_slice(&directory_record(root as u32, SECTOR as u32, true, &[0], &[]));
        for (range, value) in [
            (190..318, ""),
            (318..446, spec.publisher_id.as_str()),
            (446..574, ""),
            (574..702, spec.application_id.as_str()),
        ] {
            let width = range.len();
            d[range].copy_from_slice(&text(value, width));
        }
        for range in [702..739, 739..776, 776..813] {
            let width = range.len();
            d[range].copy_from_slice(&text("", width));
        }
        for at in [813, 830, 847, 864] {
            d[at..at + 16].copy_from_slice(if at == 847 { b"0000000000000000" } else { b"2024010112000000" });
        }
        d[881] = 1;
        d
    }

    fn root_directory(&self, spec: &IsoSpec, joliet: bool) -> Vec<u8> {
        let own = if joliet { self.joliet_root.unwrap_or(self.root) } else { self.root } as u32;
        // Rock Ridge: SP in the root's "." record announces SUSP, ER names RRIP (IEEE P1282).
        let mut dot_su = vec![b'S', b'P', 7, 1, 0xBE, 0xEF, 0];
        dot_su.extend(posix_attributes(0o040555));
        dot_su.extend_from_slice(&[b'E', b'R', 18, 1, 10, 0, 0, 1]);
        dot_su.extend_from_slice(b"RRIP_1991A");
        let mut dir = directory_record(own, SECTOR as u32, true, &[0], if joliet { &[] } else { &dot_su });
        dir.extend(directory_record(own, SECTOR as u32, true, &[1], &[]));
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = spec
            .files
            .iter()
            .zip(&self.files)
            .map(|((name, data), &at)| {
                let (id, su) = if joliet {
                    (ucs2(name, name.encode_utf16().count() * 2), Vec::new())
                } else {
                    let mut su = posix_attributes(0o100444);
                    su.extend_from_slice(&[b'N', b'M', 5 + name.len() as u8, 1, 0]);
                    su.extend_from_slice(name.as_bytes());
                    (iso_name(name), su)
                };
                (id.clone(), directory_record(at as u32, data.len() as u32, false, &id, &su))
            })
            .collect();
        // ECMA-119 §9.3: records in identifier order.
        entries.sort();
        for (_, record) in entries {
            dir.extend(record);
        }
        assert!(dir.len() <= SECTOR, "test image root directory must fit one sector");
        padded(&dir, SECTOR, 0)
    }
}

/// An ISO 9660 level-2 identifier for `name`: d-characters, one dot, version `;1`.
fn iso_name(name: &str) -> Vec<u8> {
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    let (stem, ext) = match name.rfind('.') {
        Some(dot) => (&mapped[..dot], &mapped[dot + 1..]),
        None => (&mapped[..], ""),
    };
    let stem = &stem[..stem.len().min(24)];
    let ext = &ext[..ext.len().min(4)];
    format!("{stem}.{ext};1").into_bytes()
}

/// A Rock Ridge PX entry (RRIP 1.10): mode, one link, owner and group 0.
fn posix_attributes(mode: u32) -> Vec<u8> {
    let mut px = vec![b'P', b'X', 36, 1];
    for value in [mode, 1, 0, 0] {
        px.extend_from_slice(&both32(value));
    }
    px
}

fn descriptor_header(kind: u8, id: &[u8; 5]) -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    d[0] = kind;
    d[1..6].copy_from_slice(id);
    d[6] = 1;
    d
}

fn directory_record(extent: u32, size: u32, dir: bool, id: &[u8], system_use: &[u8]) -> Vec<u8> {
    let pad = usize::from(id.len().is_multiple_of(2));
    let len = 33 + id.len() + pad + system_use.len();
    let mut r = vec![0u8; len];
    r[0] = len as u8;
    r[2..10].copy_from_slice(&both32(extent));
    r[10..18].copy_from_slice(&both32(size));
    r[18..25].copy_from_slice(&[124, 1, 1, 12, 0, 0, 0]);
    r[25] = if dir { 0x02 } else { 0 };
    r[28..32].copy_from_slice(&both16(1));
    r[32] = id.len() as u8;
    r[33..33 + id.len()].copy_from_slice(id);
    r[33 + id.len() + pad..].copy_from_slice(system_use);
    r
}

fn path_table(root: u32, big_endian: bool) -> Vec<u8> {
    let mut t = vec![1, 0];
    t.extend_from_slice(&if big_endian { root.to_be_bytes() } else { root.to_le_bytes() });
    t.extend_from_slice(&if big_endian { 1u16.to_be_bytes() } else { 1u16.to_le_bytes() });
    t.extend_from_slice(&[0, 0]);
    t
}

fn boot_record(catalogue: u32) -> Vec<u8> {
    let mut d = descriptor_header(0, b"CD001");
    d[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
    d[71..75].copy_from_slice(&catalogue.to_le_bytes());
    d
}

fn boot_catalogue(boot: BootSpec, images: u32) -> Vec<u8> {
    let mut validation = [0u8; 32];
    validation[0] = 1;
    validation[1] = if boot.bios || !boot.uefi { 0x00 } else { 0xEF };
    validation[4..14].copy_from_slice(b"TEST IMAGE");
    validation[30] = 0x55;
    validation[31] = 0xAA;
    let sum = validation.chunks_exact(2).fold(0u16, |s, w| s.wrapping_add(u16::from_le_bytes([w[0], w[1]])));
    validation[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
    let entry = |rba: u32| {
        let mut e = [0u8; 32];
        e[0] = 0x88;
        e[6..8].copy_from_slice(&4u16.to_le_bytes());
        e[8..12].copy_from_slice(&rba.to_le_bytes());
        e
    };
    let mut cat = validation.to_vec();
    cat.extend(entry(if boot.bios || !boot.uefi { images } else { images + 1 }));
    if boot.bios && boot.uefi {
        let mut header = [0u8; 32];
        header[0] = 0x91;
        header[1] = 0xEF;
        header[2..4].copy_from_slice(&1u16.to_le_bytes());
        cat.extend(header);
        cat.extend(entry(images + 1));
    }
    if !boot.bios && !boot.uefi {
        // A catalogue whose only entry is not bootable.
        cat[32] = 0;
    }
    cat
}

fn udf_tag(id: u16, location: u32) -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    d[0..2].copy_from_slice(&id.to_le_bytes());
    d[2..4].copy_from_slice(&2u16.to_le_bytes());
    d[12..16].copy_from_slice(&location.to_le_bytes());
    d[4] = d[..16].iter().enumerate().filter(|&(i, _)| i != 4).fold(0u8, |s, (_, &b)| s.wrapping_add(b));
    d
}

fn udf_anchor(sequence: u32) -> Vec<u8> {
    let mut d = udf_tag(2, UDF_ANCHOR as u32);
    d[16..20].copy_from_slice(&(2 * SECTOR as u32).to_le_bytes());
    d[20..24].copy_from_slice(&sequence.to_le_bytes());
    d
}

fn udf_logical_volume(location: u32, name: &str) -> Vec<u8> {
    let mut d = udf_tag(6, location);
    let id = &mut d[84..212];
    let name = &name.as_bytes()[..name.len().min(126)];
    id[0] = 8;
    id[1..1 + name.len()].copy_from_slice(name);
    id[127] = 1 + name.len() as u8;
    d
}

fn padded(bytes: &[u8], width: usize, pad: u8) -> Vec<u8> {
    let mut v = bytes[..bytes.len().min(width)].to_vec();
    v.resize(width, pad);
    v
}

fn ucs2(s: &str, width: usize) -> Vec<u8> {
    let mut v: Vec<u8> = s.encode_utf16().flat_map(u16::to_be_bytes).take(width).collect();
    while v.len() + 1 < width {
        v.extend_from_slice(&[0, b' ']);
    }
    v.resize(width, 0);
    v
}

fn both16(v: u16) -> [u8; 4] {
    let [a, b] = v.to_le_bytes();
    [a, b, b, a]
}

fn both32(v: u32) -> [u8; 8] {
    let le = v.to_le_bytes();
    [le[0], le[1], le[2], le[3], le[3], le[2], le[1], le[0]]
}
