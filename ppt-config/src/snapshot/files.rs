//! Captured configuration files and module directories as the document
//! records them, and back.

use pci_core::text::Escaped;
use pci_illumos::files::{CapturedDir, CapturedFile, DirState, FileState, Origin};

use super::{base64, DirV2, FileV2};

pub(crate) fn file_v2(f: &CapturedFile) -> FileV2 {
    let mut out = FileV2 {
        origin: f.origin.as_str().to_string(),
        path: f.path.clone(),
        state: String::new(),
        encoding: None,
        content: None,
        error: None,
        size: None,
    };
    match &f.state {
        FileState::Present(b) => {
            out.state = "present".into();
            match std::str::from_utf8(b) {
                Ok(t) => {
                    out.encoding = Some("text".into());
                    out.content = Some(t.to_string());
                }
                Err(_) => {
                    out.encoding = Some("base64".into());
                    out.content = Some(base64::encode(b));
                }
            }
        }
        FileState::Absent => out.state = "absent".into(),
        FileState::Unreadable { message, .. } => {
            out.state = "unreadable".into();
            out.error = Some(message.clone());
        }
        FileState::TooLarge { size } => {
            out.state = "too-large".into();
            out.size = Some(*size);
        }
    }
    out
}

pub(crate) fn captured_file(f: &FileV2) -> Result<CapturedFile, String> {
    // The path is shown in messages: escaped (pci_core::text).
    let path = Escaped(&f.path);
    let origin = match f.origin.as_str() {
        "root" => Origin::Root,
        "boot-media" => Origin::BootMedia,
        o => return Err(format!("config file {path}: unknown origin {o:?}")),
    };
    let state = match f.state.as_str() {
        "present" => {
            let content = f.content.as_deref().unwrap_or("");
            match f.encoding.as_deref() {
                Some("text") | None => FileState::Present(content.as_bytes().to_vec()),
                Some("base64") => FileState::Present(
                    base64::decode(content)
                        .ok_or_else(|| format!("config file {path}: invalid base64"))?,
                ),
                Some(e) => return Err(format!("config file {path}: unknown encoding {e:?}")),
            }
        }
        "absent" => FileState::Absent,
        "unreadable" => FileState::Unreadable {
            kind: std::io::ErrorKind::Other,
            message: f.error.clone().unwrap_or_default(),
        },
        "too-large" => FileState::TooLarge {
            size: f.size.unwrap_or(0),
        },
        s => return Err(format!("config file {path}: unknown state {s:?}")),
    };
    Ok(CapturedFile {
        origin,
        path: f.path.clone(),
        state,
    })
}

pub(crate) fn dir_v2(d: &CapturedDir) -> DirV2 {
    let (state, entries, error) = match &d.state {
        DirState::Listed(names) => ("listed", names.iter().cloned().collect(), None),
        DirState::Absent => ("absent", Vec::new(), None),
        DirState::Unreadable { message, .. } => ("unreadable", Vec::new(), Some(message.clone())),
    };
    DirV2 {
        path: d.path.clone(),
        state: state.to_string(),
        entries,
        error,
    }
}

pub(crate) fn captured_dir(d: &DirV2) -> Result<CapturedDir, String> {
    let path = Escaped(&d.path);
    let state = match d.state.as_str() {
        "listed" => DirState::Listed(d.entries.iter().cloned().collect()),
        "absent" => DirState::Absent,
        "unreadable" => DirState::Unreadable {
            kind: std::io::ErrorKind::Other,
            message: d.error.clone().unwrap_or_default(),
        },
        s => return Err(format!("module dir {path}: unknown state {s:?}")),
    };
    Ok(CapturedDir {
        path: d.path.clone(),
        state,
    })
}
