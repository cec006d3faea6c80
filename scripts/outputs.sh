#!/usr/bin/env bash
# Writes what pptctl prints (stdout, stderr and exit code of each command)
# over the repository's fixed inputs into one directory, so that two builds
# can be compared byte for byte:
#
#   scripts/outputs.sh /tmp/before            # at the old commit
#   scripts/outputs.sh /tmp/after             # at the new one
#   diff -r /tmp/before /tmp/after            # silent when nothing changed
#
# Inputs: the Levon 2018 example host (examples/levon-2018, before and after
# its reservation), the emulated machines' sysfs trees
# (cli/tests/data/emulated/*.tar.gz) and, when the real-data corpus sits
# beside the clone as the tests expect it, the OmniOS devinfo cache.
# PPTCTL=path/to/pptctl uses that binary instead of building one. Times
# are fixed with SOURCE_DATE_EPOCH.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/outputs.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -z "${PPTCTL:-}" ]; then
    cargo build -q -p cli --manifest-path "$repo/Cargo.toml"
    PPTCTL="${CARGO_TARGET_DIR:-$repo/target}/debug/pptctl"
fi
work=$(mktemp -d /tmp/pptctl-outputs.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Report pages and messages name the paths they read: run everything from
# one fixed directory so the outputs do not depend on where this runs.
fixed=/tmp/pptctl-outputs-inputs
rm -rf "$fixed"
mkdir -p "$fixed"

# run NAME ARGS...: one command, its three results in $out/NAME.{out,err,rc}.
run() {
    local name=$1
    shift
    set +e
    (cd "$fixed" && SOURCE_DATE_EPOCH=1796000000 NO_COLOR=1 TERM=dumb "$PPTCTL" --color never --progress never "$@") \
        >"$out/$name.out" 2>"$out/$name.err"
    echo $? >"$out/$name.rc"
    set -e
}

# The reading commands, over one --from source and its options.
reading() {
    local tag=$1
    shift
    run "$tag.show" "$@" show
    run "$tag.show-nn-D" "$@" show -nn -D
    run "$tag.show-vv" "$@" show -vv
    run "$tag.show-vvv" "$@" show -vvv
    run "$tag.show-xxxx" "$@" show -xxxx
    run "$tag.show-json" "$@" show --json
    run "$tag.tree" "$@" tree
    run "$tag.tree-paths" "$@" tree --paths
    run "$tag.tree-json" "$@" tree --json
    run "$tag.check" "$@" check --all
    run "$tag.check-json" "$@" check --all --json
    run "$tag.match" "$@" match --explain
    run "$tag.match-json" "$@" match --json
    run "$tag.list-a" "$@" list -a
    run "$tag.list-j" "$@" list -a -j
    run "$tag.snapshot" "$@" snapshot
    # vm-json for each function on its own (the same selector pptctl's
    # show -D prints).
    local slot
    for slot in $(cut -d' ' -f1 "$out/$tag.show-nn-D.out"); do
        run "$tag.vm-json-$slot" "$@" vm-json "$slot"
    done
    run "$tag.report" "$@" report --html "$fixed/$tag.html"
    if [ -f "$fixed/$tag.html" ]; then
        # The page shows when it was made, from the clock, not from
        # SOURCE_DATE_EPOCH: blank those times so two runs compare.
        sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/TIME/g' \
            "$fixed/$tag.html" >"$out/$tag.report.html"
        rm "$fixed/$tag.html"
    fi
}

# Levon's host, before the reservation and after the reboot.
cp -r "$repo/examples/levon-2018" "$fixed/levon"
lb=(--root levon/before/root --from snapshot:levon/before/host.json)
la=(--root levon/root --from snapshot:levon/host.json)
reading levon-before "${lb[@]}"
reading levon-before-media "${lb[@]}" --boot-media levon/before/usbkey
reading levon-after "${la[@]}"
run levon-before.check-sel "${lb[@]}" check 01:00.0 01:00.1
run levon-before.reserve-dry "${lb[@]}" reserve --boot-media levon/before/usbkey --dry-run 01:00.0
run levon-before.reserve-matches-dry "${lb[@]}" reserve --boot-media levon/before/usbkey --matches --dry-run 01:00.0
run levon-before.vm-json-sel "${lb[@]}" vm-json --boot-media levon/before/usbkey 01:00.0
run levon-after.vm-json-sel "${la[@]}" vm-json 01:00.0
run levon-after.unreserve-dry "${la[@]}" unreserve --dry-run 01:00.0
run levon.diff diff levon/before/host.json levon/host.json
run levon.diff-json diff levon/before/host.json levon/host.json --json

# The emulated machines' sysfs trees.
for tgz in "$repo"/cli/tests/data/emulated/*.tar.gz; do
    m=$(basename "$tgz" .tar.gz)
    mkdir -p "$fixed/emu-$m"
    tar -xzf "$tgz" -C "$fixed/emu-$m"
    sys=$(cd "$fixed/emu-$m" && dirname "$(find . -path '*/bus/pci/devices' -type d | head -n 1)")
    sys=${sys%/bus/pci}
    reading "emu-$m" --root "emu-$m" --from "sysfs:emu-$m/${sys#./}"
done

# The real OmniOS host's devinfo cache, when the corpus is there.
omnios="$repo/../shared/realdata/BartVanLooveren+omniosEindwerk"
if [ -f "$omnios/devices/snapshot_cache" ]; then
    mkdir -p "$fixed/omnios/etc"
    cp "$omnios/devices/snapshot_cache" "$fixed/omnios/snapshot_cache"
    for f in driver_aliases path_to_inst; do
        [ -f "$omnios/$f" ] && cp "$omnios/$f" "$fixed/omnios/etc/$f"
    done
    reading omnios --root omnios --from devinfo:omnios/snapshot_cache
else
    echo "outputs.sh: no OmniOS devinfo cache beside the clone; skipped" >&2
fi
echo "outputs.sh: $(find "$out" -type f | wc -l) files in $out"
