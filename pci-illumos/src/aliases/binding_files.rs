//! `name_to_major` and `path_to_inst` (`read_binding_file` in illumos-gate
//! `usr/src/uts/common/os/modsysfile.c`: a NAME or STRING, a number, an
//! optional second NAME or STRING per line, `#` comments, read with the
//! same lexer as the aliases files), and the kernel's binding hash that
//! driver names and aliases fill.

use std::collections::{HashMap, HashSet};

use super::entries::AliasFile;
use super::interpret::cstr;
use super::lexer::{Lexer, Token};

/// The drivers the kernel knows (`name_to_major`), with their lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameToMajor {
    /// Host path.
    pub file: String,
    /// Driver name → (major, line).
    pub drivers: HashMap<String, (u32, usize)>,
}

impl NameToMajor {
    /// Parses `name major` lines (kernel `read_binding_file` syntax).
    pub fn parse(bytes: &[u8], file: &str) -> NameToMajor {
        let mut out = NameToMajor {
            file: file.to_string(),
            drivers: HashMap::new(),
        };
        for rec in binding_records(bytes) {
            if let (Some(name), Some(num)) = (rec.words.first(), rec.number) {
                out.drivers
                    .entry(name.clone())
                    .or_insert((num as u32, rec.line));
            }
        }
        out
    }

    /// Whether the kernel knows `driver`.
    pub fn knows(&self, driver: &str) -> bool {
        self.drivers.contains_key(driver)
    }
}

/// One `path_to_inst` record: `"path" instance "driver"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    /// devfs path.
    pub path: String,
    /// Instance number.
    pub instance: u32,
    /// Driver name.
    pub driver: String,
    /// 1-based line.
    pub line: usize,
}

/// `/etc/path_to_inst`: stable instance numbers per (path, driver).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathToInst {
    /// Host path.
    pub file: String,
    /// Records in file order.
    pub records: Vec<InstanceRecord>,
}

impl PathToInst {
    /// Parses `"path" instance "driver"` lines with `#` comments (kernel
    /// `read_binding_file` syntax, same lexer).
    pub fn parse(bytes: &[u8], file: &str) -> PathToInst {
        let mut out = PathToInst {
            file: file.to_string(),
            records: Vec::new(),
        };
        for rec in binding_records(bytes) {
            if let (Some(path), Some(num), Some(driver)) =
                (rec.words.first(), rec.number, rec.words.get(1))
            {
                if let Ok(instance) = u32::try_from(num) {
                    out.records.push(InstanceRecord {
                        path: path.clone(),
                        instance,
                        driver: driver.clone(),
                        line: rec.line,
                    });
                }
            }
        }
        out
    }

    /// The instance recorded for `path` bound to `driver`.
    pub fn instance(&self, path: &str, driver: &str) -> Option<u32> {
        self.records
            .iter()
            .find(|r| r.path == path && r.driver == driver)
            .map(|r| r.instance)
    }

    /// The instance the kernel would hand out next for `driver`: one more
    /// than the largest recorded (the kernel reuses no number recorded
    /// for another path).
    pub fn next_free(&self, driver: &str) -> u32 {
        self.records
            .iter()
            .filter(|r| r.driver == driver)
            .map(|r| r.instance.saturating_add(1))
            .max()
            .unwrap_or(0)
    }
}

struct BindingRecord {
    words: Vec<String>,
    number: Option<u64>,
    line: usize,
}

/// `read_binding_file`: NAME/STRING, then a number, then an optional
/// NAME/STRING, per line; `#` comments.
fn binding_records(bytes: &[u8]) -> Vec<BindingRecord> {
    let mut lx = Lexer::new(bytes);
    let mut out = Vec::new();
    let mut cur = BindingRecord {
        words: Vec::new(),
        number: None,
        line: 1,
    };
    let mut bad = false;
    loop {
        let (tok, line) = lx.next_token();
        match tok {
            Token::Pound => lx.find_eol(),
            Token::Name(v) | Token::Str(v) => {
                if cur.words.is_empty() && cur.number.is_none() {
                    cur.line = line;
                    cur.words.push(cstr(&v));
                } else if cur.number.is_some() && cur.words.len() == 1 {
                    cur.words.push(cstr(&v));
                } else {
                    bad = true;
                }
            }
            Token::Dec(v) => {
                if cur.words.len() == 1 && cur.number.is_none() {
                    cur.number = String::from_utf8_lossy(&v).parse().ok();
                } else {
                    bad = true;
                }
            }
            Token::Hex(v) => {
                if cur.words.len() == 1 && cur.number.is_none() {
                    let s = String::from_utf8_lossy(&v[2.min(v.len())..]).into_owned();
                    cur.number = u64::from_str_radix(&s, 16).ok();
                } else {
                    bad = true;
                }
            }
            Token::Newline | Token::Eof => {
                let eof = tok == Token::Eof;
                if !bad && cur.number.is_some() {
                    out.push(cur);
                }
                cur = BindingRecord {
                    words: Vec::new(),
                    number: None,
                    line: line + 1,
                };
                bad = false;
                if eof {
                    break;
                }
            }
            _ => bad = true,
        }
    }
    out
}

/// Where one alias string is bound, after reading every file in kernel order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The driver.
    pub driver: String,
    /// Host path of the file that bound it.
    pub file: String,
    /// Line in that file.
    pub line: usize,
}

/// The kernel's binding hash (`mb_hashtab`): driver names from
/// `name_to_major`, then aliases from `ppt_aliases`, then `driver_aliases`;
/// the first binding of a string wins.
#[derive(Debug, Clone, Default)]
pub struct BindingTable {
    map: HashMap<String, Binding>,
    /// Entries that lost to an earlier binding: (file, line, alias, the
    /// binding that won).
    pub conflicts: Vec<(String, usize, String, Binding)>,
    names: HashSet<String>,
}

impl BindingTable {
    /// Builds the table in kernel order.
    pub fn build(n2m: Option<&NameToMajor>, files: &[&AliasFile]) -> BindingTable {
        let mut t = BindingTable::default();
        if let Some(n) = n2m {
            let mut names: Vec<(&String, &(u32, usize))> = n.drivers.iter().collect();
            names.sort_by_key(|(_, (_, line))| *line);
            for (name, (_, line)) in names {
                t.names.insert(name.clone());
                t.map.insert(
                    name.clone(),
                    Binding {
                        driver: name.clone(),
                        file: n.file.clone(),
                        line: *line,
                    },
                );
            }
        }
        for f in files {
            for e in &f.entries {
                match t.map.get(&e.alias) {
                    Some(b) => {
                        t.conflicts
                            .push((e.file.clone(), e.line, e.alias.clone(), b.clone()))
                    }
                    None => {
                        t.map.insert(
                            e.alias.clone(),
                            Binding {
                                driver: e.driver.clone(),
                                file: e.file.clone(),
                                line: e.line,
                            },
                        );
                    }
                }
            }
        }
        t
    }

    /// The binding of a string (`ddi_name_to_major` on the hash).
    pub fn get(&self, name: &str) -> Option<&Binding> {
        self.map.get(name)
    }

    /// Whether `name` is a driver name (from `name_to_major`).
    pub(crate) fn is_driver_name(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}
