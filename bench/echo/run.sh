#!/bin/sh
# bench/echo/run.sh - build the echo servers and the load generator, run
# every server under every load, print one table with ratios.
#
#   sh bench/echo/run.sh            the whole matrix (about 20 minutes)
#   CONNS="50 1000" SIZES=64 sh bench/echo/run.sh     a part of it
#
# Knobs (environment): SERVERS (epoll sockit uv ev asyncio), CONNS
# (1 50 1000), SIZES (64 4096), MODES (pp pipe: ping-pong, pipelined depth
# DEPTH=16), DUR seconds per run (3), RUNS per cell (3, the median is
# kept), WARM seconds before measuring (0.5), OUT build dir
# (/tmp/sockit-bench), CC (cc). The server runs on CPU 0 and the load on
# CPU 1 (taskset); server CPU per message comes from /proc/PID/stat over
# the measured window. APPEND=1 adds to the results of an earlier run in
# OUT (to rerun one server) instead of starting afresh. Needs libuv1-dev,
# libevent-dev (scripts/deps.sh). The build and the helpers are in
# bench/lib.sh; bench/suite.sh (`make bench`) runs this matrix too, with
# `sockit bench` as the load, beside the HTTP and scan comparisons.
set -eu
cd "$(dirname "$0")/../.."
. bench/lib.sh
SERVERS=${SERVERS:-"epoll sockit uv ev asyncio"}
CONNS=${CONNS:-"1 50 1000"}
SIZES=${SIZES:-"64 4096"}
MODES=${MODES:-"pp pipe"}
DEPTH=${DEPTH:-16}
DUR=${DUR:-3}
RUNS=${RUNS:-3}
WARM=${WARM:-0.5}
OUT=${OUT:-/tmp/sockit-bench}

mkdir -p "$OUT"
ulimit -n 65536 2>/dev/null || ulimit -n 4096
echo "building in $OUT" >&2
make -s BUILD="$OUT/lib" lib >&2
echo_build "$OUT" "$OUT/lib/libsockit.a"

RES="$OUT/results.txt"
[ -n "${APPEND:-}" ] || : > "$RES"
# Every server runs at once (idle ones sleep in their poll), and each run
# of a cell visits the servers in turn, so a disturbance of the machine
# (another job, a CPU frequency change) falls on all of them alike rather
# than on whichever server was being measured at the time.
PIDS=""
for srv in $SERVERS; do
	port=$(free_port)
	echo_start "$srv" "$port" 0 "$OUT"
	eval "PORT_$srv=$port PID_$srv=$SPID"
	PIDS="$PIDS $SPID"
done
trap 'kill -INT $PIDS 2>/dev/null || true' EXIT
for c in $CONNS; do for s in $SIZES; do for m in $MODES; do
	d=1
	[ "$m" = pipe ] && d=$DEPTH
	for srv in $SERVERS; do : > "$OUT/runs.$srv"; done
	r=0
	while [ $r -lt "$RUNS" ]; do
		for srv in $SERVERS; do
			eval "port=\$PORT_$srv pid=\$PID_$srv"
			taskset -c 1 "$OUT/echo_load" -p "$port" -c "$c" -s "$s" \
				-d "$d" -t "$DUR" -w "$WARM" -P "$pid" >> "$OUT/runs.$srv"
		done
		r=$((r + 1))
	done
	for srv in $SERVERS; do
		f="$OUT/runs.$srv"
		rate=$(field rate < "$f" | median)
		cpu=$(field cpu_us_per_msg < "$f" | median)
		p99=$(field p99_us < "$f" | median)
		load=$(field load_cpu < "$f" | median)
		echo "$srv $c $s $m $rate $cpu $p99 $load" | tee -a "$RES" >&2
	done
done; done; done
kill -INT $PIDS 2>/dev/null || true
wait 2>/dev/null || true
trap - EXIT

# One row per load: each server's throughput (k msg/s) and server CPU per
# message (us), then sockit's ratios: throughput x (higher is better) and
# CPU per message x (lower is better) against libuv and the epoll reference.
awk '
{ k = $2 " " $3 " " $4; rate[$1, k] = $5; cpu[$1, k] = $6; p99[$1, k] = $7
  if (!(k in seen)) { seen[k] = 1; order[++n] = k }
  if (!($1 in known)) { known[$1] = 1; S[++ns] = $1 } }
END {
	printf "%-18s", "conns size mode"
	for (i = 1; i <= ns; i++) printf " %14s", S[i] " kmsg/s|us"
	printf " | %-23s | %-23s\n", "sockit/uv  thru  cpu", "sockit/epoll thru cpu"
	for (j = 1; j <= n; j++) {
		k = order[j]; split(k, f, " ")
		printf "%-18s", sprintf("%5s %5s %-4s", f[1], f[2], f[3])
		for (i = 1; i <= ns; i++)
			printf " %7.1f|%6.2f", rate[S[i], k] / 1000, cpu[S[i], k]
		r1 = rate["uv", k] ? rate["sockit", k] / rate["uv", k] : 0
		c1 = cpu["sockit", k] ? cpu["uv", k] / cpu["sockit", k] : 0
		r2 = rate["epoll", k] ? rate["sockit", k] / rate["epoll", k] : 0
		c2 = cpu["sockit", k] ? cpu["epoll", k] / cpu["sockit", k] : 0
		printf " | %9.2fx %9.2fx | %9.2fx %9.2fx\n", r1, c1, r2, c2
	}
	print "cpu ratios are efficiency: other server us/msg over sockit us/msg (> 1: sockit uses less)"
}' "$RES"
