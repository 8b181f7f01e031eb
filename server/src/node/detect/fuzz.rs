//! Property-based fuzzing (proptest; cargo-fuzz needs nightly). Random bytes and mutated valid images
//! go into `probe_iso` and `OvaScanner`: nothing panics, the ISO probe stays within its read budget, and
//! an OVA scans the same however its stream is chunked — valid or damaged.
//!
//! 256 cases per property by default; `PROPTEST_CASES=100000 cargo test detect::fuzz` for a long run.
//! Every crasher found stays as a named `regression_…` test beside the code it broke (not as a
//! `proptest-regressions` file, which would be written into the source tree on every local failure).

use std::cell::Cell;
use std::sync::LazyLock;

use proptest::prelude::*;

use super::iso_image::IsoSpec;
use super::ova_image::{Headers, ManifestDigest, OvaSpec, OvfSpec, header};
use super::read_at::Counting;
use super::{IsoProbe, OvaProbe, OvaScanner, READ_BUDGET, classify, probe_iso};

const SECTOR: usize = 2048;

static ISOS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    vec![
        IsoSpec::new("Ubuntu 24.04 LTS amd64").joliet("Ubuntu 24.04 LTS amd64").boot(true, true).build(),
        IsoSpec::new("CCCOMA_X64FRE_EN-US_DV9")
            .publisher("MICROSOFT CORPORATION")
            .udf("CCCOMA_X64FRE_EN-US_DV9")
            .boot(true, true)
            .build(),
        IsoSpec::new("PVE")
            .file(".cd-info", b"PRODUCT='pve'\nRELEASE='8.2'\n")
            .file("TrueNAS-SCALE.update", b"x")
            .boot(false, true)
            .build(),
    ]
});

static OVAS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let disk: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let ovf = OvfSpec::default().to_xml();
    let long = format!("{}/disk1.vmdk", "d".repeat(110));
    vec![
        OvaSpec::new("vm.ovf", &ovf).member("disk1.vmdk", &disk).manifest(ManifestDigest::Sha256).build(),
        OvaSpec::new("vm.ovf", &ovf).member(&long, &disk).manifest(ManifestDigest::Sha1).headers(Headers::Gnu).build(),
        OvaSpec::new("vm.ovf", &OvfSpec { version: 2, ..OvfSpec::default() }.to_xml())
            .member(&long, &disk)
            .headers(Headers::Pax)
            .build(),
    ]
});

/// Probes through a byte counter and checks the budget; returns the probe for further checks.
fn probe_within_budget(image: &[u8]) -> IsoProbe {
    let counting = Counting { data: image, asked: Cell::new(0) };
    let probe = probe_iso(&counting);
    assert!(counting.asked.get() <= READ_BUDGET, "read {} bytes", counting.asked.get());
    let _ = classify(&probe);
    probe
}

/// Random bytes from a seed: proptest builds large `Vec<u8>`s element by element, which is slow;
/// a seed and a length shrink just as well for this purpose.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    (any::<u64>(), 0usize..80_000).prop_map(|(seed, len)| {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    })
}

fn scan_in_chunks(bytes: &[u8], cuts: &[usize]) -> OvaProbe {
    let mut scanner = OvaScanner::new();
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    for p in points {
        scanner.feed(&bytes[at..p]);
        at = p;
    }
    scanner.feed(&bytes[at..]);
    scanner.finish()
}

fn scan_whole(bytes: &[u8]) -> OvaProbe {
    scan_in_chunks(bytes, &[])
}

/// A damage to apply to a valid image: flip a byte, overwrite a sector with another, or cut.
#[derive(Debug, Clone)]
enum Damage {
    Flip { at: usize, mask: u8 },
    Splice { from: usize, to: usize },
    Truncate { at: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        // Most flips land in the descriptor area and the structures after it, where parsing happens.
        4 => (16 * SECTOR..48 * SECTOR, 1u8..).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        1 => (any::<usize>(), 1u8..).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        1 => (0usize..300, 0usize..300).prop_map(|(from, to)| Damage::Splice { from, to }),
        1 => any::<usize>().prop_map(|at| Damage::Truncate { at }),
    ]
}

fn apply(image: &mut Vec<u8>, damage: &Damage, unit: usize) {
    match *damage {
        Damage::Flip { at, mask } if !image.is_empty() => {
            let at = at % image.len();
            image[at] ^= mask;
        }
        Damage::Splice { from, to } => {
            let units = image.len() / unit;
            if units > 0 {
                let (from, to) = (from % units * unit, to % units * unit);
                let piece = image[from..from + unit].to_vec();
                image[to..to + unit].copy_from_slice(&piece);
            }
        }
        Damage::Truncate { at } => image.truncate(at % (image.len() + 1)),
        Damage::Flip { .. } => {}
    }
}

/// A tar stream of well-formed headers (valid checksums) with arbitrary types, sizes and contents, so
/// the scanner's state machine — not just its checksum test — meets nonsense.
fn structured_tar() -> impl Strategy<Value = Vec<u8>> {
    let typeflag = prop_oneof![
        Just(b'0'),
        Just(b'5'),
        Just(b'L'),
        Just(b'x'),
        Just(b'g'),
        Just(b'K'),
        Just(b'2'),
        Just(b'S'),
        any::<u8>()
    ];
    let size = prop_oneof![0u64..2048, Just(1u64 << 33), Just(u64::MAX >> 1), any::<u64>()];
    let pax = prop_oneof![
        Just("12 path=a.b\n".to_owned()),
        Just("20 size=99999999999\n".to_owned()),
        Just("9 size=x\n".to_owned()),
        "[0-9 =a-z\n]{0,40}",
    ];
    let name =
        prop_oneof![Just("vm.ovf".to_owned()), Just("vm.mf".to_owned()), Just("disk.vmdk".to_owned()), "[a-z./]{0,20}"];
    let member = (
        name,
        typeflag,
        size,
        pax,
        noise().prop_map(|mut n| {
            n.truncate(3000);
            n
        }),
    );
    proptest::collection::vec(member, 0..6).prop_map(|members| {
        let mut tar = Vec::new();
        for (name, typeflag, size, pax, data) in members {
            tar.extend_from_slice(&header(&name, "", size, typeflag, Headers::Pax));
            if typeflag == b'x' {
                tar.extend_from_slice(pax.as_bytes());
            }
            tar.extend(data);
        }
        tar
    })
}

/// A directory extent of records whose lengths, identifiers and SUSP entries are each plausible on their
/// own, so the record walk and the Rock Ridge reader meet every combination.
fn directory_extent() -> impl Strategy<Value = Vec<u8>> {
    let susp = prop_oneof![
        Just(b"SP\x07\x01\xBE\xEF\x00".to_vec()),
        Just(b"SP\x06\x01\xBE\xEF".to_vec()),
        Just(b"NM\x05\x01\x00".to_vec()),
        Just(b"NM\x0a\x01\x00hello".to_vec()),
        Just(b"NM\x0a\x01\x01part1".to_vec()),
        Just(b"NM\xff\x01\x00".to_vec()),
        Just(b"ST\x04\x01".to_vec()),
        Just(b"CE\x1c\x01".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let record = (
        prop_oneof![Just(vec![0u8]), Just(vec![1u8]), proptest::collection::vec(any::<u8>(), 0..12)],
        proptest::collection::vec(susp, 0..4),
        any::<u8>(),
        0u8..3,
    )
        .prop_map(|(id, susp, flags, length_error)| {
            let su: Vec<u8> = susp.concat();
            let pad = usize::from(id.len().is_multiple_of(2));
            let len = (33 + id.len() + pad + su.len()).min(255);
            let mut r = vec![0u8; len];
            r[0] = (len as u8).wrapping_add(length_error).wrapping_sub(1);
            r[25] = flags;
            r[32] = id.len() as u8;
            let body: Vec<u8> = id.iter().chain(std::iter::repeat_n(&0, pad)).chain(&su).copied().collect();
            let room = len - 33;
            r[33..].copy_from_slice(&body[..room]);
            r
        });
    proptest::collection::vec(record, 0..12).prop_map(|records| records.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_directory_records_never_panic_the_directory_reader(dir in directory_extent()) {
        let entries = super::directory::entries(&dir, SECTOR, 256);
        prop_assert!(entries.len() <= 256);
    }

    #[test]
    fn well_formed_headers_with_nonsense_never_panic_and_scan_the_same_however_chunked(
        tar in structured_tar(),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        prop_assert_eq!(scan_in_chunks(&tar, &cuts), scan_whole(&tar));
    }

    #[test]
    fn random_bytes_never_panic_the_iso_probe(bytes in noise()) {
        probe_within_budget(&bytes);
    }

    #[test]
    fn random_sectors_after_a_valid_header_never_panic_the_iso_probe(
        tail in noise(),
        which in 0usize..3,
    ) {
        let mut image = ISOS[which][..17 * SECTOR].to_vec();
        image.extend(tail);
        probe_within_budget(&image);
    }

    #[test]
    fn damaged_isos_never_panic_or_exceed_the_budget(
        which in 0usize..3,
        damages in proptest::collection::vec(damage(), 1..6),
    ) {
        let mut image = ISOS[which].clone();
        for d in &damages {
            apply(&mut image, d, SECTOR);
        }
        probe_within_budget(&image);
    }

    #[test]
    fn random_bytes_never_panic_the_ova_scanner(bytes in noise()) {
        scan_whole(&bytes);
    }

    #[test]
    fn a_valid_ova_scans_the_same_however_it_is_chunked(
        which in 0usize..3,
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes = &OVAS[which];
        prop_assert_eq!(scan_in_chunks(bytes, &cuts), scan_whole(bytes));
    }

    #[test]
    fn a_damaged_ova_never_panics_and_scans_the_same_however_it_is_chunked(
        which in 0usize..3,
        damages in proptest::collection::vec(damage(), 1..5),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut bytes = OVAS[which].clone();
        for d in &damages {
            apply(&mut bytes, d, 512);
        }
        prop_assert_eq!(scan_in_chunks(&bytes, &cuts), scan_whole(&bytes));
    }

    #[test]
    fn arbitrary_volume_ids_never_panic_the_rules(
        volume in "\\PC{0,40}",
        application in "[A-Za-z0-9_ .-]{0,40}",
        system in prop_oneof![Just("FreeBSD".to_owned()), "[A-Z]{0,8}"],
    ) {
        let probe = IsoProbe {
            volume_id: Some(volume),
            application_id: Some(application),
            system_id: Some(system),
            ..IsoProbe::default()
        };
        let _ = classify(&probe);
    }

    #[test]
    fn words_shaped_like_real_ids_never_panic_the_rules(
        words in proptest::collection::vec(prop_oneof![
            Just("Ubuntu".to_owned()), Just("SLE".to_owned()), Just("x86".to_owned()), Just("64".to_owned()),
            Just("SP".to_owned()), Just("ESXI".to_owned()), Just("U".to_owned()), Just("ARCH".to_owned()),
            "[0-9]{1,8}", "[A-Z]{1,6}", "sp[0-9]{0,3}",
        ], 0..8),
        separators in proptest::collection::vec(prop_oneof![Just('-'), Just('_'), Just(' '), Just('.')], 8),
    ) {
        let id: String =
            words.iter().zip(&separators).flat_map(|(w, s)| w.chars().chain(std::iter::once(*s))).collect();
        let _ = classify(&IsoProbe { volume_id: Some(id.clone()), application_id: Some(id), ..IsoProbe::default() });
    }
}
