//! Pins the JSON shape of every wire type: the original system broke on a camelCase/snake_case mismatch.

use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn sample_iso() -> IsoMetadata {
    IsoMetadata {
        id: Uuid::parse_str("6f1c2a9e-8b3d-4c5e-9f10-1a2b3c4d5e6f").unwrap(),
        name: "ubuntu-24.04-live-server-amd64".into(),
        filename: "ubuntu-24.04-live-server-amd64.iso".into(),
        folder_path: FolderPath::parse("/linux/ubuntu").unwrap(),
        size_bytes: 2_754_981_888,
        format: ImageFormat::Iso,
        storage_pool_id: Some("local".parse().unwrap()),
        path: "/data/local/iso/ubuntu-24.04-live-server-amd64.iso".into(),
        checksum: Some("sha256:".to_owned() + &"ab".repeat(32)),
        os_family: Some("linux".into()),
        os_distribution: Some("ubuntu".into()),
        os_version: Some("24.04".into()),
        created_at: 1_769_000_000,
        updated_at: 1_769_000_100,
        revision: 42,
        node_id: None,
        os_source: Some(OsSource::Content),
        volume_id: Some("Ubuntu-Server 24.04 LTS amd64".into()),
        arch: Some("x86_64".into()),
        os_edition: Some("server".into()),
        boot: Some(BootModes { bios: true, uefi: true }),
        detection_error: None,
        ova: None,
    }
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) -> Value {
    let json = serde_json::to_value(v).unwrap();
    let back: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, v);
    json
}

#[test]
fn iso_metadata_field_names() {
    let json = round_trip(&sample_iso());
    assert_eq!(
        keys(&json),
        [
            "arch",
            "boot",
            "checksum",
            "created_at",
            "detection_error",
            "filename",
            "folder_path",
            "format",
            "id",
            "name",
            "node_id",
            "os_distribution",
            "os_edition",
            "os_family",
            "os_source",
            "os_version",
            "ova",
            "path",
            "revision",
            "size_bytes",
            "storage_pool_id",
            "updated_at",
            "volume_id",
        ]
    );
    assert_eq!(json["os_source"], "content");
    assert_eq!(json["boot"], json!({ "bios": true, "uefi": true }));
    assert_eq!(json["format"], "iso");
    assert_eq!(json["folder_path"], "/linux/ubuntu");
    assert_eq!(json["id"], "6f1c2a9e-8b3d-4c5e-9f10-1a2b3c4d5e6f");
    assert_eq!(json["node_id"], Value::Null);
}

#[test]
fn content_fields_have_their_documented_shape_and_older_nodes_omit_them() {
    let ova = OvaInfo {
        os: Some("Ubuntu Linux (64-bit)".into()),
        vcpus: Some(4),
        memory_mib: Some(8192),
        disks: vec![OvaDisk { capacity_bytes: 40 << 30 }],
        nics: Some(1),
        firmware: Some(Firmware::Uefi),
        manifest: ManifestState::Verified,
    };
    let json = round_trip(&ova);
    assert_eq!(keys(&json), ["disks", "firmware", "manifest", "memory_mib", "nics", "os", "vcpus"]);
    assert_eq!((json["firmware"].as_str(), json["manifest"].as_str()), (Some("uefi"), Some("verified")));
    assert_eq!(keys(&json["disks"][0]), ["capacity_bytes"]);
    for source in ["content", "filename", "user"] {
        assert_eq!(serde_json::to_value(OsSource::parse(source).unwrap()).unwrap(), source);
    }
    // An image from a node of before detection: no content fields at all.
    let mut old = serde_json::to_value(sample_iso()).unwrap();
    for k in ["os_source", "volume_id", "arch", "os_edition", "boot", "detection_error", "ova"] {
        old.as_object_mut().unwrap().remove(k);
    }
    let old: IsoMetadata = serde_json::from_value(old).unwrap();
    assert_eq!((old.os_source, old.boot, old.ova), (None, None, None));
    let patch = UpdateImageRequest { os_version: Some("24.04.1".into()), ..Default::default() };
    assert_eq!(keys(&round_trip(&patch)), ["os_version"]);
    assert!(serde_json::from_value::<UpdateImageRequest>(json!({ "os": "x" })).is_err(), "unknown fields refused");
}

#[test]
fn iso_metadata_refuses_camel_case_and_bad_folders() {
    let mut camel = serde_json::to_value(sample_iso()).unwrap();
    let obj = camel.as_object_mut().unwrap();
    let v = obj.remove("folder_path").unwrap();
    obj.insert("folderPath".into(), v);
    assert!(serde_json::from_value::<IsoMetadata>(camel).is_err());

    let mut bad = serde_json::to_value(sample_iso()).unwrap();
    bad["folder_path"] = json!("/a/../b");
    assert!(serde_json::from_value::<IsoMetadata>(bad).is_err());
}

#[test]
fn formats_by_extension() {
    assert_eq!(ImageFormat::from_filename("x.ISO"), Some(ImageFormat::Iso));
    assert_eq!(ImageFormat::from_filename("x.img"), Some(ImageFormat::Img));
    assert_eq!(ImageFormat::from_filename("appliance.ova"), Some(ImageFormat::Ova));
    assert_eq!(ImageFormat::from_filename("x.qcow2"), None);
    assert_eq!(ImageFormat::from_filename("iso"), None);
    assert_eq!(serde_json::to_value(ImageFormat::Ova).unwrap(), "ova");
}

#[test]
fn storage_pool_field_names() {
    let pool = StoragePool {
        id: "fast-nvme".parse().unwrap(),
        name: "Fast NVMe".into(),
        path: "/data/nvme".into(),
        capacity_bytes: 1 << 40,
        free_bytes: 1 << 39,
        image_count: 3,
    };
    let json = round_trip(&pool);
    assert_eq!(keys(&json), ["capacity_bytes", "free_bytes", "id", "image_count", "name", "path"]);
    assert_eq!(keys(&round_trip(&PoolList { pools: vec![pool] })), ["pools"]);
}

#[test]
fn resumable_upload_field_names() {
    let upload = ResumableUpload {
        id: Uuid::parse_str("6f1c2a9e-8b3d-4c5e-9f10-1a2b3c4d5e6f").unwrap(),
        filename: "debian-12.iso".into(),
        pool_id: "local".parse().unwrap(),
        folder: None,
        offset: 1 << 20,
        length: 1 << 30,
        created_at: 1_769_000_000,
        expires_at: 1_769_086_400,
    };
    let json = round_trip(&upload);
    assert_eq!(keys(&json), ["created_at", "expires_at", "filename", "folder", "id", "length", "offset", "pool_id"]);
    assert_eq!(keys(&round_trip(&ResumableUploadList { uploads: vec![upload] })), ["uploads"]);
}

#[test]
fn task_field_names() {
    let task = Task {
        id: Uuid::parse_str("6f1c2a9e-8b3d-4c5e-9f10-1a2b3c4d5e6f").unwrap(),
        kind: TaskKind::Download,
        state: TaskState::Running,
        source: Some("https://mirror.example/debian-12.iso".into()),
        pool_id: "local".parse().unwrap(),
        filename: "debian-12.iso".into(),
        folder: None,
        bytes_done: 1 << 20,
        bytes_total: Some(1 << 30),
        bytes_per_second: Some(50 << 20),
        seconds_left: Some(20),
        error: None,
        image_id: None,
        created_at: 1_769_000_000,
        finished_at: None,
    };
    let json = round_trip(&task);
    assert_eq!(
        keys(&json),
        [
            "bytes_done",
            "bytes_per_second",
            "bytes_total",
            "created_at",
            "error",
            "filename",
            "finished_at",
            "folder",
            "id",
            "image_id",
            "kind",
            "pool_id",
            "seconds_left",
            "source",
            "state"
        ]
    );
    assert_eq!((json["kind"].as_str(), json["state"].as_str()), (Some("download"), Some("running")));
    assert_eq!(keys(&round_trip(&TaskList { tasks: vec![task] })), ["tasks"]);
    let started = TaskStarted { task_id: Uuid::nil() };
    assert_eq!(keys(&round_trip(&started)), ["task_id"]);
    let req: DownloadRequest =
        serde_json::from_str(r#"{"url": "https://m.example/x.iso", "pool_id": "local"}"#).unwrap();
    assert_eq!((req.folder, req.filename, req.checksum), (None, None, None));
    assert!(serde_json::from_str::<DownloadRequest>(r#"{"url": "u", "pool_id": "p", "node": "x"}"#).is_err());
}

#[test]
fn notify_request_is_the_seed_shape() {
    let req = NotifyImageChangeRequest {
        node: NodeRef {
            node_id: "node-a".parse().unwrap(),
            node_name: Some("Node A".into()),
            node_api_url: Some("http://10.0.0.5:3001".into()),
        },
        image: sample_iso(),
        event_type: ImageEventType::Updated,
        timestamp: 1_769_000_200,
    };
    let json = round_trip(&req);
    assert_eq!(keys(&json), ["event_type", "image", "node_api_url", "node_id", "node_name", "timestamp"]);
    assert_eq!(json["event_type"], 2);

    // The seed's minimal body (no name, no URL) is accepted.
    let minimal = json!({ "node_id": "n", "image": json["image"], "event_type": 3, "timestamp": 5 });
    let parsed: NotifyImageChangeRequest = serde_json::from_value(minimal).unwrap();
    assert_eq!(parsed.event_type, ImageEventType::Deleted);
    assert_eq!(parsed.node.node_name, None);
}

#[test]
fn event_type_codes() {
    for (t, code) in [(ImageEventType::Created, 1), (ImageEventType::Updated, 2), (ImageEventType::Deleted, 3)] {
        assert_eq!(serde_json::to_value(t).unwrap(), code);
        assert_eq!(serde_json::from_value::<ImageEventType>(json!(code)).unwrap(), t);
    }
    let err = serde_json::from_value::<ImageEventType>(json!(7)).unwrap_err().to_string();
    assert!(err.contains("unknown event_type 7"), "{err}");
    assert!(serde_json::from_value::<ImageEventType>(json!("created")).is_err());
}

#[test]
fn batch_and_full_sync_field_names() {
    let node = NodeRef { node_id: "n".parse().unwrap(), node_name: None, node_api_url: None };
    let change = ImageChange { image: sample_iso(), event_type: ImageEventType::Created, timestamp: 1 };
    assert_eq!(keys(&round_trip(&change)), ["event_type", "image", "timestamp"]);
    let batch = NotifyImageChangesRequest { node: node.clone(), events: vec![change] };
    assert_eq!(keys(&round_trip(&batch)), ["events", "node_api_url", "node_id", "node_name"]);
    let full = SyncNodeImagesRequest { node, as_of_revision: 9, images: vec![sample_iso()], timestamp: 2, scope: None };
    assert_eq!(
        keys(&round_trip(&full)),
        ["as_of_revision", "images", "node_api_url", "node_id", "node_name", "timestamp"]
    );
    let resp = SyncNodeImagesResponse { added: 1, updated: 2, removed: 3, unchanged: 4 };
    assert_eq!(keys(&round_trip(&resp)), ["added", "removed", "unchanged", "updated"]);
    let resp = NotifyImageChangeResponse { applied: 1, ignored: 0 };
    assert_eq!(keys(&round_trip(&resp)), ["applied", "ignored"]);
}

#[test]
fn digest_field_names() {
    let node = NodeRef { node_id: "n".parse().unwrap(), node_name: None, node_api_url: None };
    let digest = InventoryDigest { bucket_count: 1, buckets: vec!["0123456789abcdef".into()] };
    assert_eq!(keys(&round_trip(&digest)), ["bucket_count", "buckets"]);
    let req = SyncNodeDigestRequest { node: node.clone(), as_of_revision: 9, digest: digest.clone(), timestamp: 2 };
    assert_eq!(
        keys(&round_trip(&req)),
        ["as_of_revision", "digest", "node_api_url", "node_id", "node_name", "timestamp"]
    );
    assert_eq!(keys(&round_trip(&SyncNodeDigestResponse { differing: vec![0] })), ["differing"]);
    let scope = BucketScope { digest, buckets: vec![0] };
    assert_eq!(keys(&round_trip(&scope)), ["buckets", "digest"]);
    let part = SyncNodeImagesRequest { node, as_of_revision: 9, images: vec![], timestamp: 2, scope: Some(scope) };
    assert_eq!(
        keys(&round_trip(&part)),
        ["as_of_revision", "images", "node_api_url", "node_id", "node_name", "scope", "timestamp"]
    );
}

#[test]
fn error_body_shape() {
    let e = ErrorBody { error: "not_found".into(), message: "No image has the id 42.".into(), request_id: None };
    assert_eq!(round_trip(&e), json!({ "error": "not_found", "message": "No image has the id 42." }));
}

#[test]
fn folder_listing_shape_and_counts() {
    let f = |s| FolderPath::parse(s).unwrap();
    let listing =
        FolderListing::build([f("/empty/inner")], [(f("/windows/server/2022"), 2), (f("/windows"), 1), (f("/"), 4)]);
    let json = round_trip(&listing);
    assert_eq!(keys(&json), ["counts", "folders"]);
    let folders: Vec<&str> = listing.folders.iter().map(FolderPath::as_str).collect();
    assert_eq!(
        folders,
        ["/", "/empty", "/empty/inner", "/linux", "/other", "/windows", "/windows/server", "/windows/server/2022"]
    );
    assert_eq!(json["counts"]["/windows"], json!({ "direct": 1, "total": 3 }));
    assert_eq!(listing.count(&f("/")), FolderCount { direct: 4, total: 7 });
    assert_eq!(listing.count(&f("/empty/inner")), FolderCount::default());
    let windows = f("/windows");
    let kids: Vec<&str> = listing.children(&windows).map(FolderPath::as_str).collect();
    assert_eq!(kids, ["/windows/server"]);
}

#[test]
fn image_list_and_query_shapes() {
    let list = ImageList { images: vec![sample_iso()], next_cursor: Some("abc".into()) };
    assert_eq!(keys(&round_trip(&list)), ["images", "next_cursor"]);
    let q = ImageQuery {
        folder: Some("/windows/server 2022".into()),
        recursive: Some(true),
        q: Some("a&b=c".into()),
        sort: Some(SortKey::Size),
        limit: Some(50),
        ..Default::default()
    };
    assert_eq!(q.to_query_string(), "folder=/windows/server%202022&recursive=true&q=a%26b%3Dc&sort=size&limit=50");
    assert_eq!(keys(&round_trip(&MoveImageRequest { folder_path: "/x".into() })), ["folder_path"]);
    assert_eq!(keys(&round_trip(&CreateFolderRequest { path: "/x".into() })), ["path"]);
    assert_eq!(keys(&round_trip(&RenameFolderRequest { from: "/x".into(), to: "/y".into() })), ["from", "to"]);
}

#[test]
fn node_shapes() {
    let info = NodeInfo {
        id: "n1".parse().unwrap(),
        name: "Node 1".into(),
        api_url: Some("http://n1:3001".into()),
        image_count: 5,
        last_contact_at: Some(10),
        last_full_sync_at: None,
        state: NodeSyncState::Stale,
        pools: vec![],
    };
    let json = round_trip(&info);
    assert_eq!(
        keys(&json),
        ["api_url", "id", "image_count", "last_contact_at", "last_full_sync_at", "name", "pools", "state"]
    );
    assert_eq!(json["state"], "stale");
    let status = NodeSyncStatus {
        node_id: "n1".parse().unwrap(),
        node_name: "Node 1".into(),
        vdc_url: None,
        pending: 3,
        last_success_at: None,
        last_error: Some("connection refused".into()),
        last_error_at: Some(4),
        last_full_sync_at: None,
    };
    assert_eq!(
        keys(&round_trip(&status)),
        [
            "last_error",
            "last_error_at",
            "last_full_sync_at",
            "last_success_at",
            "node_id",
            "node_name",
            "pending",
            "vdc_url"
        ]
    );
    let beat = HeartbeatRequest {
        node: NodeRef { node_id: "n".parse().unwrap(), node_name: None, node_api_url: None },
        pending: 2,
        pools: vec![],
    };
    assert_eq!(keys(&round_trip(&beat)), ["node_api_url", "node_id", "node_name", "pending", "pools"]);
    let old_node: HeartbeatRequest = serde_json::from_value(json!({ "node_id": "n", "pending": 0 })).unwrap();
    assert!(old_node.pools.is_empty());
    let pin = IsoPin { image_id: Uuid::nil(), vm_id: Uuid::nil(), vm_name: "web-01".into() };
    let answer = HeartbeatResponse { full_sync_wanted: true, node_revision: Some(7), pins: Some(vec![pin.clone()]) };
    assert_eq!(keys(&round_trip(&answer)), ["full_sync_wanted", "node_revision", "pins"]);
    assert_eq!(keys(&round_trip(&pin)), ["image_id", "vm_id", "vm_name"]);
    // From an older vdc: no revision, and pins left alone.
    let old_vdc: HeartbeatResponse = serde_json::from_value(json!({ "full_sync_wanted": false })).unwrap();
    assert_eq!((old_vdc.node_revision, old_vdc.pins), (None, None));
    let registered = NodeRegistered { node_id: "n".parse().unwrap(), credential: "qxn_secret".into() };
    assert_eq!(keys(&round_trip(&registered)), ["credential", "node_id"]);
    assert!(!format!("{registered:?}").contains("qxn_secret"), "the credential is redacted in logs");
    let pin_req = PinRequest { vm_id: Uuid::nil(), vm_name: "web-01".into() };
    assert_eq!(keys(&round_trip(&pin_req)), ["vm_id", "vm_name"]);
    let h = Health { status: "ok".into(), role: "node".into(), version: "0.1.0".into() };
    assert_eq!(keys(&round_trip(&h)), ["role", "status", "version"]);
}
