#!/bin/sh
# bench/socks5.sh [BUILD] - bulk TCP through a SOCKS5 proxy on loopback:
# `sockit connect --proxy socks5://...` sends SIZE_MIB of zeros to
# `socat -u ... STDOUT > /dev/null` through `sockit serve socks5` (one worker)
# and through microsocks (Debian's; a thread per connection), and once
# directly; RUNS times each, interleaved; prints the median MB/s of each
# and the ratios. Receiver and sender on CPU 0, the proxy on CPU 1. Not a
# test: numbers depend on the machine. See bench/README.md.
#
#   RUNS=5        runs per path (odd, so the median is one run)
#   SIZE_MIB=2048 bytes sent per run
set -eu
. bench/lib.sh

build=${1:-build}
runs=${RUNS:-5}
size_mib=${SIZE_MIB:-2048}
sockit=$build/sockit
[ -x "$sockit" ] || { echo "socks5.sh: no $sockit (run make first)" >&2; exit 1; }
need taskset util-linux
need microsocks microsocks
need socat socat
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	wait 2>/dev/null || :
	rm -rf "$tmp"
}
trap cleanup EXIT

ps_port=$(free_port)
taskset -c 1 "$sockit" serve socks5 --workers 1 --listen "127.0.0.1:$ps_port" \
	2>"$tmp/serve.log" &
pids="$pids $!"
ms_port=$(free_port)
taskset -c 1 microsocks -i 127.0.0.1 -p "$ms_port" >/dev/null 2>&1 &
pids="$pids $!"
wait_port "$ps_port" "serve socks5"
wait_port "$ms_port" microsocks

# One run: MB/s of SIZE_MIB through PROXY (a URL, or "" for direct),
# the receiver `socat -u` on port 0 with the port read back from its
# stderr (as bench/transfer.sh does). Not `sockit listen`: at the end of
# its stdin it half-closes, as nc does, and microsocks then ends the
# whole tunnel (it has no half-close), so the sender would meet EPIPE.
one() {
	: >"$tmp/err"
	taskset -c 0 socat -d -d -u TCP-LISTEN:0,bind=127.0.0.1 STDOUT \
		>/dev/null 2>"$tmp/err" &
	rx=$!
	port=""
	for _ in $(seq 200); do
		port=$(sed -n 's/.*listening on AF=2 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/err" | head -1)
		[ -n "$port" ] && break
		sleep 0.025
	done
	[ -n "$port" ] || { echo "socks5.sh: no port from: $(cat "$tmp/err")" >&2; exit 1; }
	t0=$(date +%s.%N)
	if [ -n "$1" ]; then
		head -c "${size_mib}M" /dev/zero |
			taskset -c 0 "$sockit" connect --proxy "$1" 127.0.0.1 "$port"
	else
		head -c "${size_mib}M" /dev/zero |
			taskset -c 0 "$sockit" connect 127.0.0.1 "$port"
	fi
	wait "$rx"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v m="$size_mib" 'BEGIN { printf "%.0f\n", m * 1.048576 / (b - a) }'
}

: >"$tmp/direct"
: >"$tmp/sockit"
: >"$tmp/microsocks"
i=0
while [ $i -lt "$runs" ]; do
	one "" >>"$tmp/direct"
	one "socks5://127.0.0.1:$ps_port" >>"$tmp/sockit"
	one "socks5://127.0.0.1:$ms_port" >>"$tmp/microsocks"
	i=$((i + 1))
done
d=$(median <"$tmp/direct")
s=$(median <"$tmp/sockit")
m=$(median <"$tmp/microsocks")
echo "socks5: $size_mib MiB, median of $runs runs, MB/s (receiver+sender CPU 0, proxy CPU 1)"
printf '  direct                   %6d\n' "$d"
printf '  sockit serve socks5      %6d   %.2fx microsocks, %.2fx direct\n' "$s" \
	"$(awk -v a="$s" -v b="$m" 'BEGIN { print a / b }')" \
	"$(awk -v a="$s" -v b="$d" 'BEGIN { print a / b }')"
printf '  microsocks               %6d   %.2fx direct\n' "$m" \
	"$(awk -v a="$m" -v b="$d" 'BEGIN { print a / b }')"
