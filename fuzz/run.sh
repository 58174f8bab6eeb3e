#!/bin/sh
# fuzz/run.sh BUILD SECONDS [NAME...] - run each libFuzzer harness of BUILD
# (default: every fuzz/<name>.c) for SECONDS, seeded with its checked-in
# corpus. New interesting inputs go to fuzz/out/corpus/<name>/ (gitignored;
# copy the few worth keeping into fuzz/corpus/<name>/), crashes to
# fuzz/out/crashes/<name>-*, the full log to fuzz/out/<name>.log. Prints one
# line per harness with its executions and speed; exits 1 on any crash.
set -u
build=$1
secs=$2
shift 2
[ $# -gt 0 ] || set -- $(for f in fuzz/*.c; do n=${f##*/}; echo "${n%.c}"; done)
mkdir -p fuzz/out/crashes
failed=""
for name in "$@"; do
	bin="$build/fuzz/$name"
	out="fuzz/out/corpus/$name"
	log="fuzz/out/$name.log"
	mkdir -p "$out"
	dict=""
	[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
	# -max_len: every parser here takes short text; 4 KiB leaves the
	# decoders room for several frames. -timeout: no input takes more
	# than milliseconds, so 10 s is a hang. The output corpus comes
	# first: libFuzzer writes new inputs only there.
	"$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 $dict \
		-artifact_prefix="fuzz/out/crashes/$name-" \
		"$out" "fuzz/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	kept=$(ls "$out" | wc -l)
	echo "fuzz $name: ${execs:-?} executions in ${secs} s (${speed:-?}/s), $cov, $kept inputs in $out"
	if [ $rc -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|property failed|Test unit written' "$log" | head -20
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: crashes in:$failed (inputs in fuzz/out/crashes/)"
	exit 1
fi
