#!/usr/bin/env bash
# Coverage-guided fuzzing campaign over every target in fuzz/fuzz_targets,
# seeded with the project's fixtures and the real data at ../shared/realdata
# (used where present, never copied into the repository).
#
#   fuzz/run-campaign.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 180; with no TARGET every target in the
# table below runs, one after another, on one core at low priority. Each run
# continues from fuzz/corpus/TARGET (working corpus, not committed) plus the
# committed seeds in fuzz/seeds/TARGET.tar.gz, then the corpus is minimised
# (`cargo fuzz cmin`). Crashes and timeouts land in fuzz/artifacts/TARGET.
# The summary (executions, coverage and features from libFuzzer's final
# stats, findings) is printed at the end and kept in
# fuzz/campaign-results.txt, for TESTING.md.
#
# Needs the nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# CI does not run this; it runs the fast deterministic tests only.
#
# PPTCTL_FUZZ_SUMMARY_ONLY=1 runs nothing and prints the summary of the
# last run's logs (fuzz/artifacts/TARGET/run.log).
#
# PPTCTL_FUZZ_SAVE_SEEDS=1 packs the minimised corpus entries of at most
# 4 KiB into fuzz/seeds/TARGET.tar.gz (review before committing: only
# targets seeded from the project's own fixtures should be committed, as
# entries can hold fragments of the real data).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
real="$repo/../shared/realdata"
secs="${1:-180}"
shift || true

# The campaign's targets: one line each —
#   NAME  MAX_LEN  SEEDS...
# SEEDS are files, directories or globs, relative to the repository root
# (real data as ../shared/realdata/...); ones that match nothing are
# skipped, so the campaign runs without the real data too. The cargo-fuzz
# target NAME must exist in fuzz/Cargo.toml. To fuzz a new parser, add its
# target there and one line here.
TARGETS='
config_space   4096    @emulated-config
lspci_dump     262144  ../shared/realdata/*/logs/lspci.log ../shared/realdata/*/lspci*.log ../shared/realdata/pciutils+pciutils/tests ../shared/realdata/_generated_lspci-3.9.0
snapshot_json  262144  examples/*/host.json ../shared/realdata/TritonDataCenter+hwgrok
devinfo        262144  ../shared/realdata/*/devices/snapshot_cache
ppt_matches    16384   examples/*/root/etc/ppt_matches
aliases        65536   examples/*/root/etc/ppt_aliases ../shared/realdata/*/driver_aliases ../shared/realdata/*/path_to_inst
editors        16384   examples/*/root/etc/ppt_aliases examples/*/root/etc/ppt_matches
vmadm          16384
platform_log   65536   cli/tests/data/platform-log
snapshot_v2    262144  fuzz/seeds/snapshot-v2 examples/*/host.json examples/*/*/host.json
fleet_ingest   262144  fuzz/seeds/snapshot-v2 examples/*/host.json examples/*/*/host.json
'

# Seeds that are made rather than found: config space files from the
# emulated machines' sysfs trees (cli/tests/data/emulated/*.tar.gz).
make_seed() {
    local name="$1" out="$2"
    case "$name" in
        @emulated-config)
            local t
            for t in "$repo"/cli/tests/data/emulated/*.tar.gz; do
                [ -f "$t" ] || continue
                local d
                d="$(mktemp -d)"
                tar -xzf "$t" -C "$d" --wildcards '*/config' 2>/dev/null || true
                find "$d" -name config -type f | while read -r f; do
                    cp "$f" "$out/$(basename "$t" .tar.gz)-$(sha1sum "$f" | cut -c1-12)"
                done
                rm -rf "$d"
            done
            ;;
        *) echo "unknown seed generator $name" >&2; return 1 ;;
    esac
}

# One summary line from a target's run log: executions, and coverage (cov:
# edges) and features (ft:) from libFuzzer's last status line.
summarise() {
    local name="$1" rc="$2" log="artifacts/$1/run.log" execs done_line cov ft found kept
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" 2>/dev/null | tail -1 | grep -o '[0-9]*$' || true)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" 2>/dev/null | tail -1 || true)
    cov=$(echo "$done_line" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || true)
    ft=$(echo "$done_line" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || true)
    found=$(find "artifacts/$name" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    kept=$(find "corpus/$name" -type f 2>/dev/null | wc -l)
    line=$(printf '%-14s exit=%-3s execs=%-10s cov=%-6s ft=%-7s corpus(min)=%-5s findings=%s' \
        "$name" "$rc" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$kept" "$found")
    echo "$line"
    echo "$line" >>"$results"
    summary+=("$line")
}

cd "$here"
mkdir -p corpus artifacts
results="$here/campaign-results.txt"
want=("$@")
summary=()
printf '%s\n' "# fuzz/run-campaign.sh $secs s per target, $(date -u +%Y-%m-%dT%H:%MZ), $(cargo +nightly --version)" >"$results"

while read -r name max_len seeds; do
    [ -n "$name" ] || continue
    if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then
        continue
    fi
    corpus="corpus/$name"
    mkdir -p "$corpus" seeds "artifacts/$name"
    log="artifacts/$name/run.log"
    if [ "${PPTCTL_FUZZ_SUMMARY_ONLY:-0}" = 1 ]; then
        summarise "$name" "?"
        continue
    fi
    # The seed directory libFuzzer reads (it never writes to it): the
    # committed seeds and the table's.
    stage="$(mktemp -d)"
    if [ -f "seeds/$name.tar.gz" ]; then
        tar -xzf "seeds/$name.tar.gz" -C "$stage"
    fi
    for s in $seeds; do
        if [[ "$s" == @* ]]; then
            make_seed "$s" "$stage"
            continue
        fi
        # shellcheck disable=SC2086
        for p in $repo/$s; do
            if [ -d "$p" ]; then
                find "$p" -maxdepth 1 -type f -size -"$((max_len / 1024 + 1))"k -exec cp {} "$stage/" \;
            elif [ -f "$p" ]; then
                cp "$p" "$stage/$(echo "$p" | sha1sum | cut -c1-12)-$(basename "$p")"
            fi
        done
    done
    dirs=("$stage")
    nseeds=$(find "${dirs[@]}" -type f | wc -l)
    echo "== $name: $secs s, $nseeds seed files, max_len $max_len"
    set +e
    nice -n 10 cargo +nightly fuzz run -O "$name" "$corpus" "${dirs[@]}" -- \
        -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$name/" >"$log" 2>&1
    rc=$?
    set -e
    rm -rf "$stage"
    # Minimise the working corpus in place.
    nice -n 10 cargo +nightly fuzz cmin -O "$name" "$corpus" -- -max_len="$max_len" \
        >"artifacts/$name/cmin.log" 2>&1 || true
    if [ "${PPTCTL_FUZZ_SAVE_SEEDS:-0}" = 1 ]; then
        (cd "$corpus" && find . -type f -size -4097c -print0 | sort -z |
            tar --null -T - -czf "$here/seeds/$name.tar.gz")
    fi
    summarise "$name" "$rc"
done <<<"$TARGETS"

echo
echo "== summary ($secs s per target)"
printf '%s\n' "${summary[@]}"
