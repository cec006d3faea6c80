//! Which N devices of one host a request gets, under a topology
//! constraint. Greedy and linear in the host's devices: identical devices
//! are interchangeable, so the first fitting ones are taken and no
//! combination is ever enumerated (8 GPUs choose 6 is 28 sets, and
//! placement never looks at them).

use std::collections::BTreeMap;

use serde::Serialize;

/// Where the N devices must sit relative to each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Constraint {
    /// Anywhere on the host.
    #[default]
    None,
    /// All below one PCIe root complex (`--same root-complex`).
    SameRoot,
    /// All on one NUMA node (`--same numa`).
    SameNuma,
    /// Each below a different root complex (`--spread root-complex`).
    SpreadRoot,
}

impl Constraint {
    /// The constraint as the options spell it, ` with --same …`, or empty.
    pub fn describe(self) -> String {
        match self {
            Constraint::None => String::new(),
            Constraint::SameRoot => " with --same root-complex".to_string(),
            Constraint::SameNuma => " with --same numa".to_string(),
            Constraint::SpreadRoot => " with --spread root-complex".to_string(),
        }
    }
}

/// One free device a request may get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// `DDDD:BB:DD`.
    pub device: String,
    /// The PCIe root it sits below (`None`: not recorded).
    pub pcie_root: Option<String>,
    /// Its NUMA node (`None`: not recorded).
    pub numa_node: Option<i64>,
}

/// Indexes into `devs` (address order) of the `n` devices to take, or why
/// the constraint cannot be met.
pub fn pick(devs: &[Candidate], n: usize, c: Constraint) -> Result<Vec<usize>, String> {
    if devs.len() < n {
        return Err(format!("{} of {n} wanted devices are free", devs.len()));
    }
    match c {
        Constraint::None => Ok((0..n).collect()),
        Constraint::SameRoot => same(devs, n, "root complex", |d| d.pcie_root.clone()),
        Constraint::SameNuma => same(devs, n, "NUMA node", |d| d.numa_node.map(|x| x.to_string())),
        Constraint::SpreadRoot => spread(devs, n),
    }
}

/// The devices grouped by `key` (unknown keys left out), in first-seen
/// order of the groups.
fn groups(
    devs: &[Candidate],
    key: impl Fn(&Candidate) -> Option<String>,
) -> Vec<(String, Vec<usize>)> {
    let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in devs.iter().enumerate() {
        if let Some(k) = key(d) {
            by.entry(k).or_default().push(i);
        }
    }
    let mut out: Vec<(String, Vec<usize>)> = by.into_iter().collect();
    out.sort_by_key(|(_, v)| v[0]);
    out
}

/// `n` devices sharing one `key`: the smallest group that fits (so larger
/// groups stay whole for larger requests), its first `n` devices.
fn same(
    devs: &[Candidate],
    n: usize,
    what: &str,
    key: impl Fn(&Candidate) -> Option<String>,
) -> Result<Vec<usize>, String> {
    let g = groups(devs, key);
    if g.is_empty() {
        return Err(format!("{what} unknown: the snapshot does not record it"));
    }
    if let Some((_, v)) = g
        .iter()
        .filter(|(_, v)| v.len() >= n)
        .min_by_key(|(_, v)| v.len())
    {
        return Ok(v[..n].to_vec());
    }
    let (k, v) = g
        .iter()
        .max_by_key(|(_, v)| v.len())
        .map_or(("", 0), |(k, v)| (k.as_str(), v.len()));
    let unknown = devs.len() - g.iter().map(|(_, v)| v.len()).sum::<usize>();
    let tail = if unknown > 0 {
        format!("; {unknown} with the {what} unknown")
    } else {
        String::new()
    };
    Err(format!(
        "no {what} has {n} free devices (at most {v}, on {k}){tail}"
    ))
}

/// `n` devices on `n` different root complexes: the first device of each
/// of the first `n` roots.
fn spread(devs: &[Candidate], n: usize) -> Result<Vec<usize>, String> {
    let g = groups(devs, |d| d.pcie_root.clone());
    if g.len() < n {
        return Err(format!(
            "the free devices sit below {} root complex(es), {n} wanted",
            g.len()
        ));
    }
    let mut v: Vec<usize> = g.iter().take(n).map(|(_, v)| v[0]).collect();
    v.sort_unstable();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(k: &str, root: Option<&str>, numa: Option<i64>) -> Candidate {
        Candidate {
            device: k.to_string(),
            pcie_root: root.map(str::to_string),
            numa_node: numa,
        }
    }

    #[test]
    fn constraints() {
        let devs = vec![
            dev("0000:01:00", Some("pci0000:00"), Some(0)),
            dev("0000:41:00", Some("pci0000:40"), Some(1)),
            dev("0000:42:00", Some("pci0000:40"), Some(1)),
            dev("0000:81:00", Some("pci0000:80"), None),
        ];
        assert_eq!(pick(&devs, 2, Constraint::None), Ok(vec![0, 1]));
        assert_eq!(pick(&devs, 2, Constraint::SameRoot), Ok(vec![1, 2]));
        assert_eq!(pick(&devs, 1, Constraint::SameRoot), Ok(vec![0]));
        assert_eq!(pick(&devs, 2, Constraint::SameNuma), Ok(vec![1, 2]));
        assert_eq!(pick(&devs, 3, Constraint::SpreadRoot), Ok(vec![0, 1, 3]));
        let e = pick(&devs, 3, Constraint::SameRoot).unwrap_err();
        assert!(e.contains("at most 2"), "{e}");
        let e = pick(&devs, 3, Constraint::SameNuma).unwrap_err();
        assert!(e.contains("1 with the NUMA node unknown"), "{e}");
        assert!(pick(&devs, 4, Constraint::SpreadRoot).is_err());
        assert!(pick(&devs, 5, Constraint::None).is_err());
        let unknown = vec![dev("0000:01:00", None, None)];
        let e = pick(&unknown, 1, Constraint::SameNuma).unwrap_err();
        assert!(e.contains("unknown"), "{e}");
    }
}
