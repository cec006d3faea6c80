//! `raw-read DIR [ROUNDS]`: the floor for enumerating a sysfs tree — list
//! `DIR/bus/pci/devices`, then open and read every function's `config`
//! file, nothing else. Prints the number of functions and bytes read.
//!
//! It is a compiled loop so the floor `benches/compare.sh` measures is the
//! file system's cost, not a shell's.

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: raw-read SYSFS_DIR");
        return ExitCode::from(2);
    };
    let devices = dir.join("bus/pci/devices");
    let entries = match fs::read_dir(&devices) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("raw-read: {}: {e}", devices.display());
            return ExitCode::from(2);
        }
    };
    let mut buf = vec![0u8; 4096];
    let (mut n, mut bytes) = (0usize, 0usize);
    for entry in entries.flatten() {
        let path = entry.path().join("config");
        match fs::File::open(&path).and_then(|mut f| f.read(&mut buf)) {
            Ok(got) => {
                n += 1;
                bytes += got;
            }
            Err(e) => eprintln!("raw-read: {}: {e}", path.display()),
        }
    }
    println!("{n} functions, {bytes} bytes");
    ExitCode::SUCCESS
}
