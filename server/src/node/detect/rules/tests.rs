//! Every rule against the ids real discs carry. `source` says where each id was seen:
//! - `osinfo:<dir>/<file>`: osinfo-db's `tests/isodata/<dir>/<file>.txt`, `isoinfo -d` output of that disc;
//! - `build:<repo> <file>`: the product's own release script, which sets the id;
//! - `memory:` ids we know from the product but could not check against a disc or a script here.

use super::*;

struct Disc {
    volume: &'static str,
    publisher: &'static str,
    application: &'static str,
    system: &'static str,
    root_files: &'static [&'static str],
    cd_info: Option<&'static str>,
    /// family, distribution, version, arch, edition ("" for none).
    expect: (&'static str, &'static str, &'static str, &'static str, &'static str),
    source: &'static str,
}

const fn disc(
    volume: &'static str,
    expect: (&'static str, &'static str, &'static str, &'static str, &'static str),
    source: &'static str,
) -> Disc {
    Disc { volume, publisher: "", application: "", system: "", root_files: &[], cd_info: None, expect, source }
}

const MS: &str = "MICROSOFT CORPORATION";

const DISCS: &[Disc] = &[
    // Windows 10 and 11 carry the same label: the version is both, never a guess.
    Disc {
        publisher: MS,
        ..disc(
            "CCCOMA_X64FRE_EN-US_DV9",
            ("windows", "windows", "10/11", "x86_64", "consumer"),
            "osinfo:win10/en_windows_10_multi-edition_version_1709_updated_sept_2017_x64_dvd_100090817.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "CCCOMA_X64FRE_EN-GB_DV9",
            ("windows", "windows", "10/11", "x86_64", "consumer"),
            "osinfo:win11/Win11_22H2_EnglishInternational_x64v1.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "CCCOMA_A64FRE_EN-GB_DV9",
            ("windows", "windows", "10/11", "aarch64", "consumer"),
            "osinfo:win11/Win11_24H2_EnglishInternational_Arm64.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "J_CENA_X64FREV_EN-US_DV5",
            ("windows", "windows", "10", "x86_64", "enterprise"),
            "osinfo:win10/en_windows_10_enterprise_x64_dvd_6851151.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "CESE_X64FREE_EN-US_DV5",
            ("windows", "windows", "10/11", "x86_64", "enterprise-ltsc-eval"),
            "osinfo:win10/14393.0.160715-1616.RS1_RELEASE_CLIENTENTERPRISE_S_EVAL_X64FRE_EN-US.ISO",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "CEDNA_X86FRE_EN-US_DV5",
            ("windows", "windows", "10/11", "i686", "education-n"),
            "osinfo:win10/en_windows_10_education_n_version_1607_updated_jul_2016_x86_dvd_9055560.iso",
        )
    },
    // Server 2016 and 2019 discs both read SSS_X64FRE(V); osinfo's 2022/2025 entries accept the same ids.
    Disc {
        publisher: MS,
        ..disc(
            "SSS_X64FRE_EN-US_DV9",
            ("windows", "windows-server", "2016/2019/2022/2025", "x86_64", "standard-datacenter"),
            "osinfo:win2k16/en_windows_server_2016_x64_dvd_9718492.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "SSS_X64FREV_EN-US_DV9",
            ("windows", "windows-server", "2016/2019/2022/2025", "x86_64", "standard-datacenter"),
            "osinfo:win2k19/en_windows_server_2019_updated_oct_2020_x64_dvd_7484fc77.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "SSS_X64FREE_EN-US_DV9",
            ("windows", "windows-server", "2016/2019/2022/2025", "x86_64", "standard-datacenter-eval"),
            "memory: the Server 2022 and 2025 evaluation ISOs",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "SESS_X64FRE_EN-US_DV9",
            ("windows", "windows-server", "2016/2019", "x86_64", "essentials"),
            "osinfo:win2k16/en_windows_server_2016_essentials_x64_dvd_9719598.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "SHV_X64FRE_EN-US_DV9",
            ("windows", "windows-server", "2016/2019", "x86_64", "hyper-v"),
            "osinfo:win2k16/14393.0.161119-1705.RS1_REFRESH_SERVERHYPERCORE_OEM_X64FRE_EN-US.ISO",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "IR5_SSS_X64FREV_EN-US_DV9",
            ("windows", "windows-server", "2012 R2", "x86_64", "standard-datacenter"),
            "osinfo:win2k12r2/en_windows_server_2012_r2_vl_with_update_x64_dvd_6052766.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc(
            "HRM_SSS_X64FREV_EN-US_DV5",
            ("windows", "windows-server", "2012", "x86_64", "standard-datacenter"),
            "osinfo:win2k12/en_windows_server_2012_vl_x64_dvd_917758.iso",
        )
    },
    Disc {
        publisher: MS,
        ..disc("IR5_CCSA_X64FRE_EN-US_DV9", ("windows", "windows", "8.1", "x86_64", "consumer"), "osinfo:win8.1")
    },
    Disc {
        publisher: MS,
        ..disc("HRM_CPRA_X64FREV_EN-US_DV5", ("windows", "windows", "8", "x86_64", "pro"), "osinfo:win8")
    },
    disc(
        "virtio-win-0.1.240",
        ("windows", "virtio-win", "0.1.240", "", "drivers"),
        "build:virtio-win/virtio-win-pkg-scripts virtio-win.spec (mkisofs -V \"%{name}-%{version}\")",
    ),
    // Ubuntu: desktop images are the live session; `Ubuntu-Server` marks the (live-)server installer.
    disc(
        "Ubuntu 24.04 LTS amd64",
        ("linux", "ubuntu", "24.04", "x86_64", "desktop"),
        "osinfo:ubuntu24.04/ubuntu-24.04-desktop-amd64.iso",
    ),
    disc(
        "Ubuntu 23.10.1 amd64",
        ("linux", "ubuntu", "23.10.1", "x86_64", "desktop"),
        "osinfo:ubuntu23.10/ubuntu-23.10.1-desktop-amd64.iso",
    ),
    disc(
        "Ubuntu 25.10 arm64",
        ("linux", "ubuntu", "25.10", "aarch64", "desktop"),
        "osinfo:ubuntu25.10/ubuntu-25.10-desktop-arm64.iso",
    ),
    disc(
        "Ubuntu-Server 24.04 LTS amd64",
        ("linux", "ubuntu", "24.04", "x86_64", "server"),
        "osinfo:ubuntu24.04/ubuntu-24.04-live-server-amd64.iso",
    ),
    disc(
        "Ubuntu-Server 24.04.2 LTS riscv",
        ("linux", "ubuntu", "24.04.2", "riscv64", "server"),
        "osinfo:ubuntu24.04/ubuntu-24.04-live-server-riscv64.iso",
    ),
    disc(
        "Ubuntu-Server 22.04 LTS ppc64",
        ("linux", "ubuntu", "22.04", "ppc64le", "server"),
        "osinfo:ubuntu22.04/ubuntu-22.04-live-server-ppc64el-iso",
    ),
    disc(
        "Edubuntu 24.04.1 LTS amd64",
        ("linux", "edubuntu", "24.04.1", "x86_64", "desktop"),
        "osinfo:ubuntu24.04/edubuntu-24.04-amd64-desktop.iso",
    ),
    // Debian: `n` is netinst, a digit the disc of the full set, `d-live` the live images.
    disc(
        "Debian 12.0.0 amd64 n",
        ("linux", "debian", "12.0.0", "x86_64", "netinst"),
        "osinfo:debian12/debian-12.0.0-amd64-netinst.iso",
    ),
    disc(
        "Debian 12.0.0 amd64 1",
        ("linux", "debian", "12.0.0", "x86_64", "dvd"),
        "osinfo:debian12/debian-12.0.0-amd64-DVD-1.iso",
    ),
    disc(
        "Debian 13.0.0 p64el n",
        ("linux", "debian", "13.0.0", "ppc64le", "netinst"),
        "osinfo:debian13/debian-13.0.0-ppc64el-netinst.iso",
    ),
    disc(
        "Debian testing arm64 n",
        ("linux", "debian", "testing", "aarch64", "netinst"),
        "osinfo:debiantesting/debian-testing-arm64-netinst.iso",
    ),
    disc(
        "d-live 13.0.0 gn amd64",
        ("linux", "debian", "13.0.0", "x86_64", "live"),
        "osinfo:debian13/debian-live-13.0.0-amd64-gnome.iso",
    ),
    // Fedora: the product letter (WS, S, E) is the edition; netinst and dvd share the `dvd` label.
    disc(
        "Fedora-WS-Live-42",
        ("linux", "fedora", "42", "", "workstation"),
        "osinfo:fedora42/Fedora-Workstation-Live-x86_64-42-1.1.iso",
    ),
    disc(
        "Fedora-WS-Live-33-1-2",
        ("linux", "fedora", "33", "", "workstation"),
        "osinfo:fedora33/Fedora-Workstation-Live-x86_64-33-1.2.iso",
    ),
    disc(
        "Fedora-S-dvd-x86_64-43",
        ("linux", "fedora", "43", "x86_64", "server"),
        "osinfo:fedora43/Fedora-Server-dvd-x86_64-43-1.6.iso",
    ),
    disc(
        "Fedora-S-dvd-s390x-41",
        ("linux", "fedora", "41", "s390x", "server"),
        "osinfo:fedora41/Fedora-Server-netinst-s390x-41-1.4.iso",
    ),
    disc(
        "Fedora-E-dvd-aarch64-44",
        ("linux", "fedora", "44", "aarch64", "everything"),
        "osinfo:fedora44/Fedora-Everything-netinst-aarch64-44-1.7.iso",
    ),
    disc(
        "Fedora-E-dvd-x86_64-rawh",
        ("linux", "fedora", "rawhide", "x86_64", "everything"),
        "osinfo:fedora-rawhide/Fedora-Everything-netinst-x86_64-Rawhide-20220601.n.0.iso",
    ),
    disc(
        "Fedora-SB-ostree-x86_64-43",
        ("linux", "fedora", "43", "x86_64", "silverblue"),
        "osinfo:silverblue43/Fedora-Silverblue-ostree-x86_64-43-1.6.iso",
    ),
    disc(
        "RHEL-9-4-0-BaseOS-x86_64",
        ("linux", "rhel", "9.4", "x86_64", "installer"),
        "osinfo:rhel9.4/RHEL-9.4.0-20240508.46-x86_64-dvd1.iso",
    ),
    disc(
        "RHEL-10-0-BaseOS-aarch64",
        ("linux", "rhel", "10.0", "aarch64", "installer"),
        "osinfo:rhel10.0/RHEL-10.0-20250410.6-BaseOS-aarch64-boot.iso",
    ),
    disc(
        "RHEL-7.9 Server.x86_64",
        ("linux", "rhel", "7.9", "x86_64", "server"),
        "osinfo:rhel7.9/RHEL-7.9-20200422.0-Server-x86_64-boot.iso",
    ),
    disc(
        "Rocky-9-4-x86_64-dvd",
        ("linux", "rocky", "9.4", "x86_64", "installer"),
        "osinfo:rocky9 (Rocky-9.x-x86_64-dvd.iso pattern; 9.0 disc: Rocky-9-0-x86_64-dvd)",
    ),
    disc(
        "Rocky-10-0-aarch64-dvd",
        ("linux", "rocky", "10.0", "aarch64", "installer"),
        "osinfo:rocky10/Rocky-10.0-aarch64-minimal.iso",
    ),
    disc(
        "Rocky-10-0-Workstation",
        ("linux", "rocky", "10.0", "", "workstation"),
        "osinfo:rocky10/Rocky-10.0-Workstation-x86_64-20250529.3.iso",
    ),
    disc("Rocky-KDE-9-0", ("linux", "rocky", "9.0", "", "live"), "osinfo:rocky9/Rocky-KDE-9.0-x86_64-20220712.0.iso"),
    disc(
        "AlmaLinux-9-1-x86_64-dvd",
        ("linux", "almalinux", "9.1", "x86_64", "installer"),
        "osinfo:almalinux9/AlmaLinux-9.1-x86_64-dvd.iso",
    ),
    disc(
        "AlmaLinux-9_5-x86_64-Live-GNOME",
        ("linux", "almalinux", "9.5", "x86_64", "live"),
        "osinfo:almalinux9/AlmaLinux-9.5-x86_64-Live-GNOME.iso",
    ),
    disc(
        "AlmaLinux-10-0-s390x-dvd",
        ("linux", "almalinux", "10.0", "s390x", "installer"),
        "osinfo:almalinux10/AlmaLinux-10.0-s390x-dvd.iso",
    ),
    disc(
        "AlmaLinux-Kitten-10-x86_64",
        ("linux", "almalinux-kitten", "10", "x86_64", ""),
        "osinfo:almalinux-kitten10/AlmaLinux-Kitten-10-20241227.0-x86_64-dvd.iso",
    ),
    disc(
        "CentOS-Stream-9-BaseOS-x86_64",
        ("linux", "centos-stream", "9", "x86_64", "installer"),
        "osinfo:centos-stream9/CentOS-Stream-9-latest-x86_64-dvd1.iso",
    ),
    disc(
        "CentOS-Stream-10-BaseOS-aarch64",
        ("linux", "centos-stream", "10", "aarch64", "installer"),
        "osinfo:centos-stream10/CentOS-Stream-10-latest-aarch64-dvd1.iso",
    ),
    disc(
        "CentOS_Stream_8_ppc64le_dvd",
        ("linux", "centos-stream", "8", "ppc64le", "installer"),
        "osinfo:centos-stream8/CentOS-Stream-8-ppc64le-20191219-boot.iso",
    ),
    disc(
        "CentOS-8-5-2111-x86_64-dvd",
        ("linux", "centos", "8.5.2111", "x86_64", "installer"),
        "osinfo:centos8/CentOS-8.5.2111-x86_64-boot.iso",
    ),
    disc(
        "CentOS-7-x86_64-LiveGNOME-1804",
        ("linux", "centos", "7", "x86_64", "live"),
        "osinfo:centos7.0/CentOS-7-x86_64-LiveGNOME-1804.iso",
    ),
    // SUSE: the volume id runs the arch into the build number; the application id has it whole.
    Disc {
        application: "openSUSE-Leap-15.6-DVD-x86_64-Build710.3-Media",
        ..disc(
            "openSUSE-Leap-15.6-DVD-x86_64710",
            ("linux", "opensuse-leap", "15.6", "x86_64", "dvd"),
            "osinfo:opensuse15.6/openSUSE-Leap-15.6-DVD-x86_64-Current.iso",
        )
    },
    Disc {
        application: "openSUSE-Leap-15.6-NET-aarch64-Build710.3-Media",
        ..disc(
            "openSUSE-Leap-15.6-NET-aarch6471",
            ("linux", "opensuse-leap", "15.6", "aarch64", "netinst"),
            "osinfo:opensuse15.6/openSUSE-Leap-15.6-NET-aarch64-Current.iso",
        )
    },
    Disc {
        application: "0X149E664E",
        ..disc(
            "openSUSE_Leap_15.6_GNOME_Live",
            ("linux", "opensuse-leap", "15.6", "", "live"),
            "osinfo:opensuse15.6/openSUSE-Leap-15.6-GNOME-Live-x86_64-Media.iso",
        )
    },
    Disc {
        application: "Leap-16.0-offline-installer-x86_64-Build190.4",
        ..disc(
            "Install-Leap-16.0-x86_64",
            ("linux", "opensuse-leap", "16.0", "x86_64", "dvd"),
            "osinfo:opensuse16.0/Leap-16.0-offline-installer-x86_64-Build171.1.install.iso",
        )
    },
    Disc {
        application: "openSUSE-Tumbleweed-DVD-x86_64-Build3621.2-Media",
        ..disc(
            "openSUSE-Tumbleweed-DVD-x86_64",
            ("linux", "opensuse-tumbleweed", "", "x86_64", "dvd"),
            "osinfo:opensusetumbleweed/openSUSE-Tumbleweed-DVD-x86_64-Snapshot20230514-Media.iso",
        )
    },
    Disc {
        application: "openSUSE-Tumbleweed-NET-x86_64-Build3621.2-Media",
        ..disc(
            "openSUSE-Tumbleweed-NET-x86_64",
            ("linux", "opensuse-tumbleweed", "", "x86_64", "netinst"),
            "osinfo:opensusetumbleweed/openSUSE-Tumbleweed-NET-x86_64-Snapshot20230514-Media.iso",
        )
    },
    Disc {
        application: "SLE-15-SP6-Full-x86_64-Build92.1-Media1",
        ..disc(
            "SLE-15-SP6-Full-x86_6492.11.001",
            ("linux", "sles", "15-SP6", "x86_64", "dvd"),
            "osinfo:sle15sp6/SLE-15-SP6-Full-x86_64-GM-Media1.iso",
        )
    },
    Disc {
        application: "SLE-15-SP5-Online-aarch64-Build102.1-Media1",
        ..disc(
            "SLE-15-SP5-Online-aarch64102.001",
            ("linux", "sles", "15-SP5", "aarch64", "netinst"),
            "osinfo:sle15sp5/SLE-15-SP5-Online-aarch64-GM-Media1.iso",
        )
    },
    Disc {
        application: "SLE-12-SP5-Server-DVD-x86_64-Build0372-Media1",
        ..disc(
            "SLE-12-SP5-Server-DVD-x86_640372",
            ("linux", "sles", "12-SP5", "x86_64", "dvd"),
            "osinfo:sles12sp5/SLE-12-SP5-Server-DVD-x86_64-GM-DVD1.iso",
        )
    },
    Disc {
        application: "SLES-11-SP4-DVD-x86_64-Build1221-Media1",
        ..disc(
            "SLES-11-SP4-DVD-x86_6412211",
            ("linux", "sles", "11-SP4", "x86_64", "dvd"),
            "osinfo:sles11sp4/SLES-11-SP4-DVD-x86_64-GM-DVD1.iso",
        )
    },
    Disc {
        application: "SLES-16.0-Full-x86_64-Build135.5",
        ..disc(
            "Install-SUSE-SLE-16-x86_64",
            ("linux", "sles", "16.0", "x86_64", "dvd"),
            "osinfo:sles16.0/SLES-16.0-Full-x86_64-GM.install.iso",
        )
    },
    Disc {
        publisher: "ARCH LINUX <HTTPS://ARCHLINUX.ORG>",
        application: "ARCH LINUX LIVE/RESCUE DVD",
        ..disc(
            "ARCH_202402",
            ("linux", "arch", "2024.02", "", "live"),
            "osinfo:archlinux/archlinux-2024.02.01-x86_64.iso",
        )
    },
    disc(
        "alpine-std 3.21.0 x86_64",
        ("linux", "alpine", "3.21.0", "x86_64", "standard"),
        "osinfo:alpinelinux3.21/alpine-standard-3.21.0-x86_64.iso",
    ),
    disc(
        "alpine-virt 3.20.0 aarch64",
        ("linux", "alpine", "3.20.0", "aarch64", "virt"),
        "osinfo:alpinelinux3.20/alpine-virt-3.20.0-aarch64.iso",
    ),
    disc(
        "alpine-ext 3.19.0 x86",
        ("linux", "alpine", "3.19.0", "i686", "extended"),
        "osinfo:alpinelinux3.19/alpine-extended-3.19.0-x86.iso",
    ),
    Disc {
        system: "FreeBSD",
        publisher: "THE FREEBSD PROJECT.  HTTPS://WWW.FREEBSD.ORG/",
        ..disc(
            "14_1_RELEASE_AMD64_CD",
            ("bsd", "freebsd", "14.1", "x86_64", "disc1"),
            "osinfo:freebsd14.1/FreeBSD-14.1-RELEASE-amd64-disc1.iso",
        )
    },
    Disc {
        system: "FreeBSD",
        ..disc(
            "15_0_RELEASE_AARCH64_DVD",
            ("bsd", "freebsd", "15.0", "aarch64", "dvd"),
            "osinfo:freebsd15.0/FreeBSD-15.0-RELEASE-arm64-aarch64-dvd1.iso",
        )
    },
    Disc {
        system: "FreeBSD",
        ..disc(
            "11_0_RELEASE_P1_AMD64_CD",
            ("bsd", "freebsd", "11.0", "x86_64", "disc1"),
            "osinfo:freebsd11.0/FreeBSD-11.0-RELEASE-amd64-disc1.iso",
        )
    },
    disc(
        "ESXI-8.0U2-22380479-STANDARD",
        ("other", "esxi", "8.0U2", "", "installer"),
        "memory: the image profile ESXi-8.0U2-22380479-standard, upper-cased as VMware's ISO label",
    ),
    Disc {
        cd_info: Some("PRODUCT='pve'\nPRODUCTLONG='Proxmox VE'\nRELEASE='8.1'\nISORELEASE='1'\nISONAME='proxmox-ve'"),
        root_files: &[".cd-info", "boot", "proxmox"],
        ..disc(
            "PVE",
            ("linux", "proxmox", "8.1", "", "installer"),
            "build:proxmox/pve-installer Makefile (cd-info keys) and Proxmox/Install/ISOEnv.pm (reads /.cd-info)",
        )
    },
    Disc {
        cd_info: Some("PRODUCT='pbs'\nRELEASE='3.2'"),
        ..disc(
            "PBS",
            ("linux", "proxmox-backup-server", "3.2", "", "installer"),
            "build:proxmox/pve-installer Makefile (ISONAME='proxmox-backup-server' target)",
        )
    },
    Disc {
        cd_info: Some("PRODUCT='pmg'\nRELEASE='8.1'"),
        ..disc(
            "PMG",
            ("linux", "proxmox-mail-gateway", "8.1", "", "installer"),
            "build:proxmox/pve-installer Makefile (ISONAME='proxmox-mail-gateway' target)",
        )
    },
    disc(
        "PVE",
        ("linux", "proxmox", "", "", "installer"),
        "memory: Proxmox VE ISOs' volume label (blkid LABEL=\"PVE\")",
    ),
    Disc {
        root_files: &["TrueNAS-SCALE.update", "boot", "live", "vmlinuz"],
        ..disc(
            "ISOIMAGE",
            ("linux", "truenas", "", "", "scale"),
            "build:truenas/scale-build scale_build/image/iso.py (grub-mkrescue without -volid; TrueNAS-SCALE.update)",
        )
    },
    disc(
        "TrueNAS_INSTALL",
        ("bsd", "truenas", "", "", "core"),
        "build:FreeNAS/TrueNAS CORE build/tools/create_iso.sh (CDROM_LABEL=${NANO_LABEL}_INSTALL, NANO_LABEL=TrueNAS)",
    ),
    Disc {
        publisher: "PFSENSE PROJECT.",
        ..disc(
            "PFSENSE",
            ("bsd", "pfsense", "", "", "installer"),
            "build:pfsense/pfsense tools/builder_common.sh (makefs -o label=upper-cased PRODUCT_NAME)",
        )
    },
    disc(
        "OPNSENSE_INSTALL",
        ("bsd", "opnsense", "", "", "installer"),
        "build:opnsense/tools build/dvd.sh (DVDLABEL=${PRODUCT_NAME}_Install, upper-cased)",
    ),
];

fn probe_of(d: &Disc) -> IsoProbe {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    IsoProbe {
        volume_id: some(d.volume),
        publisher_id: some(d.publisher),
        application_id: some(d.application),
        system_id: some(d.system),
        root_files: d.root_files.iter().map(|s| s.to_string()).collect(),
        cd_info: d.cd_info.map(str::to_owned),
        ..IsoProbe::default()
    }
}

fn expected(d: &Disc) -> OsInfo {
    let (family, distribution, version, arch, edition) = d.expect;
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    OsInfo {
        family: super::super::family::ALL.into_iter().find(|f| *f == family).expect("a known family"),
        distribution: distribution.to_owned(),
        version: some(version),
        arch: some(arch),
        edition: some(edition),
    }
}

#[test]
fn every_real_disc_is_classified_as_what_it_is() {
    let wrong: Vec<String> = DISCS
        .iter()
        .filter_map(|d| {
            let got = classify(&probe_of(d));
            (got.as_ref() != Some(&expected(d))).then(|| format!("{} ({}): got {got:?}", d.volume, d.source))
        })
        .collect();
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
}

#[test]
fn every_rule_is_exercised_by_a_real_disc() {
    let used: Vec<usize> = DISCS.iter().filter_map(|d| matching_rule(&probe_of(d)).map(|(i, _)| i)).collect();
    let unused: Vec<String> =
        (0..RULES.len()).filter(|i| !used.contains(i)).map(|i| format!("{:?}", RULES[i].when)).collect();
    assert!(unused.is_empty(), "rules without a real disc: {unused:?}");
}

#[test]
fn windows_client_and_server_labels_are_never_confused() {
    let client = classify(&probe_of(&DISCS[0])).unwrap();
    let server = classify(&probe_of(&DISCS[6])).unwrap();
    assert_eq!((client.distribution.as_str(), server.distribution.as_str()), ("windows", "windows-server"));
}

#[test]
fn a_joliet_or_udf_name_is_matched_when_the_pvd_has_none() {
    let probe = IsoProbe { udf_volume_id: Some("CCCOMA_X64FRE_EN-US_DV9".into()), udf: true, ..IsoProbe::default() };
    assert_eq!(classify(&probe).map(|i| i.distribution), Some("windows".to_owned()));
    let probe = IsoProbe { joliet_volume_id: Some("Ubuntu 24.04 LTS amd64".into()), ..IsoProbe::default() };
    assert_eq!(classify(&probe).map(|i| i.version), Some(Some("24.04".to_owned())));
}

#[test]
fn unknown_and_generic_ids_are_not_classified() {
    for volume in ["ISOIMAGE", "CDROM", "disc1", "NEW_VOLUME", "UBUNTUX 24.04", "SLESX-15", ""] {
        let probe = IsoProbe { volume_id: Some(volume.to_owned()), ..IsoProbe::default() };
        assert_eq!(classify(&probe), None, "{volume}");
    }
    assert_eq!(classify(&IsoProbe::default()), None);
}

#[test]
fn case_does_not_matter_where_discs_vary() {
    let probe = IsoProbe { volume_id: Some("UBUNTU 24.04 LTS AMD64".into()), ..IsoProbe::default() };
    assert_eq!(classify(&probe).and_then(|i| i.arch), Some("x86_64".to_owned()));
}

#[test]
fn default_folders_follow_the_filename_guessers_layout() {
    let folder = |family| {
        default_folder(&OsInfo { family, distribution: String::new(), version: None, arch: None, edition: None })
    };
    assert_eq!(folder(WINDOWS), "/windows");
    assert_eq!(folder(LINUX), "/linux");
    assert_eq!(folder(BSD), "/other");
    assert_eq!(folder(OTHER), "/other");
}
