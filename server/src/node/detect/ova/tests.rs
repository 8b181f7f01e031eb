use super::super::ova_image::{Headers, ManifestDigest, OvaSpec, OvfSpec, header, member_headers};
use super::*;

fn scan(bytes: &[u8]) -> OvaProbe {
    let mut scanner = OvaScanner::new();
    scanner.feed(bytes);
    scanner.finish()
}

fn disk(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn typical() -> OvaSpec {
    OvaSpec::new("vm.ovf", &OvfSpec::default().to_xml()).member("disk1.vmdk", &disk(5000))
}

#[test]
fn a_typical_ova_fills_the_wizard() {
    let p = scan(&typical().manifest(ManifestDigest::Sha256).build());
    assert_eq!(p.error, None);
    assert_eq!(p.descriptor.as_deref(), Some("vm.ovf"));
    let os = p.os.unwrap();
    assert_eq!((os.family, os.distribution.as_str(), os.arch.as_deref()), ("linux", "ubuntu", Some("x86_64")));
    assert_eq!((p.cim_os_id, p.vmw_os_type.as_deref()), (Some(94), Some("ubuntu64Guest")));
    assert_eq!(p.os_description.as_deref(), Some("Ubuntu Linux (64-bit)"));
    assert_eq!((p.vcpus, p.memory_mib, p.nics), (Some(2), Some(4096), Some(1)));
    assert_eq!(p.disks, [20 << 30]);
    assert_eq!(p.firmware, Some(Firmware::Efi));
    assert_eq!(p.manifest, Manifest::Verified);
}

#[test]
fn a_manifest_after_the_disks_is_still_verified() {
    let spec = typical();
    let mf = spec.manifest_text(ManifestDigest::Sha256);
    assert_eq!(scan(&spec.member("vm.mf", mf.as_bytes()).build()).manifest, Manifest::Verified);
}

#[test]
fn an_ova_without_a_manifest_says_absent() {
    assert_eq!(scan(&typical().build()).manifest, Manifest::Absent);
}

#[test]
fn a_sha1_manifest_is_verified() {
    assert_eq!(scan(&typical().manifest(ManifestDigest::Sha1).build()).manifest, Manifest::Verified);
}

#[test]
fn a_changed_disk_is_a_manifest_mismatch_naming_it() {
    let mut bytes = typical().manifest(ManifestDigest::Sha256).build();
    let at = bytes.len() - 1024 - 512 - 100;
    bytes[at] ^= 0xFF;
    assert_eq!(
        scan(&bytes).manifest,
        Manifest::Mismatch { member: "disk1.vmdk".into(), reason: MismatchReason::Digest }
    );
}

#[test]
fn a_manifest_listing_a_missing_file_or_omitting_one_is_a_mismatch() {
    let spec = typical();
    let ovf = spec.members[0].1.clone();
    let listed_missing =
        format!("{}SHA256(disk2.vmdk)= {}\n", spec.manifest_text(ManifestDigest::Sha256), "00".repeat(32));
    let ova = OvaSpec::new("vm.ovf", std::str::from_utf8(&ovf).unwrap())
        .member("vm.mf", listed_missing.as_bytes())
        .member("disk1.vmdk", &disk(5000));
    assert_eq!(
        scan(&ova.build()).manifest,
        Manifest::Mismatch { member: "disk2.vmdk".into(), reason: MismatchReason::Missing }
    );

    let only_ovf = format!("{}\n", spec.manifest_text(ManifestDigest::Sha1).lines().next().unwrap());
    let ova = OvaSpec::new("vm.ovf", std::str::from_utf8(&ovf).unwrap())
        .member("vm.mf", only_ovf.as_bytes())
        .member("disk1.vmdk", &disk(5000));
    assert_eq!(
        scan(&ova.build()).manifest,
        Manifest::Mismatch { member: "disk1.vmdk".into(), reason: MismatchReason::Unlisted }
    );
}

#[test]
fn a_manifest_with_an_unsupported_algorithm_is_unreadable_not_a_mismatch() {
    let ova = typical().member("vm.mf", format!("SHA512(vm.ovf)= {}\n", "ab".repeat(64)).as_bytes());
    assert!(matches!(scan(&ova.build()).manifest, Manifest::Unreadable { .. }));
}

#[test]
fn ovf_2_with_ethernet_port_items_reads_the_same() {
    let ovf = OvfSpec { version: 2, nics: 2, firmware: Some("bios".into()), ..OvfSpec::default() };
    let p = scan(&OvaSpec::new("vm.ovf", &ovf.to_xml()).member("disk1.vmdk", b"x").build());
    assert_eq!(p.error, None);
    assert_eq!((p.nics, p.firmware, p.vcpus), (Some(2), Some(Firmware::Bios), Some(2)));
}

#[test]
fn memory_and_disk_units_are_applied() {
    let ovf = OvfSpec {
        memory: (2, "GigaBytes".into()),
        disks: vec![(1_073_741_824, String::new()), (512, "byte * 2^20".into())],
        ..OvfSpec::default()
    };
    let p = scan(&OvaSpec::new("vm.ovf", &ovf.to_xml()).build());
    assert_eq!(p.memory_mib, Some(2048));
    assert_eq!(p.disks, [1 << 30, 512 << 20]);
}

#[test]
fn the_cim_number_is_used_when_there_is_no_vmware_guest_id() {
    let ovf = OvfSpec { os_id: 80, vmw_os_type: None, ..OvfSpec::default() };
    let os = scan(&OvaSpec::new("vm.ovf", &ovf.to_xml()).build()).os.unwrap();
    assert_eq!((os.distribution.as_str(), os.arch.as_deref()), ("rhel", Some("x86_64")));
}

#[test]
fn a_windows_server_guest_is_named_by_its_vmware_id() {
    let ovf = OvfSpec { os_id: 1, vmw_os_type: Some("windows2019srvNext_64Guest".into()), ..OvfSpec::default() };
    let os = scan(&OvaSpec::new("vm.ovf", &ovf.to_xml()).build()).os.unwrap();
    assert_eq!(
        (os.family, os.distribution.as_str(), os.version.as_deref()),
        ("windows", "windows-server", Some("2022"))
    );
}

#[test]
fn an_ova_without_a_descriptor_says_so() {
    let ova = OvaSpec::new("disk1.vmdk", "not a descriptor").build();
    let p = scan(&ova);
    assert_eq!(p.error.as_deref(), Some("no .ovf descriptor in the archive"));
    assert_eq!((p.os, p.vcpus), (None, None));
}

#[test]
fn a_descriptor_declaring_a_dtd_is_refused() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"><Info>&lol2;</Info></Envelope>"#;
    let p = scan(&OvaSpec::new("vm.ovf", billion_laughs).build());
    assert_eq!(p.error.as_deref(), Some("the OVF descriptor declares a DTD, which is refused (entity expansion)"));
    assert_eq!(p.os, None);
}

#[test]
fn an_undeclared_entity_is_refused() {
    let xml = r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"><Info>&xxe;</Info></Envelope>"#;
    let p = scan(&OvaSpec::new("vm.ovf", xml).build());
    assert_eq!(p.error.as_deref(), Some("the OVF descriptor refers to an undeclared XML entity"));
}

#[test]
fn a_descriptor_that_is_not_an_ovf_envelope_is_refused() {
    let p = scan(&OvaSpec::new("vm.ovf", "<html><body>hi</body></html>").build());
    assert_eq!(p.error.as_deref(), Some("the descriptor is not an OVF 1.x or 2.0 envelope (its root is <html>)"));
    let p = scan(&OvaSpec::new("vm.ovf", "<Envelope").build());
    assert!(p.error.unwrap().starts_with("the OVF descriptor is not well-formed XML"));
}

#[test]
fn a_huge_descriptor_is_not_buffered() {
    let huge = format!("<Envelope>{}</Envelope>", " ".repeat(5 << 20));
    let p = scan(&OvaSpec::new("vm.ovf", &huge).build());
    let expected = format!("the OVF descriptor is too large ({} bytes; at most 4194304 are read)", huge.len());
    assert_eq!(p.error, Some(expected));
}

#[test]
fn hrefs_that_leave_the_archive_are_reported_and_never_followed() {
    let ovf = OvfSpec {
        files: vec!["disk1.vmdk".into(), "../../etc/shadow".into(), "http://evil.example/x.vmdk".into()],
        ..OvfSpec::default()
    };
    let p = scan(&OvaSpec::new("vm.ovf", &ovf.to_xml()).member("disk1.vmdk", b"x").build());
    assert_eq!(p.external_refs, ["../../etc/shadow", "http://evil.example/x.vmdk"]);
    assert_eq!(
        p.error.as_deref(),
        Some(
            "the OVF descriptor refers to files outside the archive (never read): ../../etc/shadow, http://evil.example/x.vmdk"
        )
    );
    assert_eq!(p.vcpus, Some(2));
}

#[test]
fn a_truncated_ova_says_which_member_it_ends_in() {
    let bytes = typical().build();
    // The disk's 5000 bytes are followed by 120 bytes of padding and the two end blocks.
    let p = scan(&bytes[..bytes.len() - 1024 - 120 - 1000]);
    assert_eq!(p.error.as_deref(), Some("the archive is truncated: disk1.vmdk ends after 4000 of its 5000 bytes"));
    assert_eq!(p.vcpus, Some(2));
}

#[test]
fn garbage_is_not_an_ova() {
    let noise: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let p = scan(&noise);
    let error = p.error.unwrap();
    assert!(error.contains("not a tar archive"), "{error}");
    assert!(error.contains("no .ovf descriptor"), "{error}");
}

#[test]
fn gnu_long_names_and_pax_paths_name_members() {
    let long = format!("{}/disk1.vmdk", "d".repeat(120));
    for headers in [Headers::Gnu, Headers::Pax] {
        let ovf = OvfSpec { files: vec![long.clone()], ..OvfSpec::default() };
        let ova = OvaSpec::new("vm.ovf", &ovf.to_xml())
            .member(&long, &disk(700))
            .manifest(ManifestDigest::Sha256)
            .headers(headers);
        let p = scan(&ova.build());
        assert_eq!((p.error.as_deref(), &p.manifest), (None, &Manifest::Verified), "{headers:?}");
    }
}

#[test]
fn ustar_prefixes_name_members() {
    let long = format!("{}/disk1.vmdk", "d".repeat(120));
    let ova =
        OvaSpec::new("vm.ovf", &OvfSpec::default().to_xml()).member(&long, &disk(10)).manifest(ManifestDigest::Sha1);
    assert_eq!(scan(&ova.build()).manifest, Manifest::Verified);
}

#[test]
fn members_over_8_gib_use_base_256_or_pax_sizes() {
    let ovf = OvfSpec::default().to_xml();
    let nine_gib = 9u64 << 30;
    for headers in [Headers::Gnu, Headers::Pax] {
        let mut bytes = OvaSpec::new("vm.ovf", &ovf).headers(headers).build();
        bytes.truncate(bytes.len() - 1024);
        bytes.extend(member_headers("disk1.vmdk", nine_gib, headers));
        bytes.extend(disk(4096));
        let p = scan(&bytes);
        assert_eq!(
            p.error,
            Some(format!("the archive is truncated: disk1.vmdk ends after 4096 of its {nine_gib} bytes")),
            "{headers:?}"
        );
        assert_eq!(p.vcpus, Some(2));
    }
}

#[test]
fn a_corrupt_header_stops_the_scan_with_its_offset() {
    let mut bytes = typical().build();
    let second_header = 512 + OvfSpec::default().to_xml().len().next_multiple_of(512);
    bytes[second_header + 10] ^= 0x55;
    let p = scan(&bytes);
    assert_eq!(p.descriptor.as_deref(), Some("vm.ovf"));
    assert!(p.error.unwrap().contains(&format!("the header at byte {second_header} fails its checksum")));
}

#[test]
fn splitting_the_stream_at_every_boundary_gives_the_same_result() {
    // A small descriptor keeps this at a few thousand scans of a few kilobytes.
    let ovf = r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="r"><VirtualSystem>
<VirtualHardwareSection><Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity>
</Item></VirtualHardwareSection></VirtualSystem></Envelope>"#;
    let bytes = OvaSpec::new("a.ovf", ovf)
        .member("d.vmdk", &disk(700))
        .manifest(ManifestDigest::Sha256)
        .headers(Headers::Pax)
        .build();
    let whole = scan(&bytes);
    assert_eq!((whole.vcpus, &whole.manifest), (Some(4), &Manifest::Verified));
    for cut in 0..=bytes.len() {
        let mut scanner = OvaScanner::new();
        scanner.feed(&bytes[..cut]);
        scanner.feed(&bytes[cut..]);
        assert_eq!(scanner.finish(), whole, "split at {cut}");
    }
}

#[test]
fn feeding_one_byte_at_a_time_gives_the_same_result() {
    let bytes = typical().manifest(ManifestDigest::Sha1).headers(Headers::Gnu).build();
    let mut scanner = OvaScanner::new();
    for b in &bytes {
        scanner.feed(std::slice::from_ref(b));
    }
    assert_eq!(scanner.finish(), scan(&bytes));
}

#[test]
fn a_manifest_read_before_the_disks_limits_hashing_to_its_algorithm() {
    let mut scan_state = Scan::default();
    let lines = format!("SHA1(d.vmdk)= {}\n", "00".repeat(20));
    scan_state.manifest_lines = Some(manifest::parse(lines.as_bytes()).unwrap());
    assert_eq!(scan_state.algorithms("d.vmdk"), (true, false));
    assert_eq!(scan_state.algorithms("other.vmdk"), (false, false));
    assert_eq!(Scan::default().algorithms("x"), (true, true));
}

#[test]
fn too_many_members_are_counted_not_remembered() {
    let mut bytes = OvaSpec::new("vm.ovf", &OvfSpec::default().to_xml()).build();
    bytes.truncate(bytes.len() - 1024);
    for i in 0..MAX_MEMBERS + 5 {
        bytes.extend(header(&format!("f{i}"), "", 0, b'0', Headers::Ustar));
    }
    bytes.extend([0u8; 1024]);
    let p = scan(&bytes);
    assert!(p.error.unwrap().contains("more than 1024 members"));
}
