#!/bin/sh
# tests/run.sh BUILD - run every Criterion binary of a build, then the
# example and command-line tests; print one total line; exit 1 on any failure.
set -u
build=${1:-build}
pass=0
fail=0
failed=""
for t in "$build"/tests/unit/* "$build"/tests/net/*; do
	[ -x "$t" ] || continue
	case "$t" in *.d | *.o) continue ;; esac
	out=$("$t" --jobs 2 --full-stats 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[(----|FAIL|====)\]|Assertion|Warning|ERROR|SUMMARY' | grep -v '^\[====\] Running'
	syn=$(printf '%s\n' "$out" | sed -n 's/.*Synthesis: Tested: \([0-9]*\) | Passing: \([0-9]*\) | Failing: \([0-9]*\) | Crashing: \([0-9]*\).*/\1 \2 \3 \4/p')
	if [ -n "$syn" ]; then
		set -- $syn
		pass=$((pass + $2))
		fail=$((fail + $3 + $4))
	fi
	if [ $rc -ne 0 ] || [ -z "$syn" ]; then
		[ -z "$syn" ] && fail=$((fail + 1)) && printf '%s\n' "$out" | tail -20
		failed="$failed ${t##*/}"
	fi
done
for py in tests/examples/run.py tests/cli/run.py; do
	[ -f "$py" ] || continue
	out=$(python3 "$py" "$build" 2>&1)
	rc=$?
	printf '%s\n' "$out" | tail -40
	res=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' | tail -1)
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
