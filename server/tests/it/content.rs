//! What is inside an image: OS and boot detection from an ISO's descriptors and an OVA's OVF, with
//! generated images carrying real distributions' ids under uninformative filenames; corrections that
//! survive re-detection and reach the vdc; hostile files stored with their fields unknown.

use std::time::Duration;

use app::model::{IsoMetadata, ManifestState, OsSource};
use serde_json::json;

use crate::support::{
    TestNode, assert_error, eventually,
    iso_image::IsoSpec,
    node_config,
    ova_image::{ManifestDigest, OvaSpec, OvfSpec},
    pool,
    vdc::{TestDb, TestVdc, token},
};

/// One real disc's ids and what the node must make of them.
struct Disc {
    spec: IsoSpec,
    folder: &'static str,
    family: &'static str,
    distribution: &'static str,
    version: Option<&'static str>,
    arch: Option<&'static str>,
    bios: bool,
    uefi: bool,
}

fn discs() -> Vec<Disc> {
    vec![
        Disc {
            spec: IsoSpec::new("CCCOMA_X64FRE_EN-US_DV9").udf("CCCOMA_X64FRE_EN-US_DV9").boot(true, true),
            folder: "/windows",
            family: "windows",
            distribution: "windows",
            version: Some("10/11"),
            arch: Some("x86_64"),
            bios: true,
            uefi: true,
        },
        Disc {
            spec: IsoSpec::new("SSS_X64FREV_EN-US_DV9").udf("SSS_X64FREV_EN-US_DV9").boot(true, true),
            folder: "/windows",
            family: "windows",
            distribution: "windows-server",
            version: Some("2016/2019/2022/2025"),
            arch: Some("x86_64"),
            bios: true,
            uefi: true,
        },
        Disc {
            spec: IsoSpec::new("Ubuntu-Server 24.04 LTS amd64").boot(true, true),
            folder: "/linux",
            family: "linux",
            distribution: "ubuntu",
            version: Some("24.04"),
            arch: Some("x86_64"),
            bios: true,
            uefi: true,
        },
        Disc {
            spec: IsoSpec::new("Debian 12.0.0 amd64 n").boot(true, true),
            folder: "/linux",
            family: "linux",
            distribution: "debian",
            version: Some("12.0.0"),
            arch: Some("x86_64"),
            bios: true,
            uefi: true,
        },
        Disc {
            spec: IsoSpec::new("Fedora-E-dvd-aarch64-44").boot(false, true),
            folder: "/linux",
            family: "linux",
            distribution: "fedora",
            version: Some("44"),
            arch: Some("aarch64"),
            bios: false,
            uefi: true,
        },
        Disc {
            spec: IsoSpec::new("14_1_RELEASE_AMD64_CD").system("FreeBSD").boot(true, false),
            folder: "/other",
            family: "bsd",
            distribution: "freebsd",
            version: Some("14.1"),
            arch: Some("x86_64"),
            bios: true,
            uefi: false,
        },
    ]
}

/// Each disc uploaded as `disc<k>.iso` (a name that says nothing) lands in its OS's folder with the
/// OS, version, architecture and boot modes its descriptors state.
#[tokio::test]
async fn an_iso_is_known_by_its_content_not_its_name() {
    let node = TestNode::spawn(&[pool("local")]).await;
    for (k, disc) in discs().into_iter().enumerate() {
        let image = node.upload_ok("", &format!("disc{k}.iso"), disc.spec.build()).await;
        let what = &disc.spec.volume_id;
        assert_eq!(image.os_source, Some(OsSource::Content), "{what}");
        assert_eq!(image.folder_path.as_str(), disc.folder, "{what}");
        assert_eq!(image.os_family.as_deref(), Some(disc.family), "{what}");
        assert_eq!(image.os_distribution.as_deref(), Some(disc.distribution), "{what}");
        assert_eq!(image.os_version.as_deref(), disc.version, "{what}");
        assert_eq!(image.arch.as_deref(), disc.arch, "{what}");
        let boot = image.boot.expect("boot modes");
        assert_eq!((boot.bios, boot.uefi), (disc.bios, disc.uefi), "{what}");
        assert_eq!(image.detection_error, None, "{what}");
        assert!(image.volume_id.is_some(), "{what}");
    }
    // A name that says something, a disc that says nothing: the name is the fallback.
    let image = node.upload_ok("", "ubuntu-22.04-live-server-amd64.iso", IsoSpec::new("CDROM").build()).await;
    assert_eq!((image.os_source, image.os_distribution.as_deref()), (Some(OsSource::Filename), Some("ubuntu")));
    // And a folder asked for wins over both.
    let image = node.upload_ok("folder=/lab", "disc-x.iso", discs().remove(0).spec.build()).await;
    assert_eq!(image.folder_path.as_str(), "/lab");
}

/// The bytes are the user's: truncated, random, lying or hostile images are stored, their content
/// fields unknown, with a clear `detection_error`; nothing panics and nothing outside the pool is read.
#[tokio::test]
async fn hostile_images_are_stored_with_their_fields_unknown() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let valid = discs().remove(0).spec.build();
    let past_the_end = IsoSpec::new("CDROM").boot(true, false).catalogue_at(1_000_000).build();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.iso", valid[..16 * 2048 + 100].to_vec()),
        ("random.iso", crate::support::pattern(99, 200_000)),
        ("tiny.iso", b"not an image".to_vec()),
        ("catalogue-past-end.iso", past_the_end),
    ];
    for (name, data) in cases {
        let image = node.upload_ok("", name, data).await;
        assert!(image.detection_error.is_some(), "{name}: {image:?}");
        assert_eq!(image.os_source, None, "{name}");
        assert_eq!(image.os_family, None, "{name}");
        assert_eq!(image.arch, None, "{name}");
        assert!(image.checksum.is_some(), "{name}: stored whole");
        assert_eq!(image.boot, None, "{name}");
    }
    let (_, b) = node.get("/api/v1/images?q=catalogue-past-end").await;
    assert!(b["images"][0]["detection_error"].as_str().unwrap().contains("catalogue"), "{b}");
    let billion_laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1">&lol2;</Envelope>"#;
    let escapes = OvfSpec { files: vec!["../../etc/shadow".into(), "/etc/passwd".into()], ..OvfSpec::default() };
    let ovas: Vec<(&str, Vec<u8>)> = vec![
        ("laughs.ova", OvaSpec::new("vm.ovf", billion_laughs).build()),
        ("no-descriptor.ova", OvaSpec::new("disk1.vmdk", "just a disk").build()),
        ("escapes.ova", OvaSpec::new("vm.ovf", &escapes.to_xml()).build()),
    ];
    for (name, data) in ovas {
        let image = node.upload_ok("", name, data).await;
        assert!(image.detection_error.is_some(), "{name}: {image:?}");
        assert!(image.checksum.is_some(), "{name}");
    }
}

/// An OVA's descriptor is read as it uploads: OS, vCPUs, memory, disks, NICs and firmware, and its
/// manifest verified member by member; a tampered disk is a mismatch naming it.
#[tokio::test]
async fn an_ova_descriptor_and_manifest_are_read_as_it_uploads() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let ovf = OvfSpec {
        vcpus: 4,
        memory: (8, "byte * 2^30".into()),
        disks: vec![(40, "byte * 2^30".into()), (100, "byte * 2^30".into())],
        files: vec!["disk1.vmdk".into(), "disk2.vmdk".into()],
        nics: 2,
        ..OvfSpec::default()
    };
    let spec = OvaSpec::new("appliance.ovf", &ovf.to_xml())
        .member("disk1.vmdk", &crate::support::pattern(1, 300_000))
        .member("disk2.vmdk", &crate::support::pattern(2, 100_000))
        .manifest(ManifestDigest::Sha256);
    let image = node.upload_ok("", "appliance.ova", spec.build()).await;
    let ova = image.ova.clone().expect("descriptor read");
    assert_eq!((ova.vcpus, ova.memory_mib, ova.nics), (Some(4), Some(8192), Some(2)));
    assert_eq!(ova.disks.iter().map(|d| d.capacity_bytes >> 30).collect::<Vec<_>>(), [40, 100]);
    assert_eq!(ova.firmware, Some(app::model::Firmware::Uefi));
    assert_eq!(ova.manifest, ManifestState::Verified);
    assert_eq!((image.os_family.as_deref(), image.os_source), (Some("linux"), Some(OsSource::Content)));
    assert_eq!(image.folder_path.as_str(), "/linux", "content decides the default folder");

    // One byte of disk1 changed after the manifest was written.
    let mut bytes = spec.build();
    let disk_at = bytes.windows(8).position(|w| w == &crate::support::pattern(1, 300_000)[..8]).unwrap();
    bytes[disk_at + 5] ^= 0xff;
    let image = node.upload_ok("", "tampered.ova", bytes).await;
    assert_eq!(image.ova.expect("descriptor read").manifest, ManifestState::Mismatch);
    assert!(image.detection_error.unwrap().contains("disk1.vmdk"));
}

/// An operator's correction sets `os_source: user`, reaches the vdc like any change, and no later
/// detection overwrites it; a rename keeps the id and never replaces a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_survives_redetection_and_reaches_the_vdc() {
    let db = TestDb::sqlite();
    let vdc = TestVdc::spawn(&db).await;
    let root = tempfile::tempdir().unwrap();
    let mut config = node_config(&root, &[pool("local")]);
    config.vdc_url = Some(vdc.url.clone());
    config.cluster_token = Some(token());
    let node = TestNode::spawn_with(root, config).await;
    let image = node.upload_ok("", "disc.iso", discs().remove(2).spec.build()).await;
    let patch = |path: String, body: serde_json::Value| {
        let client = node.client.clone();
        async move {
            let resp = client.patch(path).json(&body).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    let url = format!("{}/api/v1/images/{}", node.url, image.id);
    let (s, b) = patch(url.clone(), json!({ "os_distribution": "kubuntu", "os_version": "24.04.1" })).await;
    assert_eq!(s, 200, "{b}");
    let patched: IsoMetadata = serde_json::from_value(b).unwrap();
    assert_eq!((patched.os_source, patched.os_distribution.as_deref()), (Some(OsSource::User), Some("kubuntu")));
    assert_eq!(patched.os_family.as_deref(), Some("linux"), "fields not given are kept");

    // The file changes on disk: it is hashed and detected again, and the correction stands.
    let file = node.iso_dir("local").join("disc.iso");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(b"tail");
    std::fs::write(&file, &bytes).unwrap();
    eventually(Duration::from_secs(10), "the changed file is hashed again", || async {
        let (_, b) = node.get(&format!("/api/v1/images/{}", image.id)).await;
        b["size_bytes"].as_u64() == Some(bytes.len() as u64) && b["checksum"].is_string()
    })
    .await;
    let (_, b) = node.get(&format!("/api/v1/images/{}", image.id)).await;
    assert_eq!((b["os_source"].as_str(), b["os_distribution"].as_str()), (Some("user"), Some("kubuntu")), "{b}");
    eventually(Duration::from_secs(10), "the vdc has the correction", || async {
        let (_, b) = vdc.get(&format!("/api/v1/images/{}", image.id)).await;
        b["os_distribution"] == "kubuntu" && b["os_source"] == "user"
    })
    .await;

    // Renames: the id stays, the file moves, nothing is replaced, bad names are refused.
    let (s, b) = patch(url.clone(), json!({ "filename": "kubuntu-24.04.iso" })).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["id"], image.id.to_string());
    assert_eq!(node.files("local"), ["kubuntu-24.04.iso"]);
    node.upload_ok("", "other.iso", b"another".to_vec()).await;
    let (s, b) = patch(url.clone(), json!({ "filename": "other.iso" })).await;
    assert_error(s, &b, 409, "name_taken");
    let (s, b) = patch(url.clone(), json!({ "filename": "../escape.iso" })).await;
    assert_error(s, &b, 400, "invalid_filename");
    let (s, b) = patch(url.clone(), json!({ "os_family": "Linux<script>" })).await;
    assert_error(s, &b, 400, "invalid_os");
    let (s, b) = patch(url, json!({})).await;
    assert_error(s, &b, 400, "invalid_body");
    assert_eq!(node.files("local"), ["kubuntu-24.04.iso", "other.iso"]);
    // Through the vdc: forwarded to the node, which stays the truth.
    let (s, b) = vdc
        .client
        .patch(format!("{}/api/v1/images/{}", vdc.url, image.id))
        .json(&json!({ "os_version": "24.04.2" }))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(s, 200, "{b:?}");
    let (_, b) = node.get(&format!("/api/v1/images/{}", image.id)).await;
    assert_eq!(b["os_version"], "24.04.2");
    node.stop().await;
}

/// A file copied into a pool by other means is detected too: an ISO at registration (its folder by
/// content), an OVA as it is hashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_copied_into_a_pool_are_detected_too() {
    let node = TestNode::spawn(&[pool("local")]).await;
    std::fs::write(node.iso_dir("local").join("copied.iso"), discs().remove(4).spec.build()).unwrap();
    let ovf = OvfSpec { vcpus: 3, ..OvfSpec::default() };
    let ova = OvaSpec::new("vm.ovf", &ovf.to_xml()).member("disk1.vmdk", b"disk").manifest(ManifestDigest::Sha1);
    std::fs::write(node.iso_dir("local").join("copied.ova"), ova.build()).unwrap();
    eventually(Duration::from_secs(10), "both are registered and hashed", || async {
        let list = node.list("").await.images;
        list.len() == 2 && list.iter().all(|i| i.checksum.is_some())
    })
    .await;
    let list = node.list("").await.images;
    let iso = list.iter().find(|i| i.filename == "copied.iso").unwrap();
    assert_eq!((iso.folder_path.as_str(), iso.arch.as_deref()), ("/linux", Some("aarch64")));
    let ova = list.iter().find(|i| i.filename == "copied.ova").unwrap();
    assert_eq!(ova.ova.as_ref().and_then(|o| o.vcpus), Some(3));
    assert_eq!(ova.ova.as_ref().map(|o| o.manifest), Some(ManifestState::Verified));
}

/// Images registered before detection existed are detected once, in the background, after upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_from_before_detection_are_detected_after_upgrade() {
    let node = TestNode::spawn(&[pool("local")]).await;
    let image = node.upload_ok("", "old.iso", discs().remove(3).spec.build()).await;
    let (root, config) = node.stop().await;
    // What a database from before detection holds: no content fields, never checked.
    let db = config.data_dir.join("node.db");
    let conn = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    sqlx::query(
        "UPDATE images SET os_source = NULL, volume_id = NULL, arch = NULL, boot_bios = NULL, boot_uefi = NULL, \
         content_checked = 0",
    )
    .execute(&conn)
    .await
    .unwrap();
    conn.close().await;
    let node = TestNode::spawn_with(root, config).await;
    eventually(Duration::from_secs(10), "the old image is detected", || async {
        let (_, b) = node.get(&format!("/api/v1/images/{}", image.id)).await;
        b["os_source"] == "content" && b["arch"] == "x86_64"
    })
    .await;
}

/// The vdc keeps what a node reports of an image's content, on both backends, and filters by
/// architecture and firmware.
async fn the_catalogue_keeps_and_filters_content_fields(db: &TestDb) {
    use crate::support::vdc::{image, node_ref};
    use app::model::{BootModes, ImageEventType::Created};
    let vdc = TestVdc::spawn(db).await;
    let hv1 = node_ref("hv1");
    let mut uefi_arm = image(uuid::Uuid::new_v4(), "fedora.iso", "/linux", 3);
    uefi_arm.arch = Some("aarch64".into());
    uefi_arm.boot = Some(BootModes { bios: false, uefi: true });
    uefi_arm.os_source = Some(OsSource::Content);
    uefi_arm.volume_id = Some("Fedora-E-dvd-aarch64-44".into());
    let mut bios_x86 = image(uuid::Uuid::new_v4(), "freebsd.iso", "/other", 4);
    bios_x86.arch = Some("x86_64".into());
    bios_x86.boot = Some(BootModes { bios: true, uefi: false });
    let mut ova = image(uuid::Uuid::new_v4(), "appliance.ova", "/linux", 5);
    ova.ova = Some(app::model::OvaInfo {
        os: Some("Ubuntu Linux (64-bit)".into()),
        vcpus: Some(4),
        memory_mib: Some(8192),
        disks: vec![app::model::OvaDisk { capacity_bytes: 40 << 30 }],
        nics: Some(1),
        firmware: Some(app::model::Firmware::Uefi),
        manifest: ManifestState::Verified,
    });
    ova.detection_error = Some("The descriptor refers to files outside the archive (../x); they were not read.".into());
    for i in [&uefi_arm, &bios_x86, &ova] {
        vdc.notify(&hv1, i, Created).await;
    }
    let names = |q: &'static str| {
        let vdc = &vdc;
        async move { crate::support::vdc::filenames(&vdc.list(q).await) }
    };
    assert_eq!(names("arch=aarch64").await, ["fedora.iso"]);
    assert_eq!(names("boot=uefi").await, ["fedora.iso"]);
    assert_eq!(names("boot=bios&arch=x86_64").await, ["freebsd.iso"]);
    let (s, b) = vdc.get("/api/v1/images?boot=coreboot").await;
    assert_error(s, &b, 400, "invalid_query");
    let back = |id| {
        let vdc = &vdc;
        async move { serde_json::from_value::<IsoMetadata>(vdc.get(&format!("/api/v1/images/{id}")).await.1).unwrap() }
    };
    let got = back(uefi_arm.id).await;
    assert_eq!((got.volume_id, got.boot, got.os_source), (uefi_arm.volume_id, uefi_arm.boot, uefi_arm.os_source));
    let got = back(ova.id).await;
    assert_eq!((got.ova, got.detection_error), (ova.ova, ova.detection_error));
}

crate::on_both_backends!(the_catalogue_keeps_and_filters_content_fields);
