#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ one after another, each for N
# minutes (default 10), and prints executions and findings per target.
#
#   tests/scripts/fuzz.sh [--minutes N] [--sanitizer none|address] [--no-build] [target ...]
#
# Installs what it needs when missing: a nightly toolchain (rustup
# toolchain install nightly --profile minimal) and cargo-fuzz (cargo
# +nightly install cargo-fuzz --locked). Seeds the corpora (fuzz/corpus/,
# not in git) from the repository's golden files first (fuzz/seed.py and
# pharos_tsdb's encoders). One fuzzing process at a time (-jobs=1 is
# libFuzzer's default): the machine is shared. Not run by CI.
#
# A finding (crash, timeout, out-of-memory) is saved under
# fuzz/artifacts/<target>/, the run's log in fuzz/artifacts/<target>.log;
# reproduce it with (in fuzz/)
#   cargo +nightly fuzz run <target> artifacts/<target>/<file>
# then copy it to the crate's testdata/fuzz-regressions/<target>/, where
# the crate's `cargo test` replays it, and fix it. --no-build runs the
# last build as it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

minutes=10
sanitizer=none
build=1
targets=()
while (($#)); do
    case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --minutes=*) minutes=${1#*=}; shift ;;
    --sanitizer) sanitizer=$2; shift 2 ;;
    --sanitizer=*) sanitizer=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing the nightly toolchain" >&2
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo +nightly install cargo-fuzz --locked
fi

cd "$root/fuzz"
all=$(cargo +nightly fuzz list)
((${#targets[@]})) || mapfile -t targets <<<"$all"
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$all" || { echo "fuzz.sh: no target $t (have: $(echo $all))" >&2; exit 2; }
done

echo "== seeding corpora" >&2
python3 "$root/fuzz/seed.py" "${targets[@]}" >&2
(cd "$root" && PHAROS_FUZZ_SEEDS="$root/fuzz/corpus" \
    cargo test -q -p pharos-tsdb --lib fuzz::tests::write_seeds -- --ignored >&2)

# Release builds with debug assertions and overflow checks. No target
# runs a plugin: the plugin host's build skips the wasm guests (which
# would need the wasm32-wasip2 target for nightly).
flags=(--sanitizer "$sanitizer" --debug-assertions)
export PHAROS_NO_GUEST_BUILD=1
if ((build)); then
    echo "== building" >&2
    cargo +nightly fuzz build "${flags[@]}" >&2
fi
# The targets run from this build, so that edits made meanwhile (others
# work in the same tree) do not rebuild between targets.
bin_dir="$root/fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

secs=$((minutes * 60))
results=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    log="artifacts/$t.log"
    echo "== $t: $minutes min" >&2
    started=$(date +%s)
    set +e
    "$bin_dir/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 "corpus/$t" >"$log" 2>&1
    status=$?
    set -e
    took=$(($(date +%s) - started))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    execs=${execs:-$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#')}
    after=$(find "artifacts/$t" -type f | wc -l)
    found=$((after - before))
    corpus=$(find "corpus/$t" -type f | wc -l)
    note=ok
    if ((status != 0)); then
        note="stopped (exit $status): $(grep -m1 -E 'ERROR: libFuzzer|panicked at|deadly signal|Test unit written' "$log" | cut -c1-120)"
    fi
    results+=("$(printf '%-24s %6ss %14s %9s %8s  %s' "$t" "$took" "${execs:-?}" "$found" "$corpus" "$note")")
done

printf '\n%-24s %7s %14s %9s %8s  %s\n' target time executions findings corpus note
printf '%s\n' "${results[@]}"
