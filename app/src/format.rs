//! Numbers and times as people read them.

/// `1536` → `1.5 KiB`; binary units, because disk and ISO sizes are read that way by admins. Integer
/// arithmetic only: float formatting would add kilobytes to the browser build.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut unit = 0;
    let mut scale: u128 = 1;
    while (n as u128) >= scale * 1024 && unit < UNITS.len() - 1 {
        scale *= 1024;
        unit += 1;
    }
    // Tenths, rounded half up.
    let tenths = ((n as u128) * 10 + scale / 2) / scale;
    if tenths >= 1000 {
        format!("{} {}", (tenths + 5) / 10, UNITS[unit])
    } else {
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    }
}

/// "Ubuntu 24.04", "Windows Server 2022", "Linux": the OS of an image as people name it.
pub fn os_label(family: Option<&str>, distribution: Option<&str>, version: Option<&str>) -> Option<String> {
    let name = match distribution.or(family)? {
        "rhel" => "RHEL".to_owned(),
        "sles" => "SLES".to_owned(),
        "opensuse" => "openSUSE".to_owned(),
        "freebsd" => "FreeBSD".to_owned(),
        "openbsd" => "OpenBSD".to_owned(),
        "netbsd" => "NetBSD".to_owned(),
        "truenas" => "TrueNAS".to_owned(),
        "pfsense" => "pfSense".to_owned(),
        "opnsense" => "OPNsense".to_owned(),
        "nixos" => "NixOS".to_owned(),
        "almalinux" => "AlmaLinux".to_owned(),
        "pop-os" => "Pop!_OS".to_owned(),
        "virtio-win" => "VirtIO drivers".to_owned(),
        "bsd" => "BSD".to_owned(),
        other => other
            .split('-')
            .map(|w| {
                // ASCII only: distribution ids are ASCII, and Unicode case tables would add ~10 KiB to the WASM.
                let mut c = w.chars();
                c.next().map(|f| format!("{}{}", f.to_ascii_uppercase(), c.as_str())).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" "),
    };
    Some(match version {
        Some(v) => format!("{name} {v}"),
        None => name,
    })
}

/// `s` in lower case, for case-insensitive matching. In the browser this is JavaScript's `toLowerCase`: full
/// Unicode without Rust's case tables in the WASM (~20 KiB of the bundle); on the server, Rust's own.
pub fn lowercase(s: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        js_sys::JsString::from(s).to_lower_case().into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        s.to_lowercase()
    }
}

/// A duration in seconds as `42 s`, `3 min`, `2 h 5 min`.
pub fn duration_secs(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "–".into();
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// How long ago a Unix time was, relative to `now` (both in seconds).
pub fn ago(then: i64, now: i64) -> String {
    let d = (now - then).max(0);
    match d {
        0..5 => "just now".into(),
        5..60 => format!("{d} s ago"),
        60..3600 => format!("{} min ago", d / 60),
        3600..86400 => format!("{} h ago", d / 3600),
        _ => format!("{} days ago", d / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(4_700_000_000), "4.4 GiB");
        assert_eq!(bytes(300 << 20), "300 MiB");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1_048_575), "1024 KiB");
        assert_eq!(bytes(10 << 30), "10.0 GiB");
        assert_eq!(bytes(u64::MAX), "16384 PiB");
    }

    #[test]
    fn os_labels() {
        assert_eq!(os_label(Some("linux"), Some("ubuntu"), Some("24.04")).as_deref(), Some("Ubuntu 24.04"));
        assert_eq!(
            os_label(Some("windows"), Some("windows-server"), Some("2022")).as_deref(),
            Some("Windows Server 2022")
        );
        assert_eq!(os_label(Some("linux"), None, None).as_deref(), Some("Linux"));
        assert_eq!(os_label(Some("bsd"), Some("freebsd"), Some("14.0")).as_deref(), Some("FreeBSD 14.0"));
        assert_eq!(os_label(None, None, Some("1")), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_secs(4.4), "4 s");
        assert_eq!(duration_secs(125.0), "2 min 5 s");
        assert_eq!(duration_secs(7300.0), "2 h 1 min");
        assert_eq!(duration_secs(f64::INFINITY), "–");
        assert_eq!(ago(100, 100), "just now");
        assert_eq!(ago(0, 120), "2 min ago");
    }
}
