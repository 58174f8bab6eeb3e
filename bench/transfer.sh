#!/bin/bash
# bench/transfer.sh [BUILD] - move one big file over loopback TCP with
# `sockit listen > /dev/null` + `sockit connect < file`, with netcat-openbsd
# (`nc -l` + `nc -N`) and with socat (`-u`), RUNS times each, interleaved;
# print the median GB/s of each and its ratio to nc. Not a test: numbers
# depend on the machine. See bench/README.md.
#
#   RUNS=5        runs per tool (odd, so the median is one run)
#   SIZE_GIB=4    file size; halved until it fits the disk and page cache
#   BENCH_DIR=    where the file goes (default $TMPDIR or /tmp)
#   KEEP=1        keep the file for the next run
set -eu

build=${1:-build}
runs=${RUNS:-5}
size_gib=${SIZE_GIB:-4}
dir=${BENCH_DIR:-${TMPDIR:-/tmp}}
sockit=$build/sockit
file=$dir/sockit-bench-transfer.bin
tmp=$(mktemp -d)
note=""

cleanup() {
	rm -rf "$tmp"
	[ "${KEEP:-0}" = 1 ] || rm -f "$file"
}
trap cleanup EXIT

[ -x "$sockit" ] || { echo "transfer.sh: no $sockit (run make first)" >&2; exit 1; }
for t in nc socat taskset; do
	command -v $t >/dev/null || { echo "transfer.sh: $t is missing (make deps)" >&2; exit 1; }
done

# Receiver on CPU 0, sender on CPU 1, as the issue measured; one CPU only
# means both share it, which the output says.
rx_cpu=0 tx_cpu=1
if [ "$(nproc)" -lt 2 ]; then
	tx_cpu=0
	note="$note; one CPU: sender and receiver share it"
fi

# The file must be real data on disk (no sparse holes, no /dev/zero pipe:
# the issue moves a file) and fit the page cache, or the disk is measured.
kib_free=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
kib_mem=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
want=$size_gib
while [ "$size_gib" -gt 1 ] &&
	{ [ $((size_gib * 1048576 * 11 / 10)) -gt "$kib_free" ] ||
	  [ $((size_gib * 1048576 * 3 / 2)) -gt "$kib_mem" ]; }; do
	size_gib=$((size_gib / 2))
done
[ "$size_gib" = "$want" ] || note="$note; ${size_gib} GiB instead of ${want} GiB (disk or memory too small)"
bytes=$((size_gib * 1073741824))

if [ ! -f "$file" ] || [ "$(stat -c %s "$file")" != "$bytes" ]; then
	echo "writing $size_gib GiB of random data to $file ..." >&2
	head -c "$bytes" /dev/urandom >"$file"
fi
# Written back before the clock runs (writeback would steal CPU from the
# first runs), then read into the page cache.
sync "$file"
cat "$file" >/dev/null

# The port a receiver printed: poll its stderr (port 0, read back).
port_of() {
	local i port
	for i in $(seq 200); do
		port=$(sed -n "$2" "$1" | head -1)
		[ -n "$port" ] && { echo "$port"; return; }
		sleep 0.025
	done
	echo "transfer.sh: no port from: $(cat "$1")" >&2
	exit 1
}

# One transfer: receiver started and listening, then the clock runs from
# the sender's start until both have exited. Prints nanoseconds.
run_one() {
	local tool=$1 rpid port t0 t1
	: >"$tmp/err"
	case $tool in
	sockit)
		taskset -c $rx_cpu "$sockit" listen 0 </dev/null >/dev/null 2>"$tmp/err" &
		rpid=$!
		port=$(port_of "$tmp/err" 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p')
		t0=$(date +%s%N)
		taskset -c $tx_cpu "$sockit" connect 127.0.0.1 "$port" <"$file"
		;;
	nc)
		taskset -c $rx_cpu nc -lv 127.0.0.1 0 </dev/null >/dev/null 2>"$tmp/err" &
		rpid=$!
		port=$(port_of "$tmp/err" 's/^Listening on .* \([0-9]*\)$/\1/p')
		t0=$(date +%s%N)
		taskset -c $tx_cpu nc -N 127.0.0.1 "$port" <"$file"
		;;
	socat)
		taskset -c $rx_cpu socat -d -d -u TCP-LISTEN:0,bind=127.0.0.1 STDOUT \
			>/dev/null 2>"$tmp/err" &
		rpid=$!
		port=$(port_of "$tmp/err" 's/.*listening on AF=2 127\.0\.0\.1:\([0-9]*\)$/\1/p')
		t0=$(date +%s%N)
		taskset -c $tx_cpu socat -u STDIN TCP:127.0.0.1:"$port" <"$file"
		;;
	esac
	wait "$rpid"
	t1=$(date +%s%N)
	echo $((t1 - t0))
}

tools="sockit nc socat"
for r in $(seq "$runs"); do
	for t in $tools; do
		ns=$(run_one "$t")
		echo "$ns" >>"$tmp/$t"
		awk -v b="$bytes" -v ns="$ns" -v t="$t" -v r="$r" \
			'BEGIN { printf "run %d %-6s %6.2f GB/s\n", r, t, b / ns }' >&2
	done
done

# Median (and range) per tool, in GB/s (bytes per nanosecond).
stat_of() {
	sort -n "$tmp/$1" | awk -v b="$bytes" '
		{ v[NR] = $1 }
		END { printf "%.2f %.2f %.2f", b / v[int((NR + 1) / 2)], b / v[NR], b / v[1] }'
}
nc_median=$(stat_of nc | cut -d' ' -f1)
printf '\nloopback TCP, %d GiB file from the page cache to /dev/null, receiver on CPU %s,\n' \
	"$size_gib" "$rx_cpu"
printf 'sender on CPU %s, median of %d runs%s\n\n' "$tx_cpu" "$runs" "$note"
printf '%-8s %12s %8s %8s %10s\n' tool "median GB/s" min max "vs nc"
for t in $tools; do
	set -- $(stat_of "$t")
	awk -v t="$t" -v m="$1" -v lo="$2" -v hi="$3" -v n="$nc_median" \
		'BEGIN { printf "%-8s %12.2f %8.2f %8.2f %9.2fx\n", t, m, lo, hi, m / n }'
done
