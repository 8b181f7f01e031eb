//! Test-only: builds OVAs in memory — a tar of an OVF descriptor, an optional manifest and disks — in
//! ustar, GNU (long names, base-256 sizes) or PAX form, and OVF 1.0 / 2.0 descriptors to put in them.
//!
//! Shared by the detection unit tests (`#[path]`-included) and the integration tests: std plus
//! sha1/sha2/hex only.

// Each test binary uses a different part of the builder.
#![allow(dead_code)]

use sha1::{Digest, Sha1};
use sha2::Sha256;

const BLOCK: usize = 512;
const VMDK: &str = "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized";

/// How member headers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    /// POSIX ustar; names over 100 bytes are split into prefix and name.
    Ustar,
    /// GNU: `././@LongLink` entries for long names, base-256 for sizes of 8 GiB and more.
    Gnu,
    /// POSIX.1-2001: an `x` header with `path` (and `size` when it does not fit) before each member.
    Pax,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestDigest {
    Sha1,
    Sha256,
}

/// An OVA's members, in order. The manifest (if asked for) is written second, as OVF tools do.
#[derive(Debug, Clone)]
pub struct OvaSpec {
    pub members: Vec<(String, Vec<u8>)>,
    pub manifest: Option<ManifestDigest>,
    pub headers: Headers,
}

impl OvaSpec {
    pub fn new(ovf_name: &str, ovf: &str) -> Self {
        OvaSpec {
            members: vec![(ovf_name.to_owned(), ovf.as_bytes().to_vec())],
            manifest: None,
            headers: Headers::Ustar,
        }
    }

    pub fn member(mut self, name: &str, data: &[u8]) -> Self {
        self.members.push((name.to_owned(), data.to_vec()));
        self
    }

    pub fn manifest(mut self, digest: ManifestDigest) -> Self {
        self.manifest = Some(digest);
        self
    }

    pub fn headers(mut self, headers: Headers) -> Self {
        self.headers = headers;
        self
    }

    /// The manifest text this OVA carries: one line per member.
    pub fn manifest_text(&self, digest: ManifestDigest) -> String {
        self.members
            .iter()
            .map(|(name, data)| match digest {
                ManifestDigest::Sha1 => format!("SHA1({name})= {}\n", hex::encode(Sha1::digest(data))),
                ManifestDigest::Sha256 => format!("SHA256({name})= {}\n", hex::encode(Sha256::digest(data))),
            })
            .collect()
    }

    pub fn build(&self) -> Vec<u8> {
        let mut members = self.members.clone();
        if let Some(digest) = self.manifest {
            let stem = members[0].0.rsplit_once('.').map_or(members[0].0.as_str(), |(s, _)| s).to_owned();
            members.insert(1.min(members.len()), (format!("{stem}.mf"), self.manifest_text(digest).into_bytes()));
        }
        let mut tar = Vec::new();
        for (name, data) in &members {
            tar.extend(member_headers(name, data.len() as u64, self.headers));
            tar.extend_from_slice(data);
            tar.resize(tar.len().next_multiple_of(BLOCK), 0);
        }
        tar.extend_from_slice(&[0u8; 2 * BLOCK]);
        tar
    }
}

/// The header block(s) that precede a member's data: a long-name or PAX entry when needed, then the
/// member's own header.
pub fn member_headers(name: &str, size: u64, headers: Headers) -> Vec<u8> {
    let mut out = Vec::new();
    match headers {
        Headers::Ustar => {
            let (prefix, short) = split_ustar(name);
            out.extend(header(short, prefix, size, b'0', Headers::Ustar));
        }
        Headers::Gnu => {
            if name.len() > 100 {
                let long = [name.as_bytes(), b"\0"].concat();
                out.extend(header("././@LongLink", "", long.len() as u64, b'L', Headers::Gnu));
                out.extend_from_slice(&long);
                out.resize(out.len().next_multiple_of(BLOCK), 0);
            }
            out.extend(header(&name[..name.len().min(100)], "", size, b'0', Headers::Gnu));
        }
        Headers::Pax => {
            let mut records = pax_record("path", name);
            if size >= 1 << 33 {
                records.push_str(&pax_record("size", &size.to_string()));
            }
            out.extend(header("PaxHeaders/x", "", records.len() as u64, b'x', Headers::Pax));
            out.extend_from_slice(records.as_bytes());
            out.resize(out.len().next_multiple_of(BLOCK), 0);
            let shown = if size >= 1 << 33 { 0 } else { size };
            out.extend(header(&name[..name.len().min(100)], "", shown, b'0', Headers::Pax));
        }
    }
    out
}

/// One tar header block with a valid checksum.
pub fn header(name: &str, prefix: &str, size: u64, typeflag: u8, style: Headers) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    if size < 1 << 33 {
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    } else {
        // GNU base-256: top bit set, the value big-endian in the remaining bytes.
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    h[136..148].copy_from_slice(b"14700000000\0");
    h[156] = typeflag;
    h[257..265].copy_from_slice(if style == Headers::Gnu { b"ustar  \0" } else { b"ustar\x0000" });
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn split_ustar(name: &str) -> (&str, &str) {
    if name.len() <= 100 {
        return ("", name);
    }
    let cut = name[..name.len().min(156)].rfind('/').expect("a long ustar name needs a '/' to split at");
    (&name[..cut], &name[cut + 1..])
}

fn pax_record(key: &str, value: &str) -> String {
    // The length counts the whole record, its own digits included.
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while len.to_string().len() + body.len() != len {
        len += 1;
    }
    format!("{len}{body}")
}

/// An OVF descriptor to put in an OVA. Defaults: a 64-bit Ubuntu VM, 2 vCPUs, 4096 MiB, one 20 GiB disk
/// `disk1.vmdk`, one NIC, EFI firmware.
#[derive(Debug, Clone)]
pub struct OvfSpec {
    /// 1 (`envelope/1`) or 2 (`envelope/2`).
    pub version: u8,
    pub os_id: u16,
    pub vmw_os_type: Option<String>,
    pub os_description: String,
    pub vcpus: u32,
    /// Quantity and AllocationUnits, as written.
    pub memory: (u64, String),
    /// Capacity and capacityAllocationUnits (empty: attribute left out, meaning bytes).
    pub disks: Vec<(u64, String)>,
    pub nics: u32,
    /// `vmw:Config firmware` value, if any.
    pub firmware: Option<String>,
    /// `ovf:href`s in References.
    pub files: Vec<String>,
}

impl Default for OvfSpec {
    fn default() -> Self {
        OvfSpec {
            version: 1,
            os_id: 94,
            vmw_os_type: Some("ubuntu64Guest".to_owned()),
            os_description: "Ubuntu Linux (64-bit)".to_owned(),
            vcpus: 2,
            memory: (4096, "byte * 2^20".to_owned()),
            disks: vec![(20, "byte * 2^30".to_owned())],
            nics: 1,
            firmware: Some("efi".to_owned()),
            files: vec!["disk1.vmdk".to_owned()],
        }
    }
}

impl OvfSpec {
    pub fn to_xml(&self) -> String {
        let envelope = format!("http://schemas.dmtf.org/ovf/envelope/{}", self.version);
        let files: String = self
            .files
            .iter()
            .enumerate()
            .map(|(i, href)| format!("    <File ovf:href=\"{href}\" ovf:id=\"file{i}\"/>\n"))
            .collect();
        let disks: String = self
            .disks
            .iter()
            .enumerate()
            .map(|(i, (capacity, units))| {
                let units = match units.as_str() {
                    "" => String::new(),
                    units => format!(r#" ovf:capacityAllocationUnits="{units}""#),
                };
                format!(
                    r#"    <Disk ovf:capacity="{capacity}"{units} ovf:diskId="vmdisk{i}" ovf:fileRef="file{i}" ovf:format="{VMDK}"/>
"#
                )
            })
            .collect();
        let os_type = self.vmw_os_type.as_ref().map(|t| format!(" vmw:osType=\"{t}\"")).unwrap_or_default();
        // OVF 2.0 moved NICs to their own item type (CIM_EthernetPortAllocationSettingData).
        let nic = |i: u32| {
            let id = 10 + i;
            if self.version == 2 {
                format!(
                    r#"      <ovf:EthernetPortItem>
        <epasd:ElementName>Network adapter {i}</epasd:ElementName>
        <epasd:InstanceID>{id}</epasd:InstanceID>
        <epasd:ResourceType>10</epasd:ResourceType>
      </ovf:EthernetPortItem>
"#
                )
            } else {
                format!(
                    r#"      <Item>
        <rasd:ElementName>Network adapter {i}</rasd:ElementName>
        <rasd:InstanceID>{id}</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
"#
                )
            }
        };
        let nics: String = (1..=self.nics).map(nic).collect();
        let firmware = self
            .firmware
            .as_ref()
            .map(|f| format!("      <vmw:Config ovf:required=\"false\" vmw:key=\"firmware\" vmw:value=\"{f}\"/>\n"))
            .unwrap_or_default();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-1" xmlns="{envelope}" xmlns:ovf="{envelope}"
    xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
    xmlns:epasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPortAllocationSettingData"
    xmlns:vmw="http://www.vmware.com/schema/ovf"
    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
{files}  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
{disks}  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network"><Description>The VM Network network</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="test-vm">
    <Info>A virtual machine</Info>
    <Name>test-vm</Name>
    <OperatingSystemSection ovf:id="{os_id}"{os_type}>
      <Info>The kind of installed guest operating system</Info>
      <Description>{description}</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>test-vm</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>{vcpus} virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>{vcpus}</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>{memory_units}</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>Memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>{memory}</rasd:VirtualQuantity>
      </Item>
{nics}{firmware}    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"#,
            os_id = self.os_id,
            description = self.os_description,
            vcpus = self.vcpus,
            memory = self.memory.0,
            memory_units = self.memory.1,
        )
    }
}
