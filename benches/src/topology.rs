//! Lays real config spaces out as a large, consistent host: domains, root
//! ports, switches, conventional buses and multifunction devices, with the
//! bridges' primary/secondary/subordinate bus numbers patched in (PCI-to-PCI
//! Bridge spec 1.2 §3.2.5.3–5: offsets 0x18, 0x19, 0x1a).

use pci_core::Address;

use crate::error::GenError;
use crate::pool::{Pool, Template};
use crate::rng::Rng;

/// The highest function count the generator accepts.
pub const MAX_FUNCTIONS: usize = 1 << 20;

/// One generated function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenFunction {
    /// Where it sits.
    pub address: Address,
    /// Its config space (a real one, with bus numbers and the multifunction
    /// bit patched).
    pub config: Vec<u8>,
    /// Index (in [`GenHost::functions`]) of the bridge above it, `None` on a root bus.
    pub parent: Option<usize>,
    /// The real dump this config space came from.
    pub origin: String,
}

impl GenFunction {
    /// Vendor ID.
    pub fn vendor(&self) -> u16 {
        u16::from_le_bytes([self.config[0], self.config[1]])
    }
    /// Device ID.
    pub fn device(&self) -> u16 {
        u16::from_le_bytes([self.config[2], self.config[3]])
    }
    /// Revision ID.
    pub fn revision(&self) -> u8 {
        self.config[8]
    }
    /// 24-bit class code.
    pub fn class(&self) -> u32 {
        u32::from(self.config[0x0b]) << 16
            | u32::from(self.config[0x0a]) << 8
            | u32::from(self.config[0x09])
    }
    /// Header type without the multifunction bit.
    pub fn header_type(&self) -> u8 {
        self.config[0x0e] & 0x7f
    }
    /// True for PCI-to-PCI bridges.
    pub fn is_bridge(&self) -> bool {
        self.header_type() == 1
    }
    /// Subsystem vendor and ID from a type 0 header (0x2c/0x2e); bridges
    /// carry them in an SSVID capability, which illumos ignores for naming.
    pub fn subsystem(&self) -> (u16, u16) {
        if self.header_type() != 0 {
            return (0, 0);
        }
        (
            u16::from_le_bytes([self.config[0x2c], self.config[0x2d]]),
            u16::from_le_bytes([self.config[0x2e], self.config[0x2f]]),
        )
    }
    /// Offset of the PCI Express capability (ID 0x10), walking the standard
    /// chain with a step limit so loops end (PCI 3.0 §6.7).
    pub fn pcie_cap(&self) -> Option<usize> {
        if self.config[0x06] & 0x10 == 0 {
            return None;
        }
        let mut ptr = usize::from(self.config[0x34] & 0xfc);
        for _ in 0..48 {
            if ptr < 0x40 || ptr + 2 > self.config.len() {
                return None;
            }
            if self.config[ptr] == 0x10 {
                return Some(ptr);
            }
            ptr = usize::from(self.config[ptr + 1] & 0xfc);
        }
        None
    }
    /// Secondary and subordinate bus of a bridge.
    pub fn bus_range(&self) -> Option<(u8, u8)> {
        self.is_bridge()
            .then(|| (self.config[0x19], self.config[0x1a]))
    }
}

/// A generated host: functions sorted by address, and its domains.
#[derive(Debug, Clone, Default)]
pub struct GenHost {
    /// Every function, sorted by address (domain, bus, device, function).
    pub functions: Vec<GenFunction>,
    /// The PCI domains used, ascending.
    pub domains: Vec<u32>,
}

/// Options for [`generate`].
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Number of functions (bridges included).
    pub functions: usize,
    /// Seed of the layout and template choice.
    pub seed: u64,
    /// Prefer templates of at least 256 bytes, as a Linux `config` file is
    /// (64-byte ones come from unprivileged `lspci -x` runs).
    pub full_config: bool,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            functions: 1024,
            seed: 1,
            full_config: true,
        }
    }
}

struct Builder<'a> {
    rng: Rng,
    endpoints: Vec<&'a Template>,
    bridges: Vec<&'a Template>,
    host_bridges: Vec<&'a Template>,
    remaining: usize,
    out: Vec<GenFunction>,
    domain: u32,
    next_bus: u16,
}

/// Builds a host of exactly `opts.functions` functions.
pub fn generate(pool: &Pool, opts: &GenOptions) -> Result<GenHost, GenError> {
    if opts.functions == 0 || opts.functions > MAX_FUNCTIONS {
        return Err(GenError::Invalid(format!(
            "function count must be 1..={MAX_FUNCTIONS}, got {}",
            opts.functions
        )));
    }
    let mut b = Builder {
        rng: Rng::new(opts.seed),
        endpoints: prefer_full(&pool.endpoints, opts.full_config),
        bridges: prefer_full(&pool.bridges, opts.full_config),
        host_bridges: prefer_full(&pool.host_bridges, opts.full_config),
        remaining: opts.functions,
        out: Vec::with_capacity(opts.functions),
        domain: 0,
        next_bus: 1,
    };
    if b.endpoints.is_empty() || b.bridges.is_empty() {
        return Err(GenError::Invalid(
            "template pool lacks endpoints or bridges".into(),
        ));
    }
    if b.host_bridges.is_empty() {
        b.host_bridges = b.endpoints.clone();
    }
    let mut domains = Vec::new();
    while b.remaining > 0 {
        domains.push(b.domain);
        b.build_domain();
        b.domain += 1;
    }
    let mut functions = b.out;
    // Sort by address, remapping parent indices.
    let mut order: Vec<usize> = (0..functions.len()).collect();
    order.sort_by_key(|&i| functions[i].address);
    let mut new_index = vec![0usize; functions.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    for f in &mut functions {
        f.parent = f.parent.map(|p| new_index[p]);
    }
    let mut sorted: Vec<Option<GenFunction>> = functions.into_iter().map(Some).collect();
    let functions = order.iter().filter_map(|&i| sorted[i].take()).collect();
    Ok(GenHost { functions, domains })
}

impl<'a> Builder<'a> {
    fn add(
        &mut self,
        bus: u8,
        device: u8,
        function: u8,
        t: &Template,
        parent: Option<usize>,
    ) -> usize {
        let address = Address {
            domain: self.domain,
            bus,
            device,
            function,
        };
        self.remaining -= 1;
        self.out.push(GenFunction {
            address,
            config: t.config.clone(),
            parent,
            origin: t.origin.clone(),
        });
        self.out.len() - 1
    }

    fn endpoint(&mut self) -> &'a Template {
        self.endpoints[self.rng.below(self.endpoints.len())]
    }

    fn bridge(&mut self) -> &'a Template {
        self.bridges[self.rng.below(self.bridges.len())]
    }

    /// Room for `n` more buses in this domain (bus numbers are 8 bits).
    fn has_buses(&self, n: u16) -> bool {
        self.next_bus + n <= 255
    }

    fn alloc_bus(&mut self) -> u8 {
        let b = self.next_bus as u8;
        self.next_bus += 1;
        b
    }

    fn build_domain(&mut self) {
        self.next_bus = 1;
        // Device 0 of the root bus: the host bridge.
        let hb = self.host_bridges[self.rng.below(self.host_bridges.len())];
        let i = self.add(0, 0, 0, hb, None);
        set_multifunction(&mut self.out[i].config, false);
        for dev in 1u8..32 {
            if self.remaining == 0 || !self.has_buses(8) {
                break;
            }
            if self.rng.chance(20) {
                // An integrated multifunction endpoint on the root bus.
                let n = self.rng.range(1, 8);
                self.device_with_functions(0, dev, n, None);
            } else {
                // Root ports; a quarter are multifunction (2..4 ports).
                let n = if self.rng.chance(25) {
                    self.rng.range(2, 4)
                } else {
                    1
                };
                let n = n.min(self.remaining);
                for func in 0..n {
                    if self.remaining == 0 || !self.has_buses(8) {
                        break;
                    }
                    let t = self.bridge();
                    let i = self.add(0, dev, func as u8, t, None);
                    set_multifunction(&mut self.out[i].config, n > 1);
                    self.bridge_below(i, 0, 1);
                }
            }
        }
    }

    /// Gives bridge `i` (on bus `primary`) a secondary bus, fills it, and
    /// patches the bus numbers once the subtree is known.
    fn bridge_below(&mut self, i: usize, primary: u8, depth: usize) {
        let secondary = self.alloc_bus();
        self.fill_bus(secondary, i, depth);
        let subordinate = (self.next_bus - 1) as u8;
        let c = &mut self.out[i].config;
        c[0x18] = primary;
        c[0x19] = secondary;
        c[0x1a] = subordinate;
    }

    fn fill_bus(&mut self, bus: u8, parent: usize, depth: usize) {
        if self.remaining == 0 {
            return; // an empty slot
        }
        let r = self.rng.below(10);
        if depth < 3 && r < 3 && self.has_buses(10) && self.remaining > 2 {
            // A switch: upstream port, internal bus, 2..8 downstream ports.
            let t = self.bridge();
            let up = self.add(bus, 0, 0, t, Some(parent));
            set_multifunction(&mut self.out[up].config, false);
            let internal = self.alloc_bus();
            let ports = self.rng.range(2, 8);
            for dev in 0..ports as u8 {
                if self.remaining == 0 || !self.has_buses(2) {
                    break;
                }
                let t = self.bridge();
                let down = self.add(internal, dev, 0, t, Some(up));
                set_multifunction(&mut self.out[down].config, false);
                self.bridge_below(down, internal, depth + 2);
            }
            let subordinate = (self.next_bus - 1) as u8;
            let c = &mut self.out[up].config;
            c[0x18] = bus;
            c[0x19] = internal;
            c[0x1a] = subordinate;
        } else if r < 5 {
            // A conventional bus with several devices.
            let devices = self.rng.range(2, 8);
            for dev in 0..devices as u8 {
                if self.remaining == 0 {
                    break;
                }
                let n = self.rng.range(1, 4);
                self.device_with_functions(bus, dev, n, Some(parent));
            }
        } else {
            // One PCIe device, single- or multifunction.
            let n = self.rng.range(1, 8);
            self.device_with_functions(bus, 0, n, Some(parent));
        }
    }

    fn device_with_functions(&mut self, bus: u8, dev: u8, n: usize, parent: Option<usize>) {
        let n = n.min(self.remaining).max(1);
        for func in 0..n as u8 {
            let t = self.endpoint();
            let i = self.add(bus, dev, func, t, parent);
            set_multifunction(&mut self.out[i].config, n > 1);
        }
    }
}

/// The templates of at least 256 bytes when `full` and there are any, else all.
fn prefer_full(v: &[Template], full: bool) -> Vec<&Template> {
    let big: Vec<&Template> = v.iter().filter(|t| t.config.len() >= 256).collect();
    if full && !big.is_empty() {
        big
    } else {
        v.iter().collect()
    }
}

/// Sets or clears the multifunction bit (header type bit 7, PCI 3.0 §6.2.1).
fn set_multifunction(config: &mut [u8], on: bool) {
    if on {
        config[0x0e] |= 0x80;
    } else {
        config[0x0e] &= 0x7f;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::default_realdata;

    fn pool() -> Option<Pool> {
        let root = default_realdata();
        if !root.is_dir() {
            eprintln!("skipping: {} absent", root.display());
            return None;
        }
        Some(Pool::from_realdata(&root).unwrap())
    }

    #[test]
    fn exact_count_sorted_unique_consistent_buses() {
        let Some(pool) = pool() else { return };
        for n in [1, 64, 1000, 4096] {
            let h = generate(
                &pool,
                &GenOptions {
                    functions: n,
                    seed: 7,
                    full_config: true,
                },
            )
            .unwrap();
            assert_eq!(h.functions.len(), n);
            for w in h.functions.windows(2) {
                assert!(w[0].address < w[1].address, "sorted and unique");
            }
            for f in &h.functions {
                match f.parent {
                    None => assert_eq!(f.address.bus, 0),
                    Some(p) => {
                        let (sec, sub) = h.functions[p].bus_range().unwrap();
                        assert_eq!(
                            f.address.bus, sec,
                            "{} under {}",
                            f.address, h.functions[p].address
                        );
                        assert!(sub >= sec);
                        assert_eq!(h.functions[p].address.domain, f.address.domain);
                    }
                }
                if let Some((sec, sub)) = f.bus_range() {
                    assert!(sec > f.address.bus && sub >= sec);
                    assert_eq!(f.config[0x18], f.address.bus);
                }
            }
        }
    }

    #[test]
    fn large_hosts_span_domains_and_multifunction() {
        let Some(pool) = pool() else { return };
        let h = generate(
            &pool,
            &GenOptions {
                functions: 16384,
                seed: 1,
                full_config: true,
            },
        )
        .unwrap();
        assert!(h.domains.len() > 1);
        assert!(h.functions.iter().any(|f| f.address.function > 0));
        assert!(h
            .functions
            .iter()
            .any(|f| f.is_bridge() && f.address.bus > 0));
        let again = generate(
            &pool,
            &GenOptions {
                functions: 16384,
                seed: 1,
                full_config: true,
            },
        )
        .unwrap();
        assert_eq!(h.functions, again.functions, "deterministic");
    }
}
