use std::cell::Cell;

use super::super::Boot;
use super::super::iso_image::IsoSpec;
use super::super::{classify, read_at::Counting};
use super::*;

fn probe(image: &[u8]) -> IsoProbe {
    probe_iso(&image)
}

#[test]
fn a_plain_image_reports_its_primary_volume_descriptor() {
    let image = IsoSpec::new("ARCH_202402")
        .system("LINUX")
        .publisher("ARCH LINUX <HTTPS://ARCHLINUX.ORG>")
        .application("ARCH LINUX LIVE/RESCUE DVD")
        .build();
    let p = probe(&image);
    assert_eq!(p.volume_id.as_deref(), Some("ARCH_202402"));
    assert_eq!(p.system_id.as_deref(), Some("LINUX"));
    assert_eq!(p.publisher_id.as_deref(), Some("ARCH LINUX <HTTPS://ARCHLINUX.ORG>"));
    assert_eq!(p.application_id.as_deref(), Some("ARCH LINUX LIVE/RESCUE DVD"));
    assert_eq!(p.volume_size_bytes, Some(image.len() as u64));
    assert_eq!((p.udf, p.boot, p.joliet_volume_id.as_ref()), (false, None, None));
    assert_eq!(p.error, None);
}

#[test]
fn a_hybrid_boot_catalogue_offers_bios_and_uefi() {
    let p = probe(&IsoSpec::new("Ubuntu 24.04 LTS amd64").boot(true, true).build());
    assert_eq!(p.boot, Some(Boot { bios: true, uefi: true, bootable_entries: 2 }));
}

#[test]
fn a_uefi_only_disc_is_not_bios_bootable() {
    let p = probe(&IsoSpec::new("OPNSENSE_INSTALL").boot(false, true).build());
    assert_eq!(p.boot, Some(Boot { bios: false, uefi: true, bootable_entries: 1 }));
}

#[test]
fn a_bios_only_disc_is_not_uefi_bootable() {
    let p = probe(&IsoSpec::new("PFSENSE").boot(true, false).build());
    assert_eq!(p.boot, Some(Boot { bios: true, uefi: false, bootable_entries: 1 }));
}

#[test]
fn the_joliet_name_is_the_label_when_the_pvd_only_has_it_upper_cased() {
    let p = probe(&IsoSpec::new("ALPINE_STD_3_21").joliet("alpine-std 3.21").build());
    assert_eq!(p.joliet_volume_id.as_deref(), Some("alpine-std 3.21"));
    assert_eq!(p.label(), Some("alpine-std 3.21"));
}

#[test]
fn the_pvd_name_is_the_label_when_joliets_sixteen_characters_cut_it() {
    let p = probe(&IsoSpec::new("Ubuntu 24.04 LTS amd64").joliet("Ubuntu 24.04 LTS amd64").build());
    assert_eq!(p.joliet_volume_id.as_deref(), Some("Ubuntu 24.04 LTS"));
    assert_eq!(p.label(), Some("Ubuntu 24.04 LTS amd64"));
    let p = probe(&IsoSpec::new("CDROM").joliet("Something else").build());
    assert_eq!(p.label(), Some("CDROM"));
}

#[test]
fn a_windows_bridge_disc_reports_udf_and_its_logical_volume_name() {
    let image = IsoSpec::new("CCCOMA_X64FRE_EN-US_DV9")
        .publisher("MICROSOFT CORPORATION")
        .application("CDIMAGE 2.56 (01/01/2005 TM)")
        .udf("CCCOMA_X64FRE_EN-US_DV9")
        .boot(true, true)
        .build();
    let p = probe(&image);
    assert!(p.udf);
    assert_eq!(p.udf_volume_id.as_deref(), Some("CCCOMA_X64FRE_EN-US_DV9"));
    let os = classify(&p).unwrap();
    assert_eq!((os.distribution.as_str(), os.version.as_deref()), ("windows", Some("10/11")));
}

#[test]
fn root_files_and_proxmox_cd_info_are_read() {
    let cd_info = b"PRODUCT='pve'\nPRODUCTLONG='Proxmox VE'\nRELEASE='8.2'\nISORELEASE='1'\n";
    let p = probe(&IsoSpec::new("PVE").file(".cd-info", cd_info).file("proxmox-notes.txt", b"x").build());
    assert!(p.root_files.contains(&".cd-info".to_owned()), "{:?}", p.root_files);
    assert_eq!(p.cd_info.as_deref(), Some(std::str::from_utf8(cd_info).unwrap().trim()));
    assert_eq!(classify(&p).and_then(|o| o.version).as_deref(), Some("8.2"));
}

#[test]
fn truenas_scale_is_recognised_by_its_update_file_though_its_volume_id_is_generic() {
    let p = probe(&IsoSpec::new("ISOIMAGE").file("TrueNAS-SCALE.update", b"squashfs").build());
    let os = classify(&p).unwrap();
    assert_eq!((os.family, os.distribution.as_str(), os.edition.as_deref()), ("linux", "truenas", Some("scale")));
}

#[test]
fn a_truncated_iso_has_no_volume_id_and_says_why() {
    let image = IsoSpec::new("Debian 12.0.0 amd64 n").build();
    let p = probe(&image[..16 * 2048 + 100]);
    assert_eq!(p.volume_id, None);
    assert!(p.error.as_deref().unwrap().contains("sector 16"), "{:?}", p.error);
}

#[test]
fn an_image_cut_after_its_descriptors_keeps_its_ids_and_says_it_is_truncated() {
    let image = IsoSpec::new("Debian 12.0.0 amd64 n").declared_blocks(100_000).build();
    let p = probe(&image);
    assert_eq!(p.volume_id.as_deref(), Some("Debian 12.0.0 amd64 n"));
    assert!(p.error.as_deref().unwrap().contains("truncated"), "{:?}", p.error);
}

#[test]
fn random_bytes_are_not_an_iso() {
    let noise: Vec<u8> = (0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let p = probe(&noise);
    assert_eq!(p, IsoProbe { error: Some("no ISO 9660 volume descriptor at sector 16".into()), ..IsoProbe::default() });
}

#[test]
fn an_empty_file_is_not_an_iso() {
    assert!(probe(&[]).error.unwrap().starts_with("no ISO 9660 volume descriptor at sector 16"));
}

#[test]
fn a_boot_catalogue_pointing_past_the_end_is_reported_and_the_rest_kept() {
    let p = probe(&IsoSpec::new("Fedora-S-dvd-x86_64-43").boot(true, true).catalogue_at(9_999_999).build());
    assert_eq!(p.boot, None);
    assert_eq!(p.volume_id.as_deref(), Some("Fedora-S-dvd-x86_64-43"));
    assert_eq!(p.error.as_deref(), Some("boot catalogue at sector 9999999 lies past the end of the file"));
}

#[test]
fn a_boot_catalogue_pointing_at_garbage_is_reported() {
    let p = probe(&IsoSpec::new("X").boot(true, false).catalogue_at(16).build());
    assert_eq!(p.boot, None);
    assert_eq!(p.error.as_deref(), Some("boot catalogue at sector 16 has no validation entry"));
}

#[test]
fn control_characters_and_invalid_utf8_in_a_volume_id_never_pass_through() {
    let mut image = IsoSpec::new("PLACEHOLDER").build();
    let pvd = 16 * 2048;
    let hostile = b"EVIL\x1b]0;pwned\x07\xff\xfe";
    image[pvd + 40..pvd + 40 + hostile.len()].copy_from_slice(hostile);
    let p = probe(&image);
    let id = p.volume_id.unwrap();
    assert!(!id.chars().any(|c| c.is_control()), "{id:?}");
    assert!(id.starts_with("EVIL\u{fffd}]0;pwned"));
    assert!(p.error.unwrap().contains("volume id contains control characters or bytes that are not text"));
}

#[test]
fn the_probe_reads_a_few_sectors_not_the_whole_image() {
    let image = IsoSpec::new("CCCOMA_X64FRE_EN-US_DV9")
        .joliet("CCCOMA_X64FRE_EN-US_DV9")
        .udf("CCCOMA")
        .boot(true, true)
        .build();
    let counting = Counting { data: &image, asked: Cell::new(0) };
    probe_iso(&counting);
    assert!(counting.asked.get() <= 128 * 1024, "read {} bytes", counting.asked.get());
}

#[test]
fn a_probe_out_of_budget_stops_reading_and_says_so() {
    let image = IsoSpec::new("Ubuntu 24.04 LTS amd64").boot(true, true).build();
    let counting = Counting { data: &image, asked: Cell::new(0) };
    let p = super::probe_with_budget(&counting, 3 * 2048);
    assert!(counting.asked.get() <= 3 * 2048, "read {} bytes", counting.asked.get());
    assert_eq!(p.volume_id.as_deref(), Some("Ubuntu 24.04 LTS amd64"));
    assert!(p.error.unwrap().contains("detection reads at most 6144 bytes"));
}

#[test]
fn descriptors_that_never_end_stop_at_the_walk_cap_within_the_budget() {
    // 200 copies of the PVD: the walk must stop long before reading all of them.
    let base = IsoSpec::new("LOOP").build();
    let pvd = base[16 * 2048..17 * 2048].to_vec();
    let mut image = base[..16 * 2048].to_vec();
    for _ in 0..200 {
        image.extend_from_slice(&pvd);
    }
    let counting = Counting { data: &image, asked: Cell::new(0) };
    let p = probe_iso(&counting);
    assert_eq!(p.volume_id.as_deref(), Some("LOOP"));
    assert!(counting.asked.get() <= READ_BUDGET);
}

#[test]
fn a_file_on_disk_is_probed_like_its_bytes() {
    use std::io::Write;
    let image = IsoSpec::new("Fedora-WS-Live-42").boot(true, true).build();
    let path = std::env::temp_dir().join(format!("detect-probe-{}.iso", std::process::id()));
    std::fs::File::create(&path).unwrap().write_all(&image).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(probe_iso(&file), probe(&image));
}

#[test]
fn a_udf_only_disc_reports_udf_and_its_name_and_no_iso_volume() {
    let mut image = IsoSpec::new("IGNORED").udf("WIN_UDF_ONLY").build();
    for (n, id) in [(16, b"BEA01"), (17, b"NSR02"), (18, b"TEA01"), (19, b"\0\0\0\0\0"), (20, b"\0\0\0\0\0")] {
        let sector = &mut image[n * 2048..(n + 1) * 2048];
        sector.fill(0);
        sector[1..6].copy_from_slice(id);
    }
    let p = probe(&image);
    assert_eq!((p.volume_id.as_deref(), p.udf, p.udf_volume_id.as_deref()), (None, true, Some("WIN_UDF_ONLY")));
    assert_eq!(p.error.as_deref(), Some("the image has no ISO 9660 primary volume descriptor, only UDF"));
    assert_eq!(p.label(), Some("WIN_UDF_ONLY"));
}
