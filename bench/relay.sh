#!/bin/bash
# bench/relay.sh [BUILD] - `sockit relay` beside socat (default and
# -b 131072), haproxy (TCP mode, one thread) and a direct connection, on
# loopback. Not a test: the numbers depend on the machine. Three parts:
#
#   throughput  SIZE_GIB of a file from the page cache, `sockit connect`
#               -> the middle -> `sockit listen > /dev/null`; GB/s,
#               median of RUNS, interleaved
#   latency     64-byte ping-pong through the middle to an epoll echo
#               server (`sockit bench -c 1`): p50 and p99, median of RUNS
#   memory      HOLD connections held open through the middle, each
#               checked with a one-byte echo: the middle's RSS per held
#               connection (user space only; socket and pipe buffers are
#               the kernel's) and the setup rate
#   udp         `sockit relay udp:` vs `socat UDP-LISTEN:,fork` vs direct:
#               echoed datagrams per second (`sockit bench -u`, UDP_C
#               clients, 8 in flight each, UDP_SECS) to `sockit serve -u
#               echo`, median of RUNS; UDP_ONLY=1 runs this part alone
#
# Pinning: the middle on CPU 1, the endpoints (sender, receiver, echo
# server, clients) on CPU 0, so each middle costs what it costs beside the
# same endpoints; on one CPU everything shares it, which the output says.
#
#   RUNS=3 SIZE_GIB=1 LAT_SECS=3 HOLD=5000 UDP_C=4 UDP_SECS=3 UDP_ONLY=0
set -eu

build=${1:-build}
runs=${RUNS:-3}
size_gib=${SIZE_GIB:-1}
lat_secs=${LAT_SECS:-3}
hold=${HOLD:-5000}
sockit=$build/sockit
tmp=$(mktemp -d)
file=$tmp/data.bin
note=""
. bench/lib.sh

haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$sockit" ] || { echo "relay.sh: no $sockit (run make first)" >&2; exit 1; }
need socat socat
need taskset util-linux
need ss iproute2
[ -x "$haproxy" ] || { echo "relay.sh: haproxy is missing: apt-get install haproxy (or sh scripts/deps.sh)" >&2; exit 1; }

mid_cpu=1 end_cpu=0
if [ "$(nproc)" -lt 2 ]; then
	mid_cpu=0
	note="; one CPU: everything shares it"
fi

pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Listening on 127.0.0.1:PORT yet? Asked of the kernel (ss), not by
# connecting: a probe connection would be relayed to a one-shot receiver.
wait_listen() {
	local i
	for i in $(seq 200); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.025
	done
	echo "relay.sh: nothing listens on 127.0.0.1:$1 ($2)" >&2
	exit 1
}

# Start middle NAME on 127.0.0.1:PORT forwarding to 127.0.0.1:TO, pinned
# on the middle's CPU; sets MID_PID.
mid_start() {
	local name=$1 port=$2 to=$3
	case $name in
	sockit)
		taskset -c $mid_cpu "$sockit" relay --workers 1 --max-conns 0 \
			--max-per-ip 0 "127.0.0.1:$port" "127.0.0.1:$to" 2>/dev/null &
		;;
	socat)
		taskset -c $mid_cpu socat TCP-LISTEN:"$port",bind=127.0.0.1,fork,reuseaddr \
			TCP:127.0.0.1:"$to" 2>/dev/null &
		;;
	socat-b128k)
		taskset -c $mid_cpu socat -b 131072 \
			TCP-LISTEN:"$port",bind=127.0.0.1,fork,reuseaddr \
			TCP:127.0.0.1:"$to" 2>/dev/null &
		;;
	haproxy)
		cat >"$tmp/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 9000
defaults
	mode tcp
	timeout connect 5s
	timeout client 300s
	timeout server 300s
frontend f
	bind 127.0.0.1:$port
	default_backend b
backend b
	server s1 127.0.0.1:$to
EOF
		taskset -c $mid_cpu "$haproxy" -db -f "$tmp/haproxy.cfg" 2>/dev/null &
		;;
	esac
	MID_PID=$!
	pids="$pids $MID_PID"
	wait_listen "$port" "$name"
}

mid_stop() {
	kill "$MID_PID" 2>/dev/null || true
	wait "$MID_PID" 2>/dev/null || true
}

# ---- UDP: datagrams per second ----

wait_udp() {
	local i
	for i in $(seq 200); do
		ss -Hlun "sport = :$1" | grep -q . && return 0
		sleep 0.025
	done
	echo "relay.sh: nothing bound on udp 127.0.0.1:$1 ($2)" >&2
	exit 1
}

# Echoed datagrams per second through 127.0.0.1:PORT.
udp_rate() {
	taskset -c $end_cpu "$sockit" bench -u -c "${UDP_C:-4}" -p 8 \
		-d "${UDP_SECS:-3}" --json "127.0.0.1:$1" 2>/dev/null |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
print("%.0f %d" % (d["requests_per_s"], d["errors"]))'
}

udp_part() {
	local uport r t to mpid
	uport=$(free_port)
	taskset -c $end_cpu "$sockit" serve -u --udp-rate 0 \
		--listen "127.0.0.1:$uport" echo 2>/dev/null &
	local epid=$!
	pids="$pids $epid"
	wait_udp "$uport" "serve -u echo"
	for r in $(seq "$runs"); do
		for t in direct sockit socat; do
			to=$uport mpid=""
			case $t in
			sockit)
				to=$(free_port)
				taskset -c $mid_cpu "$sockit" relay "udp:127.0.0.1:$to" \
					"udp:127.0.0.1:$uport" 2>/dev/null &
				mpid=$!
				;;
			socat)
				to=$(free_port)
				taskset -c $mid_cpu socat \
					UDP-LISTEN:"$to",bind=127.0.0.1,fork,reuseaddr \
					UDP:127.0.0.1:"$uport" 2>/dev/null &
				mpid=$!
				;;
			esac
			[ -z "$mpid" ] || { pids="$pids $mpid"; wait_udp "$to" "$t"; }
			set -- $(udp_rate "$to")
			echo "$1" >>"$tmp/udp.$t"
			echo "run $r udp $t $1 datagrams/s ($2 errors)" >&2
			[ -z "$mpid" ] || { kill "$mpid" 2>/dev/null || true; wait "$mpid" 2>/dev/null || true; }
		done
	done
	kill "$epid" 2>/dev/null || true
	printf '\nUDP echo (sockit bench -u -c %s -p 8, %s s) through the middle, median of %d runs\n\n' \
		"${UDP_C:-4}" "${UDP_SECS:-3}" "$runs"
	printf '%-12s %14s %10s %10s\n' middle "datagrams/s" "vs socat" "vs direct"
	for t in direct sockit socat; do
		awk -v t="$t" -v m="$(median <"$tmp/udp.$t")" -v s="$(median <"$tmp/udp.socat")" \
			-v d="$(median <"$tmp/udp.direct")" \
			'BEGIN { printf "%-12s %14.0f %9.2fx %9.2fx\n", t, m, m / s, m / d }'
	done
}

if [ "${UDP_ONLY:-0}" = 1 ]; then
	udp_part
	exit 0
fi

# ---- Throughput ----

kib_mem=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
while [ "$size_gib" -gt 1 ] && [ $((size_gib * 1048576 * 3 / 2)) -gt "$kib_mem" ]; do
	size_gib=$((size_gib / 2))
done
bytes=$((size_gib * 1073741824))
echo "writing $size_gib GiB of random data ..." >&2
head -c "$bytes" /dev/urandom >"$file"
cat "$file" >/dev/null

port_of() {
	local i port
	for i in $(seq 200); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$1" | head -1)
		[ -n "$port" ] && { echo "$port"; return; }
		sleep 0.025
	done
	echo "relay.sh: no port from: $(cat "$1")" >&2
	exit 1
}

# CPU seconds of PID and its reaped children (socat's forked child).
cpu_all() {
	sed 's/^.*) //' "/proc/$1/stat" |
		awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($12 + $13 + $14 + $15) / hz }'
}

# One transfer through middle NAME (or direct); prints nanoseconds and
# the middle's CPU seconds (0 for direct).
transfer() {
	local name=$1 rpid rx to t0 t1 mp
	taskset -c $end_cpu "$sockit" listen 0 </dev/null >/dev/null 2>"$tmp/rx.err" &
	rpid=$!
	pids="$pids $rpid" # killed on the way out if a middle fails to start
	rx=$(port_of "$tmp/rx.err")
	to=$rx
	if [ "$name" != direct ]; then
		mp=$(free_port)
		mid_start "$name" "$mp" "$rx"
		to=$mp
	fi
	t0=$(date +%s%N)
	taskset -c $end_cpu "$sockit" connect 127.0.0.1 "$to" <"$file"
	wait "$rpid"
	t1=$(date +%s%N)
	local cpu=0
	if [ "$name" != direct ]; then
		sleep 0.2 # socat's child reaped, its time in the parent's
		cpu=$(cpu_all "$MID_PID")
		mid_stop
	fi
	echo "$((t1 - t0)) $cpu"
}

tput="direct sockit socat socat-b128k haproxy"
for r in $(seq "$runs"); do
	for t in $tput; do
		set -- $(transfer "$t")
		echo "$1" >>"$tmp/tput.$t"
		echo "$2" >>"$tmp/cpu.$t"
		awk -v b="$bytes" -v ns="$1" -v c="$2" -v t="$t" -v r="$r" \
			'BEGIN { printf "run %d %-12s %6.2f GB/s, middle %.2f CPU s/GB\n", r, t, b / ns, c / (b / 1e9) }' >&2
	done
done

# ---- Latency ----

cc -O2 -o "$tmp/epoll_echo" bench/echo/epoll_echo.c
eport=$(free_port)
taskset -c $end_cpu "$tmp/epoll_echo" "$eport" &
pids="$pids $!"
wait_port "$eport" epoll_echo

# p50 and p99 in microseconds of one `sockit bench -c 1` run.
pingpong() {
	taskset -c $end_cpu "$sockit" bench -c 1 -t 1 -s 64 -d "$lat_secs" \
		--sources 1 --json "127.0.0.1:$1" 2>/dev/null |
		python3 -c 'import json, sys
d = json.load(sys.stdin)["latency_s"]
print("%.1f %.1f" % (d["p50"] * 1e6, d["p99"] * 1e6))'
}

lat="direct sockit haproxy socat"
for r in $(seq "$runs"); do
	for t in $lat; do
		to=$eport
		if [ "$t" != direct ]; then
			to=$(free_port)
			mid_start "$t" "$to" "$eport"
		fi
		set -- $(pingpong "$to")
		echo "$1" >>"$tmp/p50.$t"
		echo "$2" >>"$tmp/p99.$t"
		echo "run $r $t p50 $1 us p99 $2 us" >&2
		[ "$t" = direct ] || mid_stop
	done
done

# ---- Memory per held connection ----

cat >"$tmp/hold.py" <<'EOF'
import resource, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, n + 100))
t0 = time.monotonic()
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"x")
    if s.recv(1) != b"x":
        raise SystemExit("connection %d: no echo" % i)
    socks.append(s)
print("%.0f" % (n / (time.monotonic() - t0)), flush=True)
sys.stdin.readline()  # hold until told
EOF

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

for t in sockit haproxy; do
	to=$(free_port)
	mid_start "$t" "$to" "$eport"
	base=$(rss_kib "$MID_PID")
	mkfifo "$tmp/hold.in"
	taskset -c $end_cpu python3 "$tmp/hold.py" "$to" "$hold" <"$tmp/hold.in" >"$tmp/hold.out" &
	hpid=$!
	exec 9>"$tmp/hold.in"
	for i in $(seq 600); do
		[ -s "$tmp/hold.out" ] && break
		sleep 0.1
	done
	sleep 0.5
	held=$(rss_kib "$MID_PID")
	echo "$(cat "$tmp/hold.out") $base $held" >"$tmp/mem.$t"
	echo >&9
	exec 9>&-
	wait "$hpid" || true
	rm -f "$tmp/hold.in"
	mid_stop
	echo "memory $t: setup $(cat "$tmp/hold.out")/s, RSS $base KiB -> $held KiB" >&2
done

# ---- The table ----

med() { median <"$1"; }
gbs() { awk -v b="$bytes" -v ns="$(med "$tmp/tput.$1")" 'BEGIN { printf "%.2f", b / ns }'; }

printf '\nrelay throughput: %d GiB through the middle, median of %d runs; middle on CPU %s,\n' \
	"$size_gib" "$runs" "$mid_cpu"
printf 'sender and receiver on CPU %s%s\n\n' "$end_cpu" "$note"
printf '%-12s %8s %10s %10s %10s %14s\n' middle GB/s "vs socat" "vs haproxy" "vs direct" "middle CPU s/GB"
for t in $tput; do
	awk -v t="$t" -v m="$(gbs "$t")" -v s="$(gbs socat)" -v h="$(gbs haproxy)" \
		-v d="$(gbs direct)" -v c="$(med "$tmp/cpu.$t")" -v b="$bytes" \
		'BEGIN { printf "%-12s %8.2f %9.2fx %9.2fx %9.2fx %14.2f\n", t, m, m / s, m / h, m / d, c / (b / 1e9) }'
done

printf '\n64-byte ping-pong (sockit bench -c 1, %s s), median of %d runs, microseconds\n\n' \
	"$lat_secs" "$runs"
printf '%-12s %8s %8s %12s %12s\n' middle p50 p99 "p50 added" "p99 added"
for t in $lat; do
	awk -v t="$t" -v a="$(med "$tmp/p50.$t")" -v b="$(med "$tmp/p99.$t")" \
		-v da="$(med "$tmp/p50.direct")" -v db="$(med "$tmp/p99.direct")" \
		'BEGIN { printf "%-12s %8.1f %8.1f %12.1f %12.1f\n", t, a, b, a - da, b - db }'
done

printf '\n%d connections held (each checked by an echo), middle RSS (user space)\n\n' "$hold"
printf '%-12s %12s %14s %16s\n' middle "setup/s" "RSS KiB" "bytes per conn"
for t in sockit haproxy; do
	set -- $(cat "$tmp/mem.$t")
	awk -v t="$t" -v rate="$1" -v b="$2" -v h="$3" -v n="$hold" \
		'BEGIN { printf "%-12s %12d %7d->%-6d %16.0f\n", t, rate, b, h, (h - b) * 1024 / n }'
done

udp_part
