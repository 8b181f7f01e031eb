//! ISO 9660 volume descriptors (ECMA-119 §8): what each sector from 16 on declares, the Primary Volume
//! Descriptor's fields, and the Joliet Supplementary Volume Descriptor's volume id.

use super::text::{self, Field};

pub(super) const SECTOR: u64 = 2048;
/// Sectors 0–15 are the system area; the volume descriptor set starts here.
pub(super) const FIRST_DESCRIPTOR: u64 = 16;

/// One sector of the volume descriptor set, or of the UDF Volume Recognition Sequence that follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Descriptor {
    BootRecord,
    Primary,
    Supplementary,
    Partition,
    Terminator,
    /// ECMA-167 Volume Recognition Sequence: BEA01, NSR02/NSR03, TEA01 (and BOOT2/CDW02, which we pass).
    BeginExtended,
    Nsr,
    EndExtended,
    OtherRecognition,
    /// Not a descriptor: the set (and any recognition sequence) has ended, or this is not an ISO image.
    None,
}

pub(super) fn classify(sector: &[u8]) -> Descriptor {
    let Some(id) = sector.get(1..6) else { return Descriptor::None };
    match id {
        b"CD001" => match sector[0] {
            0 => Descriptor::BootRecord,
            1 => Descriptor::Primary,
            2 => Descriptor::Supplementary,
            3 => Descriptor::Partition,
            255 => Descriptor::Terminator,
            _ => Descriptor::None,
        },
        b"BEA01" => Descriptor::BeginExtended,
        b"NSR02" | b"NSR03" => Descriptor::Nsr,
        b"TEA01" => Descriptor::EndExtended,
        b"BOOT2" | b"CDW02" => Descriptor::OtherRecognition,
        _ => Descriptor::None,
    }
}

/// What the Primary Volume Descriptor says (ECMA-119 §8.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Primary {
    pub system_id: Field,
    pub volume_id: Field,
    pub publisher_id: Field,
    pub application_id: Field,
    pub volume_blocks: u32,
    pub block_size: u16,
    /// The root directory's extent: first logical block and length in bytes.
    pub root_extent: (u32, u32),
}

impl Primary {
    pub(super) fn parse(sector: &[u8]) -> Primary {
        Primary {
            system_id: text::byte_field(&sector[8..40]),
            volume_id: text::byte_field(&sector[40..72]),
            publisher_id: text::byte_field(&sector[318..446]),
            application_id: text::byte_field(&sector[574..702]),
            // Both-endian fields: the little-endian half comes first.
            volume_blocks: le32(&sector[80..84]),
            block_size: u16::from_le_bytes([sector[128], sector[129]]),
            root_extent: (le32(&sector[156 + 2..156 + 6]), le32(&sector[156 + 10..156 + 14])),
        }
    }

    /// The volume's declared size, if the descriptor's numbers make sense.
    pub(super) fn volume_bytes(&self) -> Option<u64> {
        (self.block_size != 0).then(|| u64::from(self.volume_blocks) * u64::from(self.block_size))
    }
}

/// The volume id of a Joliet SVD: one whose escape sequences name UCS-2 level 1, 2 or 3 (%/@, %/C, %/E).
pub(super) fn joliet_volume_id(sector: &[u8]) -> Option<Field> {
    let escapes = &sector[88..120];
    let ucs2 = escapes.windows(3).any(|w| matches!(w, [b'%', b'/', b'@' | b'C' | b'E']));
    ucs2.then(|| text::ucs2_field(&sector[40..72]))
}

/// The boot catalogue's sector, if this boot record is El Torito's (the El Torito specification, §2.0).
pub(super) fn el_torito_catalogue(sector: &[u8]) -> Option<u32> {
    let system = &sector[7..39];
    let name = b"EL TORITO SPECIFICATION";
    (system.starts_with(name) && system[name.len()..].iter().all(|&b| b == 0)).then(|| le32(&sector[71..75]))
}

pub(super) fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sector(kind: u8, id: &[u8; 5]) -> Vec<u8> {
        let mut s = vec![0u8; SECTOR as usize];
        s[0] = kind;
        s[1..6].copy_from_slice(id);
        s[6] = 1;
        s
    }

    #[test]
    fn descriptors_are_told_apart_by_type_and_standard_id() {
        assert_eq!(classify(&sector(1, b"CD001")), Descriptor::Primary);
        assert_eq!(classify(&sector(0, b"CD001")), Descriptor::BootRecord);
        assert_eq!(classify(&sector(255, b"CD001")), Descriptor::Terminator);
        assert_eq!(classify(&sector(0, b"BEA01")), Descriptor::BeginExtended);
        assert_eq!(classify(&sector(0, b"NSR03")), Descriptor::Nsr);
        assert_eq!(classify(&sector(0, b"TEA01")), Descriptor::EndExtended);
        assert_eq!(classify(&sector(9, b"CD001")), Descriptor::None);
        assert_eq!(classify(&[0u8; 3]), Descriptor::None);
    }

    #[test]
    fn only_a_supplementary_descriptor_with_ucs2_escapes_is_joliet() {
        let mut s = sector(2, b"CD001");
        s[40..44].copy_from_slice(&[0, b'W', 0, b'x']);
        assert_eq!(joliet_volume_id(&s), None);
        s[88..91].copy_from_slice(b"%/E");
        assert_eq!(joliet_volume_id(&s).and_then(|f| f.text).as_deref(), Some("Wx"));
    }

    #[test]
    fn a_boot_record_names_el_torito_exactly() {
        let mut s = sector(0, b"CD001");
        s[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
        s[71..75].copy_from_slice(&21u32.to_le_bytes());
        assert_eq!(el_torito_catalogue(&s), Some(21));
        s[30] = b'X';
        assert_eq!(el_torito_catalogue(&s), None);
    }
}
