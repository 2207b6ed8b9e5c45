#!/usr/bin/env bash
# Runs CI N times, each on a fresh clone of main: `bash .ci/run` in a new
# temporary folder, as CI does. With --hog, one busy process per core runs
# beside it (a loaded CI machine). Prints a line per run (pass/fail, wall
# time) and, at the end, each test that failed with the runs it failed in.
#
#   scripts/ci_repeat.sh 5            # five runs
#   scripts/ci_repeat.sh 5 --hog      # five runs on a loaded machine
#   scripts/ci_repeat.sh 3 --rev abc123 --keep
set -uo pipefail

usage() { echo "usage: $0 N [--hog] [--rev REV] [--keep]" >&2; exit 2; }
[ $# -ge 1 ] || usage
runs=$1; shift
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage
hog=0; rev=main; keep=0  # --keep: keep the clones too (logs are always kept)
while [ $# -gt 0 ]; do
    case "$1" in
        --hog) hog=1 ;;
        --rev) [ $# -ge 2 ] || usage; rev=$2; shift ;;
        --keep) keep=1 ;;
        *) usage ;;
    esac
    shift
done
repo=$(cd "$(dirname "$0")/.." && pwd)
# A clone in a temporary folder has no ../shared beside it: `make install`
# takes the 32-bit VM from where this checkout finds it (docs/boards.md).
if [ -z "${LEAKRIG_MCU32_SOURCE:-}" ] && [ -x "$repo/../shared/vm/micropython-mcu32" ]; then
    export LEAKRIG_MCU32_SOURCE="$repo/../shared/vm/micropython-mcu32"
fi
sha=$(git -C "$repo" rev-parse --verify "$rev^{commit}") || { echo "ci_repeat: no such revision: $rev" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/leakrig-ci.XXXXXX")
cores=$(nproc)
hogs=()
stop_hogs() { for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done; hogs=(); }
run_pid=
cleanup() {
    stop_hogs
    # A run cut short takes its whole process group with it (pytest, VMs).
    [ -n "$run_pid" ] && kill -TERM -- "-$run_pid" 2>/dev/null
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "ci_repeat: $runs run(s) of .ci/run on fresh clones of ${sha:0:12}$([ $hog = 1 ] && echo ", with $cores busy process(es)"); logs in $work"
printf '%-4s %-5s %8s  %s\n' run result wall_s summary
passed=0
declare -A failed_in=()
for i in $(seq 1 "$runs"); do
    dir="$work/run$i"
    git clone -q "$repo" "$dir/p" && git -C "$dir/p" checkout -q "$sha" || { echo "ci_repeat: clone failed" >&2; exit 1; }
    if [ $hog = 1 ]; then
        for _ in $(seq 1 "$cores"); do
            ( trap 'exit 0' TERM; while :; do :; done ) &
            hogs+=($!)
        done
    fi
    t0=$(date +%s.%N)
    setsid bash -c 'cd "$1" && exec bash .ci/run' _ "$dir/p" >"$dir/log" 2>&1 &
    run_pid=$!
    wait "$run_pid"
    rc=$?
    run_pid=
    t1=$(date +%s.%N)
    stop_hogs
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", b-a}')
    summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error).* =+$|^[0-9]+ (failed|passed|error)' "$dir/log" | tail -n 1 | sed 's/=//g; s/^ *//; s/ *$//')
    [ -n "$summary" ] || summary=$(tail -n 1 "$dir/log")
    if [ $rc = 0 ]; then result=pass; passed=$((passed + 1)); else result=FAIL; fi
    printf '%-4s %-5s %8s  %s\n' "$i" "$result" "$wall" "$summary"
    while read -r t; do
        [ -n "$t" ] && failed_in[$t]="${failed_in[$t]:-}${failed_in[$t]:+,}$i"
    done < <(grep -E '^(FAILED|ERROR) ' "$dir/log" | awk '{print $2}' | sort -u)
    [ "$keep" = 1 ] || rm -rf "$dir/p"
done
echo "ci_repeat: $passed of $runs passed"
if [ ${#failed_in[@]} -gt 0 ]; then
    echo "failures per test (runs):"
    for t in "${!failed_in[@]}"; do printf '  %-90s %s\n' "$t" "${failed_in[$t]}"; done | sort
fi
[ "$passed" = "$runs" ]
