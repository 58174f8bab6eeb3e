#!/bin/sh
# tests/valgrind.sh BUILD [BINARY...] - run the Criterion binaries of BUILD
# (default: unit and network; VALGRIND_SET=ci: the subset below) under
# valgrind memcheck; exit 1 if any
# process reported an error (invalid access, use of uninitialised memory,
# a definite or indirect leak), or a test failed. The fault tests are left
# out by default: they measure latency and move megabytes against
# deadlines that memcheck's slowdown would break (they run under ASan in
# `make test`); name them to run them anyway.
#
# How it works with Criterion: each test runs in a worker process that
# Criterion starts from its own binary. --trace-children=yes follows the
# workers; --no-early-exit makes each worker return from main() instead
# of _exit()ing, so memcheck sees its heap at the end (Criterion's advice
# for valgrind). Starting a worker under memcheck costs about a second,
# so two run at once (VALGRIND_JOBS=1 for one at a time). Memcheck's
# errors in a worker do not change what Criterion reports, so every
# process logs to its own file (--log-file=%p) and this script reads their
# "ERROR SUMMARY" lines.
#
# --track-fds=yes lists the fds open at each exit in those logs
# (Criterion's own pipes among them; valgrind 3.19 cannot make them
# errors): the tests' own teardown already fails any test that leaks an
# fd. The helpers tests start (python3 peers, shells, ip, iptables) are
# not ours and are left untraced. tests/valgrind.supp holds the false
# positives; SKIP names the tests that cannot run under valgrind at all.
set -u
build=${1:-build}
[ $# -gt 0 ] && shift
# valgrind keeps fds of its own and refuses a client's setrlimit
# (RLIMIT_NOFILE) that does not keep its hard limit: the loop listener's
# out-of-fds test cannot lower the limit.
SKIP='loop_listen/listener_survives_emfile_without_spinning_*'
# VALGRIND_SET=ci: the subset CI runs. The whole set takes 10 to 25
# minutes on two loaded cores (memcheck runs a test 20 to 50 times slower
# and each worker costs a second to start); the subset keeps one binary
# per layer where heap bugs would live - the pure codecs and the
# histogram, the blocking connection and frame I/O, the loop's reads,
# streams, water marks and UDP, the relay and the services - about half
# the time.
CI_SET="unit/hist_test unit/frame_test unit/http_resp_test
unit/http_chunked_test unit/addr_test net/conn_test net/frame_io_test
net/loop_read_test net/loop_stream_test net/loop_water_test
net/loop_udp_test net/relay_test net/service_run_test"
if [ $# -eq 0 ] && [ "${VALGRIND_SET:-all}" = ci ]; then
	for t in $CI_SET; do
		set -- "$@" "$build/tests/$t"
	done
fi
[ $# -gt 0 ] || set -- "$build"/tests/unit/* "$build"/tests/net/*
jobs=${VALGRIND_JOBS:-2}
logs="$build/valgrind"
rm -rf "$logs"
mkdir -p "$logs"
bad=""
for t in "$@"; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	case "$t" in *.d | *.o) continue ;; esac
	name=${t##*/}
	mkdir -p "$logs/$name"
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--show-leak-kinds=definite,indirect --track-fds=yes \
		--trace-children=yes --log-file="$logs/$name/%p.log" \
		--trace-children-skip='*python*,*/sh,*/bash,*/ip,*tables*,*/unshare' \
		--suppressions=tests/valgrind.supp \
		"$t" --jobs "$jobs" --no-early-exit --filter "!($SKIP)" >"$logs/$name/out" 2>&1
	rc=$?
	syn=$(grep -h 'Synthesis' "$logs/$name/out")
	errs=$(grep -l 'ERROR SUMMARY: [1-9]' "$logs/$name"/*.log 2>/dev/null)
	echo "valgrind $name: ${syn#*Synthesis: }"
	if [ -n "$errs" ]; then
		for f in $errs; do
			grep -E -A12 'Invalid|uninitialised|definitely lost|indirectly lost' "$f" | head -40
		done
		bad="$bad $name"
	elif [ $rc -ne 0 ]; then
		grep -E '^\[(----|FAIL)\]' "$logs/$name/out" | head -20
		bad="$bad $name(tests)"
	fi
done
if [ -n "$bad" ]; then
	echo "valgrind: errors in:$bad (logs in $logs)"
	exit 1
fi
echo "valgrind: no errors (logs in $logs)"
