//! The `--version` text: the package version, the commit the binary was
//! built from (`build.rs`; `unknown` outside a git checkout) and, for
//! `--version` (not `-V`), the `pci.ids` database names are taken from.

use pci_core::names::PciNames;

/// `0.1.0 (commit 1a2b3c4d5e6f)`: what `-V` prints after the name.
pub const SHORT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PPTCTL_COMMIT"),
    ")"
);

/// The long text when `--version` is on the command line, else [`SHORT`]:
/// finding and indexing `pci.ids` costs time no other run should pay.
pub fn long_if_asked() -> String {
    if std::env::args_os().any(|a| a == "--version") {
        long(PciNames::global())
    } else {
        SHORT.to_string()
    }
}

/// [`SHORT`] plus the `pci.ids` in use: its path, version and date, or the
/// copy built into the binary.
pub fn long(names: &PciNames) -> String {
    let ids = match names.path() {
        Some(p) => {
            let (version, date) = names.version();
            let mut s = format!("pci.ids: {}", p.display());
            match (version, date) {
                (Some(v), Some(d)) => s.push_str(&format!(" (version {v}, {d})")),
                (Some(v), None) => s.push_str(&format!(" (version {v})")),
                (None, Some(d)) => s.push_str(&format!(" ({d})")),
                (None, None) => s.push_str(" (no version in its header)"),
            }
            s
        }
        None => format!(
            "pci.ids: the copy built into pptctl (none of {} is readable)",
            pci_core::names::SYSTEM_PATHS.join(", ")
        ),
    };
    format!("{SHORT}\n{ids}\n{}", storage(fleet::backends()))
}

/// The fleet storage line: the backends built in, or how to add them.
fn storage(backends: &[&str]) -> String {
    if backends.is_empty() {
        "fleet storage: none (cargo install --path cli --features sqlite,postgres)".to_string()
    } else {
        format!("fleet storage: {}", backends.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_names_the_backends_or_how_to_add_them() {
        assert_eq!(
            storage(&["sqlite", "postgres"]),
            "fleet storage: sqlite, postgres"
        );
        assert!(storage(&[]).contains("--features sqlite,postgres"));
    }

    #[test]
    fn long_names_the_file_and_its_version() {
        let n = PciNames::from_text(
            "/usr/share/misc/pci.ids".into(),
            "#\tVersion: 2024.02.26\n#\tDate:    2024-02-26 03:15:02\n".into(),
        );
        let text = long(&n);
        assert!(text.starts_with(SHORT), "{text}");
        assert!(
            text.contains(
                "\npci.ids: /usr/share/misc/pci.ids (version 2024.02.26, 2024-02-26 03:15:02)\n"
            ),
            "{text}"
        );
        assert!(long(&PciNames::embedded()).contains("built into pptctl"));
    }
}
