#!/bin/bash
# bench/scan_net.sh [BUILD] - scanning networks, not one host: `sockit
# scan` beside `nmap -sT -T4` (plain, and with --min-rate), masscan, and
# the kernel's own connect rate (bench/epscan.c over many addresses), in
# two spaces, each inside network namespaces this script makes (nothing
# outside them is probed):
#   filtered   a /20 x 10 ports (40,960 probes): 1% of the hosts answer
#              (two listeners each, the other ports refuse), an iptables
#              rule drops the SYNs to the other 99%, so each of their
#              probes must time out;
#   answering  a /24 x 1000 ports (256,000 probes), all answering: one
#              listener per host, every other port refuses at once.
# Each space is built twice: on lo (127/8 is all local in a namespace),
# where the connect scanners run (TOOLS), and across a link (LINK_TOOLS):
# a veth pair from the scanner's namespace to a second one that holds the
# same space in 198.18.0.0/15 (RFC 2544's benchmarking range) with the
# same listeners and drops. masscan runs only there: a SYN scan reads its
# answers with a packet capture, and lo gives it none it can match.
# Every tool runs pinned to the last CPU (the listeners on the first),
# RUNS times, interleaved; the tables show medians and ratios, and whether
# each run's open set equals the set the script opened. Targets (issue
# 18): nmap / sockit >= 10 on the filtered space with the same open set;
# sockit >= 0.9x the kernel's connect rate (epscan) on the answering one.
# QUICK=1: a /22 and a /26, one run each, nmap bounded to 120 s.
# Needs root (namespaces, iptables), cc, python3, nmap, iproute2 (veth);
# masscan if there.
set -eu

BUILD=${BUILD:-${1:-build}}
[ "${1:-}" = --inside ] && BUILD=${BUILD_DIR:-build}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	RUNS=${RUNS:-1} NMAP_LIMIT=${NMAP_LIMIT:-120}
	FILTERED_NET=${FILTERED_NET:-127.1.0.0/22} ANSWER_NET=${ANSWER_NET:-127.2.0.0/26}
else
	RUNS=${RUNS:-3} NMAP_LIMIT=${NMAP_LIMIT:-600}
	FILTERED_NET=${FILTERED_NET:-127.1.0.0/20} ANSWER_NET=${ANSWER_NET:-127.2.0.0/24}
fi
SCENARIOS=${SCENARIOS:-"filtered answering"}
TOOLS=${TOOLS-"sockit epscan nmap nmap_rate"}
LINK_TOOLS=${LINK_TOOLS-"sockit masscan"}
MASSCAN_RATE=${MASSCAN_RATE:-100000}
MASSCAN_WAIT=${MASSCAN_WAIT:-1}
MASSCAN_LIMIT=${MASSCAN_LIMIT:-120}
FILTERED_PORTS=30000-30009
ANSWER_PORTS=30000-30999
TIMEOUT_MS=1000 # sockit's default probe timeout; epscan uses it too
# The link: the scanner's end v0 (198.18.0.1; masscan's own address
# 198.18.0.3 beside it), the targets' end v1 (198.18.0.2), which routes
# the spaces below to itself (local routes, as 127/8 is on lo).
MAC_A=02:00:00:00:00:01 MAC_B=02:00:00:00:00:02
LINK_FILTERED_BASE=198.19.0.0 LINK_ANSWER_BASE=198.18.2.0
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SOCKIT=$root/$BUILD/sockit
ncpu=$(nproc)
TOOL_CPU=$((ncpu - 1))
PEER_CPU=0

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
now_ns() { date +%s%N; }
# hosts NET: the number of addresses of a prefix; first NET: its first.
hosts() { echo $((1 << (32 - ${1#*/}))); }
first() { echo "${1%/*}"; }
# addr BASE K: the K-th address from BASE.
addr() {
	local IFS=. a b c d
	read -r a b c d <<< "$1"
	local v=$(((a << 24 | b << 16 | c << 8 | d) + $2))
	echo "$((v >> 24 & 255)).$((v >> 16 & 255)).$((v >> 8 & 255)).$((v & 255))"
}

# ---- Inside the scanner's namespace: one scenario, results into $OUT ----

# The listeners: "ADDR PORT" pairs from DIR/truth, each bound to its
# address, accepting and closing; a command before them (nsenter) puts
# them in the targets' namespace. It execs them: $! is theirs to kill.
listen_all() {
	local dir=$1
	shift
	"$@" taskset -c $PEER_CPU python3 -c '
import socket, sys, threading
ls = []
for line in open(sys.argv[1]):
    a, p = line.split()
    s = socket.socket(); s.bind((a, int(p))); s.listen(512); ls.append(s)
print("ready", flush=True)
def serve(s):
    while True:
        s.accept()[0].close()
for s in ls:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
threading.Event().wait()
' "$dir/truth" > "$dir/ready" &
	PIDS="$PIDS $!"
	while ! grep -q ready "$dir/ready" 2> /dev/null; do sleep 0.05; done
}

# populate DIR BASE IPTABLES...: the scenario's pairs from BASE into
# DIR/truth, its drop rules through the iptables command given.
populate() {
	local dir=$1 base=$2 k
	shift 2
	: > "$dir/truth"
	if [ "$scenario" = filtered ]; then
		# 1% of the hosts answer: every 100th, two listeners each.
		for k in $(seq 0 100 $((n - 1))); do
			echo "$(addr "$base" "$k") $((${ports%-*} + k % nports))" >> "$dir/truth"
			echo "$(addr "$base" "$k") $((${ports%-*} + (k + 5) % nports))" >> "$dir/truth"
			"$@" -A INPUT -d "$(addr "$base" "$k")" -p tcp --syn -j ACCEPT
		done
		"$@" -A INPUT -d "$base/${net#*/}" -p tcp --syn -j DROP
	else
		for k in $(seq 0 $((n - 1))); do
			echo "$(addr "$base" "$k") $((${ports%-*} + k * 7 % nports))" >> "$dir/truth"
		done
	fi
	sort -o "$dir/truth" "$dir/truth"
	echo "$n $nports $(wc -l < "$dir/truth")" > "$dir/shape"
}

# The targets' namespace, B, held by a sleeping process, joined to this
# one by v0 - v1. Both ends know the other's MAC from the start (no SYN
# waits in an ARP queue); this end routes all of 198.18.0.0/15 through
# 198.18.0.2, so one neighbour serves every target. B answers for
# masscan's 198.18.0.3 with v0's MAC too. set -e stops the script before
# any probe if a step fails.
in_b() { nsenter -t "$BPID" -n "$@"; }
link_up() {
	unshare -n sleep infinity &
	BPID=$!
	PIDS="$PIDS $BPID"
	while [ "$(readlink /proc/$BPID/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do
		sleep 0.01
	done
	ip link add v0 address $MAC_A type veth peer name v1 address $MAC_B netns "$BPID"
	ip addr add 198.18.0.1/29 dev v0
	ip link set v0 up
	ip neigh replace 198.18.0.2 lladdr $MAC_B dev v0 nud permanent
	ip route add 198.18.0.0/15 via 198.18.0.2
	in_b ip -batch - << EOF
link set lo up
addr add 198.18.0.2/29 dev v1
link set v1 up
neigh replace 198.18.0.1 lladdr $MAC_A dev v1 nud permanent
neigh replace 198.18.0.3 lladdr $MAC_A dev v1 nud permanent
route add local $lbase/${net#*/} dev lo
EOF
}

timed() {
	local tool=$1 run=$2 rc=0 t0 t1
	shift 2
	t0=$(now_ns)
	"$@" > "$D/out.$tool.$run" 2> "$D/err.$tool.$run" || rc=$?
	t1=$(now_ns)
	[ $rc = 124 ] && touch "$D/stopped.$tool.$run"
	echo "$(((t1 - t0) / 1000000))" >> "$D/ms.$tool"
}

# run_tool TOOL RUN NET BASE: one run of TOOL over NET (first address
# BASE) x $ports, outputs into $D.
run_tool() {
	local tool=$1 i=$2 net=$3 base=$4
	case $tool in
	sockit)
		timed sockit "$i" taskset -c $TOOL_CPU "$SOCKIT" scan --open -oG "$D/g.sockit.$i" \
			"$net" -p "$ports"
		;;
	epscan)
		[ "$scenario" = answering ] || return 0
		timed epscan "$i" taskset -c $TOOL_CPU "$EPSCAN" "$base" "${ports%-*}" "${ports#*-}" \
			"$par" "$TIMEOUT_MS" "$n"
		;;
	nmap)
		timed nmap "$i" timeout "$NMAP_LIMIT" taskset -c $TOOL_CPU \
			nmap -sT -T4 -Pn -n --open -p "$ports" -oG - "$net"
		;;
	nmap_rate)
		timed nmap_rate "$i" timeout "$NMAP_LIMIT" taskset -c $TOOL_CPU \
			nmap -sT -T4 -Pn -n --open --min-rate 20000 -p "$ports" -oG - "$net"
		;;
	masscan)
		# A SYN scan from its own address (the kernel here neither
		# owns it nor forwards, so sends no RST of its own), straight
		# to v1's MAC; --wait: how long it listens after the last SYN.
		command -v masscan > /dev/null || return 0
		timed masscan "$i" timeout "$MASSCAN_LIMIT" taskset -c $TOOL_CPU masscan "$net" \
			-p "$ports" --rate "$MASSCAN_RATE" --wait "$MASSCAN_WAIT" -e v0 \
			--adapter-ip 198.18.0.3 --adapter-mac $MAC_A --router-mac $MAC_B -oL -
		;;
	*)
		echo "bench/scan_net.sh: unknown tool $tool" >&2
		exit 2
		;;
	esac
}

# Open pairs, "ADDR PORT" a line, sorted: nmap's grepable lines (sockit
# writes the same with -oG), epscan's, masscan's -oL.
opened_grep() {
	grep 'Ports: ' "$1" | while IFS= read -r line; do
		h=$(echo "$line" | awk '{print $2}')
		echo "$line" | sed 's/.*Ports: //; s/\t.*//' | tr ',' '\n' |
			sed -n "s|^ *\([0-9]*\)/open/tcp.*|$h \1|p"
	done | sort
}
opened_sockit() { opened_grep "${1%/*}/g.sockit.${1##*.}"; }
opened_nmap() { opened_grep "$1"; }
opened_nmap_rate() { opened_grep "$1"; }
opened_epscan() { sort "$1"; }
opened_masscan() { awk '$1 == "open" {print $4, $3}' "$1" | sort; }

opened_all() {
	local tool i
	for tool in sockit epscan nmap nmap_rate masscan; do
		for i in $(seq 1 "$RUNS"); do
			[ -e "$D/out.$tool.$i" ] || continue
			"opened_$tool" "$D/out.$tool.$i" > "$D/out.$tool.$i.open"
		done
	done
}

inside() {
	scenario=$1
	ip link set lo up
	if [ "$scenario" = filtered ]; then
		net=$FILTERED_NET ports=$FILTERED_PORTS lbase=$LINK_FILTERED_BASE
	else
		net=$ANSWER_NET ports=$ANSWER_PORTS lbase=$LINK_ANSWER_BASE
	fi
	n=$(hosts "$net")
	nports=$((${ports#*-} - ${ports%-*} + 1))
	local base lnet
	base=$(first "$net") lnet=$lbase/${net#*/}
	PIDS=
	trap 'kill $PIDS 2> /dev/null' EXIT
	mkdir -p "$OUT/link"
	if [ -n "$TOOLS" ]; then
		populate "$OUT" "$base" iptables -w
		listen_all "$OUT"
	fi
	if [ -n "$LINK_TOOLS" ]; then
		link_up
		populate "$OUT/link" "$lbase" in_b iptables -w
		listen_all "$OUT/link" nsenter -t "$BPID" -n
		# A datagram from B every 50 ms (to the discard port of v0's
		# address; A refuses it): masscan's receive thread sees the end
		# of its --wait only when a packet arrives, and on a silent
		# link it waits on, past zero, until one does (masscan#144).
		nsenter -t "$BPID" -n taskset -c $PEER_CPU python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
while True:
    s.sendto(b"tick", ("198.18.0.1", 9))
    time.sleep(0.05)
' &
		PIDS="$PIDS $!"
	fi
	local hard
	hard=$(ulimit -Hn)
	ulimit -n "$hard"
	par=$((hard - (hard / 8 > 16 ? hard / 8 : 16)))
	[ $par -gt 65535 ] && par=65535
	echo "$par" > "$OUT/parallel"
	local i tool
	for i in $(seq 1 "$RUNS"); do
		D=$OUT
		for tool in $TOOLS; do run_tool "$tool" "$i" "$net" "$base"; done
		D=$OUT/link
		for tool in $LINK_TOOLS; do
			local d0
			d0=$(link_drops)
			run_tool "$tool" "$i" "$lnet" "$lbase"
			echo $(($(link_drops) - d0)) >> "$D/drops.$tool"
		done
	done
	D=$OUT opened_all
	D=$OUT/link opened_all
}

# Packets the link dropped on receipt, both ends: a receiving CPU's
# backlog (net.core.netdev_max_backlog) overflows when SYNs come faster
# than its softirq takes them.
link_drops() {
	local a b
	a=$(awk '/v0:/ {sub(/.*v0:/, ""); print $4}' /proc/net/dev)
	b=$(nsenter -t "$BPID" -n awk '/v1:/ {sub(/.*v1:/, ""); print $4}' /proc/net/dev)
	echo $((a + b))
}

if [ "${1:-}" = --inside ]; then
	OUT=$3 EPSCAN=$4 inside "$2"
	exit 0
fi

# ---- Outside: checks, build, the namespaces, the tables ----

[ "$(id -u)" = 0 ] || { echo "bench/scan_net.sh: needs root (namespaces, iptables)" >&2; exit 2; }
for t in cc python3 nmap iptables taskset unshare nsenter ip; do
	command -v $t > /dev/null || { echo "bench/scan_net.sh: needs $t (make deps)" >&2; exit 2; }
done
[ -x "$SOCKIT" ] || { echo "bench/scan_net.sh: no $SOCKIT: run make" >&2; exit 2; }
# The link's copies sit at 198.19.0.0 and 198.18.2.0: room for a /16 and a /23.
if [ -n "$LINK_TOOLS" ] && { [ "${FILTERED_NET#*/}" -lt 16 ] || [ "${ANSWER_NET#*/}" -lt 23 ]; }; then
	echo "bench/scan_net.sh: across the link FILTERED_NET can be at most a /16, ANSWER_NET a /23" >&2
	exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sockit-scan-net.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
	echo "raw outputs in $WORK (KEEP=1)" >&2
else
	trap 'rm -rf "$WORK"' EXIT
fi
cc -O2 -o "$WORK/epscan" "$here/epscan.c"

agree() {
	local dir=$1 tool=$2 ok=0 n=0 f r
	for f in "$dir"/out.$tool.*.open; do
		[ -e "$f" ] || continue
		r=${f%.open}
		r=${r##*.}
		[ -e "$dir/stopped.$tool.$r" ] && continue
		n=$((n + 1))
		cmp -s "$f" "$dir/truth" && ok=$((ok + 1))
	done
	[ $n = 0 ] && echo "n/a (stopped)" && return
	[ $ok = $n ] && echo "yes ($n/$n)" || echo "NO ($ok/$n: $(wc -l < "$f") of $(wc -l < "$dir/truth"))"
}

secs() { awk -v ms="$1" 'BEGIN {printf "%.2f", ms / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b ? a / b : 0}'; }

# table DIR: one line per tool that ran, times relative to sockit's (when
# it ran) in the same place; across the link, the packets it dropped on
# receipt in each run.
table() {
	local dir=$1 tool n nports nopen probes med_s=0 drops=
	read -r n nports nopen < "$dir/shape"
	probes=$((n * nports))
	[ -s "$dir/ms.sockit" ] && med_s=$(median < "$dir/ms.sockit")
	ls "$dir"/drops.* > /dev/null 2>&1 && drops=1
	printf '%-10s %4s %9s %8s %8s %11s %10s %s %s\n' tool runs "median s" "min s" "max s" \
		"probes/s" "vs sockit" "${drops:+"$(printf '%12s ' "link drops")"}" "open set = opened"
	for tool in sockit epscan nmap nmap_rate masscan; do
		[ -s "$dir/ms.$tool" ] || continue
		local ms med stopped limit=$NMAP_LIMIT
		[ $tool = masscan ] && limit=$MASSCAN_LIMIT
		ms=$(sort -n "$dir/ms.$tool")
		med=$(echo "$ms" | median)
		stopped=$(ls "$dir"/stopped.$tool.* 2> /dev/null | wc -l)
		printf '%-10s %4s %9s %8s %8s %11s %10s %s %s%s\n' "$tool" "$(echo "$ms" | wc -l)" \
			"$(secs "$med")" "$(secs "$(echo "$ms" | head -1)")" "$(secs "$(echo "$ms" | tail -1)")" \
			"$(awk -v p=$probes -v ms="$med" 'BEGIN {printf "%.0f", p * 1000 / ms}')" \
			"$([ "$med_s" = 0 ] && echo - || echo "$(ratio "$med" "$med_s")x")" \
			"${drops:+"$(printf '%12s ' "$(paste -sd, "$dir/drops.$tool" 2> /dev/null)")"}" \
			"$(agree "$dir" "$tool")" \
			"$([ "$stopped" -gt 0 ] && echo ", $stopped stopped at ${limit} s (lower bound)")"
	done
}

report() {
	local scenario=$1 dir=$WORK/$1 n nports nopen med_s
	read -r n nports nopen < "$dir/$([ -s "$dir/shape" ] && echo shape || echo link/shape)"
	echo
	echo "== $scenario: $n hosts x $nports ports = $((n * nports)) probes, $nopen open, parallel $(cat "$dir/parallel")"
	if [ -s "$dir/ms.sockit" ]; then
		table "$dir"
		med_s=$(median < "$dir/ms.sockit")
		if [ "$scenario" = filtered ]; then
			[ -s "$dir/ms.nmap" ] &&
				echo "nmap -sT -T4 / sockit = $(ratio "$(median < "$dir/ms.nmap")" "$med_s") (target >= 10)"
			[ -s "$dir/ms.nmap_rate" ] &&
				echo "nmap --min-rate 20000 / sockit = $(ratio "$(median < "$dir/ms.nmap_rate")" "$med_s")"
		elif [ -s "$dir/ms.epscan" ]; then
			echo "sockit rate / kernel connect rate (epscan) = $(ratio "$(median < "$dir/ms.epscan")" "$med_s") (target >= 0.90)"
		fi
	fi
	[ -n "$LINK_TOOLS" ] || return 0
	local lnet=$LINK_ANSWER_BASE/${ANSWER_NET#*/}
	[ "$scenario" = filtered ] && lnet=$LINK_FILTERED_BASE/${FILTERED_NET#*/}
	echo "-- across the veth link, the same space as $lnet:"
	table "$dir/link"
	if [ -s "$dir/link/ms.masscan" ] && [ -s "$dir/link/ms.sockit" ]; then
		echo "masscan --rate $MASSCAN_RATE --wait $MASSCAN_WAIT / sockit, both across the link =" \
			"$(ratio "$(median < "$dir/link/ms.masscan")" "$(median < "$dir/link/ms.sockit")")"
	elif echo " $LINK_TOOLS " | grep -q ' masscan ' && ! command -v masscan > /dev/null; then
		echo "masscan: not installed"
	fi
}

echo "sockit scan_net benchmark: $(uname -sr), $ncpu CPUs, tools on CPU $TOOL_CPU, listeners on CPU $PEER_CPU"
echo "fd limit $(ulimit -Hn) (hard; the soft limit of every tool), probe timeout ${TIMEOUT_MS} ms, runs $RUNS"
echo "tools on lo: ${TOOLS:-none}; across the link: ${LINK_TOOLS:-none}"
echo "$(nmap --version | head -1); $(masscan --version 2> /dev/null | grep -m1 -i 'masscan version' || echo 'masscan: none')"
for scenario in $SCENARIOS; do
	mkdir -p "$WORK/$scenario"
	echo "running $scenario ..." >&2
	BUILD_DIR=$BUILD TOOLS=$TOOLS LINK_TOOLS=$LINK_TOOLS unshare -n bash "$0" --inside "$scenario" \
		"$WORK/$scenario" "$WORK/epscan"
	report "$scenario"
done
