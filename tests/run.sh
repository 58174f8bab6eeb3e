#!/bin/sh
# tests/run.sh BUILD - run every Criterion binary of a build (unit, network,
# fault), replay every fuzz harness over its corpus, run the torture
# scenarios, the checks of the build (tests/build), then the example and
# command-line tests; print one total
# line; exit 1 on any failure.
#
# Each program's output goes to a file, not a pipe: a test that leaves a
# child behind holding its stdout must not hang the whole run.
set -u
build=${1:-build}
pass=0
fail=0
failed=""
out_file=$(mktemp)
trap 'rm -f "$out_file"' EXIT

# run CMD... - run CMD with its output in $out_file; sets rc.
run() {
	"$@" >"$out_file" 2>&1 </dev/null
	rc=$?
}

# Count a program that is one test: it passes when it exits 0.
count_one() {
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed="$failed $1"
		tail -30 "$out_file"
	fi
}

for t in "$build"/tests/unit/* "$build"/tests/net/* "$build"/tests/fault/*; do
	[ -x "$t" ] || continue
	case "$t" in *.d | *.o) continue ;; esac
	# --verbose for the [SKIP] lines: a test skipped (not root) says why.
	run "$t" --jobs 2 --full-stats --verbose
	grep -E '^\[(----|FAIL|SKIP|====)\]|Assertion|Warning|ERROR|SUMMARY|^fault:' "$out_file" |
		grep -vE '^\[====\] Running|^\[----\] Criterion v'
	syn=$(sed -n 's/.*Synthesis: Tested: \([0-9]*\) | Passing: \([0-9]*\) | Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2 \3 \4/p' "$out_file")
	if [ -n "$syn" ]; then
		set -- $syn
		pass=$((pass + $2))
		fail=$((fail + $3 + $4))
	fi
	if [ $rc -ne 0 ] || [ -z "$syn" ]; then
		[ -z "$syn" ] && fail=$((fail + 1)) && tail -20 "$out_file"
		failed="$failed ${t##*/}"
	fi
	# LeakSanitizer runs as a worker exits, after Criterion has counted
	# the test as passed: its report is a failure of its own.
	if grep -q 'ERROR: LeakSanitizer' "$out_file"; then
		grep -A12 'ERROR: LeakSanitizer' "$out_file" | head -40
		fail=$((fail + 1))
		failed="$failed ${t##*/}(leak)"
	fi
done

# Every harness over its checked-in corpus: one test each.
for f in "$build"/fuzz/*; do
	[ -x "$f" ] && [ -f "$f" ] || continue
	name=${f##*/}
	[ -d "fuzz/corpus/$name" ] || continue
	run "$f" "fuzz/corpus/$name"
	cat "$out_file"
	count_one "fuzz/$name"
done

# Allocation and system call torture: one test per scenario.
torture="$build/tests/torture/torture"
if [ -x "$torture" ]; then
	run "$torture" --max "${TORTURE_MAX:-50}" all
	grep -v '^torture: [0-9]' "$out_file"
	res=$(sed -n 's/^torture: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out_file")
	if [ -n "$res" ]; then
		set -- $res
		pass=$((pass + $1))
		fail=$((fail + $2))
		echo "torture: $1 scenarios passed, $2 failed"
	fi
	if [ $rc -ne 0 ] || [ -z "$res" ]; then
		[ -z "$res" ] && fail=$((fail + 1)) && tail -20 "$out_file"
		failed="$failed torture"
	fi
fi

# Checks of the build itself (exported symbols, layer order, format, the
# Debian packages): one test each. Exit status 77 is a skip whose reason
# the check prints (a tool or an artefact it needs is missing).
for t in tests/build/*.sh; do
	[ -f "$t" ] || continue
	run sh "$t" "$build"
	cat "$out_file"
	[ "$rc" -eq 77 ] && continue
	count_one "${t#tests/}"
done

for py in tests/examples/run.py tests/cli/run.py; do
	[ -f "$py" ] || continue
	run python3 "$py" "$build"
	tail -40 "$out_file"
	res=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$out_file" | tail -1)
	if [ -n "$res" ]; then
		set -- $res
		pass=$((pass + $1))
		fail=$((fail + $2))
	fi
	if [ $rc -ne 0 ] || [ -z "$res" ]; then
		[ -z "$res" ] && fail=$((fail + 1))
		failed="$failed $py"
	fi
done
echo "sockit tests ($build): $pass passed, $fail failed"
[ -n "$failed" ] && echo "failing:$failed"
[ "$fail" -eq 0 ] && [ -z "$failed" ]
