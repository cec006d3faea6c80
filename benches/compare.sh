#!/usr/bin/env bash
# benches/compare.sh [N] [ROUNDS] — pptctl show -n against lspci -n, same run.
#
# Builds an N-function (default 4096) host from real config spaces (sysfs
# tree + lspci -xxxx dump), then runs, alternately, ROUNDS (default 10,
# at least 10) times each:
#   pptctl --from sysfs:T show -n   vs  lspci -A linux-sysfs -O sysfs.path=T/bus/pci -n
#   pptctl --from dump:F show -n    vs  lspci -F F -n
#   raw-read T   (the floor: list bus/pci/devices, open+read every config file)
# checks the outputs are byte-identical, prints medians and their ratios,
# peak RSS (/usr/bin/time -v), and the per-function cost of pptctl show -n
# at 1024, 4096 and 16384 functions (set SCALE=0 to skip).
#
# Generated trees go to $PPTCTL_BENCH_TMP, else /dev/shm (tmpfs, in memory
# like the real sysfs), else $TMPDIR. Needs lspci (pciutils) and
# ../shared/realdata.
set -euo pipefail

N=${1:-4096}
ROUNDS=${2:-10}
if [ "$ROUNDS" -lt 10 ]; then ROUNDS=10; fi
cd "$(dirname "$0")/.."

command -v lspci >/dev/null || { echo "compare.sh: lspci not found (apt-get install pciutils)" >&2; exit 2; }
cargo build --profile bench -q -p cli -p benches  # target/release, tuned like the figures below
BIN=$PWD/target/release

base=${PPTCTL_BENCH_TMP:-}
if [ -z "$base" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
fi
T=$(mktemp -d "$base/pptctl-compare.XXXXXX")
trap 'rm -rf "$T"' EXIT

echo "== machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(lspci --version)"
echo "== generating $N functions in $T"
"$BIN/gen-host" -n "$N" --formats sysfs,dump --out "$T/host"
S=$T/host/sysfs
D=$T/host/lspci-xxxx.txt
mkdir -p "$T/out"

# Warm the page cache once so round 1 is not special.
"$BIN/raw-read" "$S" >/dev/null

echo "== $ROUNDS alternating rounds (seconds; cpu = user+sys of the child)"
"$BIN/alternate" "$ROUNDS" "$T/out" \
  "pptctl_sysfs=$BIN/pptctl --from sysfs:$S show -n" \
  "lspci_sysfs=lspci -A linux-sysfs -O sysfs.path=$S/bus/pci -n" \
  "raw_read=$BIN/raw-read $S" \
  "pptctl_dump=$BIN/pptctl --from dump:$D show -n" \
  "lspci_dump=lspci -F $D -n" | tee "$T/table"

same() {
  if cmp -s "$T/out/$1.out" "$T/out/$2.out"; then echo "identical: $1 = $2"; else
    echo "DIFFERENT: $1 vs $2"; diff "$T/out/$1.out" "$T/out/$2.out" | head -5; fail=1; fi
}
fail=0
same pptctl_sysfs lspci_sysfs
same pptctl_dump lspci_dump
same pptctl_sysfs pptctl_dump
echo "lines: $(wc -l < "$T/out/pptctl_sysfs.out")"

awk '
  NR > 1 { w[$1] = $3; c[$1] = $6 }
  END {
    printf "ratio pptctl/lspci  sysfs: wall %.3f  cpu %.3f   (target <= 0.5)\n", w["pptctl_sysfs"]/w["lspci_sysfs"], c["pptctl_sysfs"]/c["lspci_sysfs"]
    printf "ratio pptctl/raw    sysfs: wall %.3f  cpu %.3f   (target <= 2)\n",   w["pptctl_sysfs"]/w["raw_read"],    c["pptctl_sysfs"]/c["raw_read"]
    printf "ratio pptctl/lspci  dump:  wall %.3f  cpu %.3f\n",                 w["pptctl_dump"]/w["lspci_dump"],   c["pptctl_dump"]/c["lspci_dump"]
  }' "$T/table"

echo "== peak RSS (/usr/bin/time -v), target <= 32 MiB for pptctl"
for cmd in "$BIN/pptctl --from sysfs:$S show -n" "lspci -A linux-sysfs -O sysfs.path=$S/bus/pci -n" "$BIN/pptctl --from dump:$D show -n"; do
  rss=$(/usr/bin/time -v $cmd 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}')
  printf "%8s KiB (%.1f MiB)  %s\n" "$rss" "$(echo "$rss/1024" | bc -l)" "${cmd#"$BIN/"}"
done

if [ "${SCALE:-1}" != 0 ]; then
  echo "== per-function cost of pptctl show -n (sysfs), 5 alternating rounds"
  specs=()
  for n in 1024 4096 16384; do
    "$BIN/gen-host" -n "$n" --formats sysfs --out "$T/s$n" >/dev/null
    "$BIN/raw-read" "$T/s$n/sysfs" >/dev/null
    specs+=("n$n=$BIN/pptctl --from sysfs:$T/s$n/sysfs show -n")
  done
  "$BIN/alternate" 5 "$T/out" "${specs[@]}" | tee "$T/scale"
  awk 'NR > 1 { n = substr($1, 2); printf "%6d functions: %.2f us/function wall, %.2f us/function cpu\n", n, $3/n*1e6, $6/n*1e6 }' "$T/scale"
fi
exit $fail
