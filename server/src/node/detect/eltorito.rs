//! The El Torito boot catalogue: which firmware can boot the disc.
//!
//! Layout (El Torito specification 1.0, §2): a validation entry, the initial/default entry, then
//! section headers (0x90, or 0x91 for the last) each followed by its entries. Every record is 32 bytes.

const RECORD: usize = 32;
const PLATFORM_BIOS: u8 = 0x00;
const PLATFORM_UEFI: u8 = 0xEF;
const BOOTABLE: u8 = 0x88;
const HEADER_MORE: u8 = 0x90;
const HEADER_LAST: u8 = 0x91;
const EXTENSION: u8 = 0x44;

/// Which firmware the catalogue offers a bootable entry for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Boot {
    pub bios: bool,
    pub uefi: bool,
    pub bootable_entries: u32,
}

/// Reads a catalogue; the error says what is wrong with it, to follow "the boot catalogue at sector N ".
pub(super) fn parse(catalogue: &[u8]) -> Result<Boot, &'static str> {
    let validation = catalogue.get(..RECORD).ok_or("is cut short")?;
    if validation[0] != 0x01 || validation[30..32] != [0x55, 0xAA] {
        return Err("has no validation entry");
    }
    let sum = validation.chunks_exact(2).fold(0u16, |s, w| s.wrapping_add(u16::from_le_bytes([w[0], w[1]])));
    if sum != 0 {
        return Err("has a validation entry with a wrong checksum");
    }

    let mut found = Boot::default();
    let default_entry = catalogue.get(RECORD..2 * RECORD).ok_or("is cut short")?;
    found.count(validation[1], default_entry);

    // Section headers follow; a catalogue that ends (or stops making sense) simply has no more.
    let mut records = catalogue[2 * RECORD..].chunks_exact(RECORD);
    while let Some(header) = records.next() {
        // Extension records trail the entry they extend, after the section's count is reached too.
        if header[0] == EXTENSION {
            continue;
        }
        if header[0] != HEADER_MORE && header[0] != HEADER_LAST {
            break;
        }
        let platform = header[1];
        let mut entries = u16::from_le_bytes([header[2], header[3]]);
        while entries > 0 {
            let Some(entry) = records.next() else { break };
            if entry[0] == EXTENSION {
                continue;
            }
            found.count(platform, entry);
            entries -= 1;
        }
        if header[0] == HEADER_LAST {
            break;
        }
    }
    Ok(found)
}

impl Boot {
    fn count(&mut self, platform: u8, entry: &[u8]) {
        if entry[0] != BOOTABLE {
            return;
        }
        self.bootable_entries += 1;
        match platform {
            PLATFORM_BIOS => self.bios = true,
            PLATFORM_UEFI => self.uefi = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validation(platform: u8) -> [u8; 32] {
        let mut v = [0u8; 32];
        v[0] = 1;
        v[1] = platform;
        v[30] = 0x55;
        v[31] = 0xAA;
        let sum = v.chunks_exact(2).fold(0u16, |s, w| s.wrapping_add(u16::from_le_bytes([w[0], w[1]])));
        v[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
        v
    }

    fn entry(bootable: bool) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[0] = if bootable { BOOTABLE } else { 0 };
        e
    }

    fn header(last: bool, platform: u8, entries: u16) -> [u8; 32] {
        let mut h = [0u8; 32];
        h[0] = if last { HEADER_LAST } else { HEADER_MORE };
        h[1] = platform;
        h[2..4].copy_from_slice(&entries.to_le_bytes());
        h
    }

    #[test]
    fn a_hybrid_catalogue_boots_bios_and_uefi() {
        let cat = [validation(0), entry(true), header(true, 0xEF, 1), entry(true)].concat();
        assert_eq!(parse(&cat), Ok(Boot { bios: true, uefi: true, bootable_entries: 2 }));
    }

    #[test]
    fn a_uefi_only_catalogue_names_efi_in_its_validation_entry() {
        let cat = [validation(0xEF), entry(true)].concat();
        assert_eq!(parse(&cat), Ok(Boot { bios: false, uefi: true, bootable_entries: 1 }));
    }

    #[test]
    fn non_bootable_entries_do_not_count() {
        let cat = [validation(0), entry(false), header(true, 0xEF, 2), entry(false), entry(true)].concat();
        assert_eq!(parse(&cat), Ok(Boot { bios: false, uefi: true, bootable_entries: 1 }));
    }

    #[test]
    fn extension_records_are_skipped_and_sections_chain() {
        let mut ext = [0u8; 32];
        ext[0] = EXTENSION;
        let cat =
            [validation(0), entry(true), header(false, 0x02, 1), entry(true), ext, header(true, 0xEF, 1), entry(true)]
                .concat();
        assert_eq!(parse(&cat), Ok(Boot { bios: true, uefi: true, bootable_entries: 3 }));
    }

    #[test]
    fn a_damaged_validation_entry_is_refused() {
        let mut v = validation(0);
        v[5] ^= 1;
        assert_eq!(parse(&[v, entry(true)].concat()), Err("has a validation entry with a wrong checksum"));
        assert_eq!(parse(&[0u8; 64]), Err("has no validation entry"));
        assert_eq!(parse(&validation(0)), Err("is cut short"));
    }

    #[test]
    fn a_section_that_claims_more_entries_than_exist_ends_quietly() {
        let cat = [validation(0), entry(true), header(true, 0xEF, 60000)].concat();
        assert_eq!(parse(&cat), Ok(Boot { bios: true, uefi: false, bootable_entries: 1 }));
    }
}
