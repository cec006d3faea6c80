//! Examples and exit codes for `--help` and the manual pages.
//!
//! Kept out of the argument structs so each subcommand's module stays about
//! its options; [`decorate`] attaches the text to the clap definition that
//! `--help`, `pptctl man` and the completions are all generated from. A test
//! checks that every subcommand has examples.

/// The exit-code table, the same for every command but `list`.
pub const EXIT_STATUS: &str = "\
Exit status:
  0    fine
  1    the operation failed or found problems
  2    usage or unreadable input (a bad option, --root, --from or file)
  130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM
`pptctl list` keeps pptadm's codes instead: 0 fine, 1 any error, 2 usage.
A reader that goes away (`| head`) ends any command quietly with 0.";

/// Examples of the top-level command.
const TOP: &str = "\
Examples:
  pptctl show -nn                     every function, names and ids, like lspci -nn
  pptctl check                        can these devices be passed through?
  pptctl reserve --dry-run 03:00.0    the change reserving a GPU would make
  pptctl --from snapshot:host.json tree
                                      the hierarchy of a host saved elsewhere
  pptctl man reserve | man -l -       a manual page
  pptctl completions bash > /etc/bash_completion.d/pptctl";

const SHOW: &str = "\
Examples:
  pptctl show                  one line per function, as lspci
  pptctl show -nn -d 10de:     every NVIDIA function, names and ids
  pptctl show -vv -s 03:00.0   decoded config space of one function
  pptctl show -d ::0300        every VGA controller (class 03, subclass 00)
  pptctl show --json | jq '.[0]'
                               the facts of the first function as JSON";

const LIST: &str = "\
Options (after pptadm list):
  -a          also list candidates: functions ppt_matches names that are not
              bound to ppt yet (`DEV` shows --)
  -j          one JSON document, the layout of pptadm list -j
  -p          parsable: fields separated by `:`, no header; needs -o
  -o FIELDS   comma-separated fields, any case: DEV (/dev/pptN), VENDOR and
              DEVICE (ids, hex), SUBVENDOR and SUBDEVICE (subsystem ids),
              REV (revision), PATH (illumos device path), LABEL (the slot
              label from the firmware). Default: dev,vendor,device,path
  -U          with -a: also list functions no driver is attached to
  -N          with -a: for functions another driver holds, show that
              driver's binding name in DEV instead of --
  -h          pptadm's usage lines

Examples:
  pptctl list                  the functions bound to ppt now
  pptctl list -a               and those ppt_matches makes candidates
  pptctl list -po dev,path     scriptable: /dev/ppt0:/pci@0,0/...
  pptctl list -j               JSON";

const TREE: &str = "\
Examples:
  pptctl tree                  bridges and functions with illumos node names
  pptctl tree --paths          full devfs paths instead of the last component
  pptctl tree --json           the same hierarchy as one JSON document";

const MATCH: &str = "\
Examples:
  pptctl match                 what each ppt_matches line and ppt_aliases entry binds
  pptctl match --explain       every line, how libppt reads it, and why
  pptctl match --json          one document (see docs/json.md):
    ppt_matches   one object per line of the file libppt reads: file, line,
                  text, kind (id, vendor, path or ignored), matches (the
                  paths that line matches on its own), warnings [{code, message}]
    ppt_aliases   one object per alias the kernel reads: file, line, alias,
                  kind (path or compatible), matches (what it binds at the
                  next boot), warnings
    after_reboot  the functions whose driver changes: path, driver_now,
                  driver_after, by (FILE:LINE), dev (/dev/pptN when recorded)
Exit status of match: 0 without warnings, 1 with warnings, 2 unreadable input.";

const CHECK: &str = "\
Examples:
  pptctl check                 every endpoint function, the host, the pending files
  pptctl check 03:00.0 03:00.1 two functions
  pptctl check --vm vm.json    will this VM's pci_devices be on ppt after boot?
  pptctl check -q 03:00.0 && echo ok
                               the exit code alone
  pptctl check --json          one JSON document (see docs/json.md)";

const RESERVE: &str = "\
Examples:
  pptctl reserve --dry-run 03:00.0     the diff, nothing written
  pptctl reserve 03:00.0               write /etc/ppt_aliases (asks on a terminal)
  pptctl reserve -y --update-archive 03:00.0
                                       OmniOS/OpenIndiana: also rebuild the boot archive
  pptctl reserve --boot-media /mnt/usbkey /dev/ppt0
                                       SmartOS: the files go on the USB key
  pptctl reserve --json --dry-run 03:00.0
                                       the plan as JSON (see docs/json.md)

Files are written one at a time, each atomically, in an order in which the
media boots at every instant (the reservation files before the boot-loader
lines that load them). Ctrl-C stops between two files, says what was done,
and exits 130 (143 for SIGTERM); running the same command again completes it.
Previous versions are kept in one place: .pptctl-backup/ at the top of
--boot-media, or var/pptctl/backup/ under --root; `pptctl unreserve --clean`
removes them. No lock file stays behind.";

const UNRESERVE: &str = "\
Examples:
  pptctl unreserve --dry-run 03:00.0   the diff, nothing written
  pptctl unreserve -y /dev/ppt0        undo, without asking
  pptctl unreserve --boot-media /mnt/usbkey /pci@0,0/pci8086,151@1/display@0
                                       a path no longer on the host: drop its alias
  pptctl unreserve --clean --boot-media /mnt/usbkey
                                       remove the backups pptctl kept

Boot-loader lines are removed before the files they load.";

const VM_JSON: &str = "\
Examples:
  pptctl vm-json 03:00.0 03:00.1       the pci_devices payload for vmadm create
  pptctl vm-json --update 03:00.0      add_pci_devices, for vmadm update
  pptctl --boot-media /mnt/usbkey vm-json 03:00.0
                                       SmartOS: judged against the next boot's aliases
  pptctl vm-json --check payload.json  is an existing payload valid here?";

const DIAGNOSE: &str = "\
Examples:
  pptctl diagnose --vm 6d2e4a1c-...    the zone's platform.log and configuration
  pptctl diagnose platform.log         a log copied from the host
  pptctl --from snapshot:host.json diagnose --json platform.log
                                       joined with a snapshot of that host, as JSON";

const FLEET: &str = "\
Examples:
  pptctl fleet ingest snapshots/       store every *.json below (one transaction each)
  pptctl fleet hosts --can-pass 10de: --count 2
                                       hosts that can give a guest two NVIDIA devices
  pptctl fleet hosts --can-pass ::0302 --explain cn7
                                       why cn7 qualifies, or the first reason it does not
  pptctl fleet --db postgres://pptctl@%2Fvar%2Frun%2Fpostgresql/fleet devices
                                       the inventory, from PostgreSQL
  pptctl fleet report --html report/   a summary with search and filters, one page per host";

const DIFF: &str = "\
Examples:
  pptctl diff monday.json today.json   functions, drivers, /dev/pptN, files, verdicts
  pptctl diff --expect before.json after.json
                                       did every binding predicted before the reboot hold?";

const REPORT: &str = "\
Examples:
  pptctl report --html host.html       this host: every function's driver, /devices path,
                                       /dev/pptN, next boot and findings, and its PCI tree
  pptctl --from snapshot:host.json report --html host.html
                                       the same for a saved snapshot, named by its host.name";

const SNAPSHOT: &str = "\
Examples:
  pptctl snapshot > host.json          save what pptctl reads on this host
  pptctl --from snapshot:host.json check
                                       answer elsewhere as on that host";

const BENCH: &str = "\
Examples:
  pptctl bench                         time discovery phases on this host
  pptctl bench --iterations 50 --json  more samples, as JSON (see docs/json.md)";

const MAN: &str = "\
Examples:
  pptctl man | man -l -                pptctl(8)
  pptctl man reserve | man -l -        pptctl-reserve(8)
  pptctl man --dir /usr/local/share/man/man8
                                       install every page";

const COMPLETIONS: &str = "\
Examples:
  pptctl completions bash > /usr/share/bash-completion/completions/pptctl
  pptctl completions zsh > /usr/local/share/zsh/site-functions/_pptctl
  pptctl completions fish > ~/.config/fish/completions/pptctl.fish";

/// The examples of one subcommand, by name; `None` for one without.
pub fn examples(name: &str) -> Option<&'static str> {
    Some(match name {
        "show" => SHOW,
        "list" => LIST,
        "tree" => TREE,
        "match" => MATCH,
        "check" => CHECK,
        "reserve" => RESERVE,
        "unreserve" => UNRESERVE,
        "vm-json" => VM_JSON,
        "diagnose" => DIAGNOSE,
        "fleet" => FLEET,
        "diff" => DIFF,
        "report" => REPORT,
        "snapshot" => SNAPSHOT,
        "bench" => BENCH,
        "man" => MAN,
        "completions" => COMPLETIONS,
        _ => return None,
    })
}

/// `pptctl list --help`: pptadm's usage lines, then what each option and
/// field means (`-h` prints the usage lines alone, as pptadm does).
pub fn list_long_help(usage: &str) -> String {
    format!("{usage}\n{LIST}\n\n{EXIT_STATUS}\n")
}

/// Attaches the examples and the exit-code table to the command and each
/// subcommand (`--help` shows them; `-h` stays short).
pub fn decorate(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.after_long_help(format!("{TOP}\n\n{EXIT_STATUS}"));
    for name in names {
        let ex = examples(&name);
        cmd = cmd.mut_subcommand(&name, |s| {
            let s = match ex {
                Some(ex) => s.after_long_help(format!("{ex}\n\n{EXIT_STATUS}")),
                None => s.after_long_help(EXIT_STATUS),
            };
            own_words(&name, s)
        });
    }
    cmd
}

/// `reserve` and `unreserve` share one argument struct; each shows only
/// the options that mean something to it, in its own words.
fn own_words(name: &str, s: clap::Command) -> clap::Command {
    match name {
        "reserve" => s.mut_arg("clean", |a| a.hide(true)),
        "unreserve" => s
            .mut_arg("force", |a| a.hide(true))
            .mut_arg("by_id", |a| {
                a.help("Remove the id aliases (ppt \"pciexVVVV,DDDD\") of the functions instead of their path aliases")
            })
            .mut_arg("matches", |a| a.help("Also remove the functions' lines from ppt_matches"))
            .mut_arg("single_function", |a| {
                a.help("Only the selected functions, leaving the other functions of their devices reserved")
            }),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_subcommand_has_examples() {
        for s in crate::Cli::command().get_subcommands() {
            assert!(
                examples(s.get_name()).is_some(),
                "`{}` has no examples in cli/src/help.rs",
                s.get_name()
            );
        }
    }

    #[test]
    fn examples_name_only_real_flags() {
        // Every `--flag` an example uses must exist on that subcommand (or
        // be global), so help text cannot drift from the options.
        let cmd = decorate(crate::Cli::command());
        for s in cmd.get_subcommands() {
            let Some(ex) = examples(s.get_name()) else {
                continue;
            };
            for word in ex.split(|c: char| c.is_whitespace() || c == '`') {
                let Some(flag) = word.strip_prefix("--") else {
                    continue;
                };
                let flag = flag
                    .split('=')
                    .next()
                    .unwrap_or(flag)
                    .trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
                if flag.is_empty() || s.get_name() == "list" {
                    continue;
                }
                // A command with subcommands of its own (`fleet hosts`)
                // may use their flags too.
                let known = s
                    .get_arguments()
                    .chain(s.get_subcommands().flat_map(|c| c.get_arguments()))
                    .chain(cmd.get_arguments())
                    .any(|a| a.get_long() == Some(flag));
                assert!(known, "`pptctl {} --{flag}` in the examples", s.get_name());
            }
        }
    }
}
