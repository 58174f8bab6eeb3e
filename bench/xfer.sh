#!/bin/bash
# bench/xfer.sh [BUILD] - sockit send/recv beside iperf3 and nc on loopback:
# one big file of random data from tmpfs to tmpfs, RUNS times each,
# interleaved, receiver pinned on CPU 0 and sender on CPU 1; prints the
# median GB/s of each and its ratio to iperf3 and to nc, then a resume:
# the sender killed (kill -9) at half the file, and the second run's time
# beside a full run's. Not a test: the numbers depend on the machine.
#
#   RUNS=3        runs per row (odd, so the median is one run)
#   SIZE_GIB=4    file size; halved until twice of it fits /dev/shm and
#                 memory
#   SHM=/dev/shm  the tmpfs for the file and the receiver's copy
#
# Rows: iperf3 -n SIZE (memory to memory, verifies nothing), nc piping the
# file to /dev/null and to a tmpfs file (netcat-openbsd, -N), then sockit
# with --verify none, xxh3 and sha256 into a tmpfs DIR. sockit's time is
# the sender's, start to exit: it exits after the receiver's ACK, so the
# last byte is written and verified.
set -eu

build=${1:-build}
runs=${RUNS:-3}
size_gib=${SIZE_GIB:-4}
shm=${SHM:-/dev/shm}
sockit=$build/sockit
. bench/lib.sh

[ -x "$sockit" ] || { echo "xfer.sh: no $sockit (run make first)" >&2; exit 1; }
need nc netcat-openbsd
need iperf3 iperf3
need taskset util-linux

kib_free=$(df -Pk "$shm" | awk 'NR == 2 { print $4 }')
kib_mem=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
while [ "$size_gib" -gt 1 ] &&
	{ [ $((size_gib * 1048576 * 2 + 1048576)) -gt "$kib_free" ] ||
	  [ $((size_gib * 1048576 * 3)) -gt "$kib_mem" ]; }; do
	size_gib=$((size_gib / 2))
done
bytes=$((size_gib << 30))

tmp=$(mktemp -d "$shm/sockit-bench-xfer.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
src=$tmp/src.bin
mkdir -p "$tmp/dst"
head -c "$bytes" /dev/urandom >"$src"

rx_cpu=0 tx_cpu=1
[ "$(nproc)" -ge 2 ] || tx_cpu=0

now() { date +%s.%N; }
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.3f\n", b / s / 1e9 }'; }

# sockit recv on port 0; sets RECV_PID and RECV_PORT.
recv_start() {
	: >"$tmp/recv.err"
	taskset -c $rx_cpu "$sockit" recv -q "$@" --dir "$tmp/dst" 0 2>"$tmp/recv.err" &
	RECV_PID=$!
	RECV_PORT=""
	for _ in $(seq 100); do
		RECV_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/recv.err")
		[ -n "$RECV_PORT" ] && return 0
		sleep 0.05
	done
	echo "xfer.sh: recv did not listen" >&2
	exit 1
}

one_sockit() { # ALG [tls|secret] -> seconds
	rm -rf "$tmp/dst"/*
	case ${2-} in
	tls) recv_start --tls ;;
	secret) recv_start --secret bench-secret ;;
	*) recv_start ;;
	esac
	extra=""
	case ${2-} in
	tls) extra="--tls --pin $(sed -n 's/.*--pin \(sha256:[0-9a-f]*\).*/\1/p' "$tmp/recv.err")" ;;
	secret) extra="--secret bench-secret" ;;
	esac
	t0=$(now)
	# shellcheck disable=SC2086 # extra is words
	taskset -c $tx_cpu "$sockit" send -q --verify "$1" $extra 127.0.0.1 "$RECV_PORT" "$src"
	t1=$(now)
	wait "$RECV_PID"
	cmp -s "$src" "$tmp/dst/src.bin" || { echo "xfer.sh: sockit $1: the copy differs" >&2; exit 1; }
	rm -f "$tmp/dst/src.bin"
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

one_nc() { # OUT -> seconds
	port=$(free_port)
	taskset -c $rx_cpu nc -l 127.0.0.1 "$port" >"$1" &
	p=$!
	wait_port "$port" nc
	# wait_port's probe was the one connection nc -l takes: start again.
	wait "$p" || true
	taskset -c $rx_cpu nc -l 127.0.0.1 "$port" >"$1" &
	p=$!
	sleep 0.2
	t0=$(now)
	taskset -c $tx_cpu nc -N 127.0.0.1 "$port" <"$src"
	wait "$p"
	t1=$(now)
	[ "$1" = /dev/null ] || rm -f "$1"
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

one_iperf() { # -> seconds (iperf3's own sender time)
	port=$(free_port)
	taskset -c $rx_cpu iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
	p=$!
	sleep 0.3
	s=$(taskset -c $tx_cpu iperf3 -c 127.0.0.1 -p "$port" -n "$bytes" -J |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["seconds"])')
	wait "$p" || true
	echo "$s"
}

rows="iperf3 nc_null nc_tmpfs none xxh3 sha256 tls_xxh3 secret_xxh3"
for r in $rows; do : >"$tmp/t.$r"; done
for i in $(seq "$runs"); do
	one_iperf >>"$tmp/t.iperf3"
	one_nc /dev/null >>"$tmp/t.nc_null"
	one_nc "$tmp/dst/nc.bin" >>"$tmp/t.nc_tmpfs"
	for a in none xxh3 sha256; do one_sockit $a >>"$tmp/t.$a"; done
	one_sockit xxh3 tls >>"$tmp/t.tls_xxh3"
	one_sockit xxh3 secret >>"$tmp/t.secret_xxh3"
done

printf 'xfer.sh: %d GiB of random data on loopback, %d runs each, median; receiver on CPU %d, sender on CPU %d\n' \
	"$size_gib" "$runs" "$rx_cpu" "$tx_cpu"
ip=$(rate "$(median <"$tmp/t.iperf3")")
nc=$(rate "$(median <"$tmp/t.nc_tmpfs")")
printf '%-34s %8s %10s %8s\n' row GB/s "x iperf3" "x nc"
for r in $rows; do
	g=$(rate "$(median <"$tmp/t.$r")")
	case $r in
	iperf3) name="iperf3 -n (memory, no check)" ;;
	nc_null) name="nc file -> /dev/null" ;;
	nc_tmpfs) name="nc file -> tmpfs file" ;;
	tls_xxh3) name="sockit send/recv --tls (xxh3)" ;;
	secret_xxh3) name="sockit send/recv --secret (xxh3)" ;;
	*) name="sockit send/recv --verify $r" ;;
	esac
	printf '%-34s %8s %10s %8s\n' "$name" "$g" \
		"$(awk -v a="$g" -v b="$ip" 'BEGIN { printf "%.2f", a / b }')" \
		"$(awk -v a="$g" -v b="$nc" 'BEGIN { printf "%.2f", a / b }')"
done

# 10,000 small files (1..8 KiB): sockit (xxh3) against tar c | nc ->
# nc | tar x, which verifies nothing; wall time of the whole copy.
tree=$tmp/tree
mkdir -p "$tree"
python3 - "$tree" <<'PY'
import os, random, sys
random.seed(1)
for d in range(100):
    p = os.path.join(sys.argv[1], "d%03d" % d)
    os.mkdir(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d" % f), "wb") as fh:
            fh.write(os.urandom(random.randint(1024, 8192)))
PY
: >"$tmp/t.tree_sockit"
: >"$tmp/t.tree_tar"
for i in $(seq "$runs"); do
	rm -rf "$tmp/dst"/*
	recv_start
	t0=$(now)
	taskset -c $tx_cpu "$sockit" send -q 127.0.0.1 "$RECV_PORT" "$tree"
	t1=$(now)
	wait "$RECV_PID"
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$tmp/t.tree_sockit"
	rm -rf "$tmp/dst"/*
	port=$(free_port)
	(cd "$tmp/dst" && taskset -c $rx_cpu nc -l 127.0.0.1 "$port" | tar xf -) &
	p=$!
	sleep 0.3
	t0=$(now)
	(cd "$tmp" && tar cf - tree) | taskset -c $tx_cpu nc -N 127.0.0.1 "$port"
	wait "$p"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$tmp/t.tree_tar"
	diff -r "$tree" "$tmp/dst/tree" >/dev/null || { echo "xfer.sh: tar's tree differs" >&2; exit 1; }
done
ts=$(median <"$tmp/t.tree_sockit")
tt=$(median <"$tmp/t.tree_tar")
printf '10,000 small files: sockit %.3f s, tar|nc %.3f s (sockit in %.2fx the time)\n' \
	"$ts" "$tt" "$(awk -v a="$ts" -v b="$tt" 'BEGIN { print a / b }')"
rm -rf "$tree" "$tmp/dst"/*

# Resume: kill -9 the sender once the receiver's .part holds half the
# file, then the same commands again; the second run against a full one.
rm -rf "$tmp/dst"/*
recv_start
taskset -c $tx_cpu "$sockit" send -q 127.0.0.1 "$RECV_PORT" "$src" &
sp=$!
pids="$sp"
while :; do
	sz=$(stat -c %s "$tmp/dst/src.bin.part" 2>/dev/null || echo 0)
	[ "$sz" -ge $((bytes / 2)) ] && break
	kill -0 "$sp" 2>/dev/null || { echo "xfer.sh: the sender ended before half" >&2; exit 1; }
	sleep 0.005
done
kill -9 "$sp"
wait "$sp" 2>/dev/null || true
wait "$RECV_PID" 2>/dev/null || true
pids=""
recv_start --json
t0=$(now)
taskset -c $tx_cpu "$sockit" send -q 127.0.0.1 "$RECV_PORT" "$src"
t1=$(now)
wait "$RECV_PID"
cmp -s "$src" "$tmp/dst/src.bin" || { echo "xfer.sh: the resumed copy differs" >&2; exit 1; }
second=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
full=$(median <"$tmp/t.xxh3")
printf 'resume after kill -9 of the sender at 50%%: second run %.3f s, full run %.3f s (%.2fx)\n' \
	"$second" "$full" "$(awk -v a="$second" -v b="$full" 'BEGIN { print a / b }')"
