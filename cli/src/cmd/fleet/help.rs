//! The examples and exit codes each `pptctl fleet` subcommand shows after
//! its options (`--help`) and in its manual page (`pptctl man fleet-hosts`).

/// `pptctl fleet ingest`.
pub const INGEST: &str = "\
Examples:
  pptctl fleet ingest snapshots/       store every *.json below (one transaction each)
  pptctl snapshot | ssh central pptctl fleet ingest -
                                       one snapshot from standard input
  pptctl fleet ingest --follow --max-future-skew 10m snapshots/
                                       follow links inside snapshots/, allow 10 minutes of clock skew

Exit status:
  0    every file stored or already stored (links skipped are named on stderr)
  1    a file was refused (each named on stderr), or the database failed: it
       says how many snapshots were stored before
  2    usage, or the database is not a pptctl fleet database
  130  interrupted by SIGINT (Ctrl-C); 143 by SIGTERM";

/// `pptctl fleet hosts`.
pub const HOSTS: &str = "\
Examples:
  pptctl fleet hosts --can-pass 10de: --count 2
                                       hosts that can give a guest two NVIDIA devices
  pptctl fleet hosts --can-pass ::0302 --explain cn7
                                       why cn7 qualifies, or the first reason it does not
  pptctl fleet hosts --db postgres://pptctl@%2Fvar%2Frun%2Fpostgresql/fleet --json

Exit status:
  0    the table was printed (also when no host qualifies: stderr says so);
       with --explain, the host qualifies
  1    with --explain, the host does not qualify; or the database failed
  2    usage, a bad selector, an unknown host, or no fleet database at --db";

/// `pptctl fleet devices`.
pub const DEVICES: &str = "\
Examples:
  pptctl fleet devices                 every vendor:device: hosts, passable, reserved, on ppt
  pptctl fleet devices --json          the same for scripts

Exit status:
  0    fine
  1    the database failed
  2    usage, or no fleet database at --db";

/// `pptctl fleet history`.
pub const HISTORY: &str = "\
Examples:
  pptctl fleet history cn7             cn7's snapshots by time and what changed between them
  pptctl fleet history cn7 --json      the same for scripts
  pptctl fleet history --host cn7      every device event of cn7: discovered, reserved,
                                       bound-to-ppt, used-by-vm, claimed, released, missing ...
  pptctl fleet history --device cn7:0000:01:00.0 --as-of 2026-11-30T00:00:00Z
                                       one device's events up to that time
  pptctl fleet history --device cn7:/pci@0,0/pci8086,151@1/display@0
                                       the same device by its devfs path

Events are derived when a snapshot becomes its host's newest, from it and
the host's previous newest; a snapshot older than the newest, ingested late,
is stored but adds no events. Claims and releases add claimed and released.

Exit status:
  0    fine
  1    the database failed
  2    usage, an unknown host, or no fleet database at --db";

/// `pptctl fleet report`.
pub const REPORT: &str = "\
Examples:
  pptctl fleet report --html report/   report/index.html: every host's line, with search
                                       and filters; report/hosts/h-NAME.html per host:
                                       its functions with every finding, its topology
                                       and what fleet verify says of its last reboot
                                       (open index.html#reboot=broken for the hosts a
                                       reboot broke)
  pptctl fleet report --html fleet.html --max-age 2h
                                       one page with every host's section (small fleets);
                                       snapshots older than 2 hours marked stale

Exit status:
  0    the report was written
  1    it could not be written, or the database failed
  2    usage (a bad --max-age), or no fleet database at --db";

/// `pptctl fleet claim`.
pub const CLAIM: &str = "\
Examples:
  pptctl fleet claim --can-pass 10de: --count 2 --for vm-7f3a --ttl 30m
                                       two whole NVIDIA devices of one host for vm-7f3a
  pptctl fleet claim --can-pass ::0302 --count 4 --same root-complex --for job-12 --json
  pptctl fleet claim --can-pass 10de: --count 1 --host cn7 --generation 812 --for vm-9
                                       refused when a snapshot newer than 812 shows the device gone or used

Exit status:
  0    the claim was recorded; it names the host and its devices
  1    no host can give the devices now, the host or its devices vanished, a newer
       snapshot shows a device gone or used, or the database failed: nothing was recorded
  2    usage (a holder with control bytes, an unreadable or past --ttl), or no
       current fleet database at --db (claims never create or upgrade one)";

/// `pptctl fleet release`.
pub const RELEASE: &str = "\
Examples:
  pptctl fleet release 42 --for vm-7f3a
                                       end claim 42, held by vm-7f3a
  pptctl fleet release --for job-12    end every claim of job-12

Exit status:
  0    the claims were released
  1    no such live claim, or it is another holder's: nothing was released
  2    usage, or no current fleet database at --db";

/// `pptctl fleet claims`.
pub const CLAIMS: &str = "\
Examples:
  pptctl fleet claims                  the live claims, with their expiry
  pptctl fleet claims --for vm-7f3a --all
                                       every claim of vm-7f3a, released and expired too

Exit status:
  0    the list was printed (also when it is empty)
  1    the database failed
  2    usage, or no fleet database at --db";

/// `pptctl fleet verify`.
pub const VERIFY: &str = "\
Examples:
  pptctl fleet verify                  every host: did its last reboot bind what was predicted
  pptctl fleet verify --host cn7 --json
                                       one host, each predicted binding and what became of it

Outcomes per predicted binding: held, missing, renumbered (/dev/pptN changed),
identity-changed (vendor, device, subsystem or revision under the same path),
vm-device-off-ppt, host-driver, unbound. A host with one snapshot, or whose
previous snapshot records no next-boot prediction, is not judged.

Exit status:
  0    no host broke a prediction (hosts not judged do not count)
  1    a host did not hold, or the database failed
  2    usage, an unknown host, or no fleet database at --db";
