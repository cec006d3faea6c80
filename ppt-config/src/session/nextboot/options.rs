//! The boot properties of the next boot that disable drivers.
//!
//! `check_driver_disable` (illumos-gate `usr/src/uts/i86pc/os/ddi_impl.c`)
//! looks up, for every driver in `name_to_major`, the root node's string
//! property `disable-<driver>`; when its value is exactly `true` the
//! driver is marked removed (`DN_DRIVER_REMOVED`, the mark `rem_drv`
//! leaves too), and the kernel binds no node to it. The property comes
//! from the boot properties:
//!
//! * `-B name=value,...` on the kernel's command line (GRUB's `kernel`
//!   line; the loader's `boot-args`), read by `build_boot_properties` in
//!   `usr/src/uts/i86pc/os/fakebop.c`;
//! * the loader's environment (every `name=value` of its configuration
//!   that is not a module stanza), which the loader hands over as a module
//!   of type `environment`;
//! * `/boot/solaris/bootenv.rc` in the boot archive, `setprop name value`
//!   lines (`read_bootenvrc` in fakebop.c), on gate-based roots.
//!
//! Where two of these give one property different values the prediction
//! says it cannot tell which the kernel keeps.

use std::collections::BTreeMap;

/// One boot property setting and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootOption {
    /// The property name (`disable-ppt`).
    pub name: String,
    /// Its value, quotes removed.
    pub value: String,
    /// `file:line` that sets it.
    pub by: String,
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Splits a `-B` argument at commas outside quotes.
fn props(arg: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quote) = (0, None);
    for (i, c) in arg.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (',', None) => {
                out.push(&arg[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&arg[start..]);
    out
}

/// The `-B` properties of a kernel command line's words (`-B a=b` or
/// `-Ba=b`), each attributed to `by`.
pub fn from_command_line<S: AsRef<str>>(words: &[S], by: &str) -> Vec<BootOption> {
    let mut out = Vec::new();
    let mut it = words.iter().map(AsRef::as_ref);
    while let Some(w) = it.next() {
        let arg = match w.strip_prefix("-B") {
            Some("") => it.next().unwrap_or(""),
            Some(rest) => rest,
            None => continue,
        };
        for p in props(arg).into_iter().filter(|p| !p.is_empty()) {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            out.push(BootOption {
                name: name.to_string(),
                value: unquote(value).to_string(),
                by: by.to_string(),
            });
        }
    }
    out
}

/// The `setprop` lines of a `bootenv.rc` text (`file` names it).
pub fn from_bootenv_rc(file: &str, text: &str) -> Vec<BootOption> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let mut w = l.split_whitespace();
            (w.next()? == "setprop").then_some(())?;
            let name = w.next()?;
            let value = w.collect::<Vec<_>>().join(" ");
            Some(BootOption {
                name: name.to_string(),
                value: unquote(&value).to_string(),
                by: format!("{file}:{}", i + 1),
            })
        })
        .collect()
}

/// The drivers the next boot disables and the settings it cannot judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disabled {
    /// Driver name → the `file:line` of the `disable-<driver>=true` that
    /// disables it.
    pub drivers: BTreeMap<String, String>,
    /// `disable-<driver>` set to different values in different places:
    /// the message names each.
    pub conflicts: Vec<String>,
}

/// What `options` disable (`check_driver_disable`: the value must be
/// exactly `true`).
pub fn disabled(options: &[BootOption]) -> Disabled {
    let mut by_driver: BTreeMap<&str, Vec<&BootOption>> = BTreeMap::new();
    for o in options {
        if let Some(d) = o.name.strip_prefix("disable-").filter(|d| !d.is_empty()) {
            by_driver.entry(d).or_default().push(o);
        }
    }
    let mut out = Disabled::default();
    for (driver, set) in by_driver {
        let first = &set[0].value;
        if set.iter().any(|o| &o.value != first) {
            let each: Vec<String> = set
                .iter()
                .map(|o| format!("{}={} ({})", o.name, o.value, o.by))
                .collect();
            out.conflicts.push(format!(
                "the boot options set disable-{driver} differently: {}; which the kernel keeps is not predicted",
                each.join(", ")
            ));
        } else if first == "true" {
            out.drivers.insert(driver.to_string(), set[0].by.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_and_bootenv() {
        let o = from_command_line(
            &[
                "-B",
                "console=text,disable-ppt=true",
                "-Bdisable-nvme='true'",
            ],
            "m:3",
        );
        assert_eq!(o.len(), 3);
        let d = disabled(&o);
        assert_eq!(d.drivers.len(), 2);
        assert_eq!(d.drivers["nvme"], "m:3");
        let rc = from_bootenv_rc("/boot/solaris/bootenv.rc", "setprop disable-ppt 'false'\n");
        let mut all = o.clone();
        all.extend(rc);
        let d = disabled(&all);
        assert!(!d.drivers.contains_key("ppt"));
        assert_eq!(d.conflicts.len(), 1, "{d:?}");
        assert!(d.conflicts[0].contains("/boot/solaris/bootenv.rc:1"));
        let d = disabled(&from_command_line(&["-B", "disable-ppt=yes"], "m:1"));
        assert!(d.drivers.is_empty(), "only `true` disables");
    }
}
