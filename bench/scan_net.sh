#!/bin/bash
# bench/scan_net.sh [BUILD] - scanning networks, not one host: `sockit
# scan` beside `nmap -sT -T4` (plain, and with --min-rate), masscan, and
# the kernel's own connect rate (bench/epscan.c over many addresses), in
# two spaces, each inside a network namespace this script makes (nothing
# outside it is probed; 127/8 is all local there):
#   filtered   a /20 x 10 ports (40,960 probes): 1% of the hosts answer
#              (two listeners each, the other ports refuse), an iptables
#              rule drops the SYNs to the other 99%, so each of their
#              probes must time out;
#   answering  a /24 x 1000 ports (256,000 probes), all answering: one
#              listener per host, every other port refuses at once.
# Every tool runs pinned to the last CPU (the listeners on the first),
# RUNS times, interleaved; the table shows medians and ratios, and whether
# each run's open set equals the set the script opened. Targets (issue
# 18): nmap / sockit >= 10 on the filtered space with the same open set;
# sockit >= 0.9x the kernel's connect rate (epscan) on the answering one.
# QUICK=1: a /22 and a /26, one run each, nmap bounded to 120 s.
# Needs root (namespaces, iptables), cc, python3, nmap; masscan if there.
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
FILTERED_PORTS=30000-30009
ANSWER_PORTS=30000-30999
TIMEOUT_MS=1000 # sockit's default probe timeout; epscan uses it too
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

# ---- Inside a namespace: one scenario, results into $OUT ----

# The listeners: "ADDR PORT" pairs from $OUT/truth, each bound to its
# address, accepting and closing.
listen_all() {
	taskset -c $PEER_CPU python3 -c '
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
' "$OUT/truth" > "$OUT/ready" &
	LPID=$!
	while ! grep -q ready "$OUT/ready" 2> /dev/null; do sleep 0.05; done
}

timed() {
	local tool=$1 run=$2 rc=0 t0 t1
	shift 2
	t0=$(now_ns)
	"$@" > "$OUT/out.$tool.$run" 2> "$OUT/err.$tool.$run" || rc=$?
	t1=$(now_ns)
	[ $rc = 124 ] && touch "$OUT/stopped.$tool.$run"
	echo "$(((t1 - t0) / 1000000))" >> "$OUT/ms.$tool"
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

inside() {
	local scenario=$1 net ports nports n
	ip link set lo up
	if [ "$scenario" = filtered ]; then
		net=$FILTERED_NET ports=$FILTERED_PORTS
	else
		net=$ANSWER_NET ports=$ANSWER_PORTS
	fi
	n=$(hosts "$net")
	nports=$((${ports#*-} - ${ports%-*} + 1))
	local base k
	base=$(first "$net")
	: > "$OUT/truth"
	if [ "$scenario" = filtered ]; then
		# 1% of the hosts answer: every 100th, two listeners each.
		for k in $(seq 0 100 $((n - 1))); do
			echo "$(addr "$base" "$k") $((${ports%-*} + k % nports))" >> "$OUT/truth"
			echo "$(addr "$base" "$k") $((${ports%-*} + (k + 5) % nports))" >> "$OUT/truth"
			iptables -A INPUT -d "$(addr "$base" "$k")" -p tcp --syn -j ACCEPT
		done
		iptables -A INPUT -d "$net" -p tcp --syn -j DROP
	else
		for k in $(seq 0 $((n - 1))); do
			echo "$(addr "$base" "$k") $((${ports%-*} + k * 7 % nports))" >> "$OUT/truth"
		done
	fi
	sort -o "$OUT/truth" "$OUT/truth"
	listen_all
	trap 'kill $LPID 2> /dev/null' EXIT
	echo "$n $nports $(wc -l < "$OUT/truth")" > "$OUT/shape"
	local hard par
	hard=$(ulimit -Hn)
	ulimit -n "$hard"
	par=$((hard - (hard / 8 > 16 ? hard / 8 : 16)))
	[ $par -gt 65535 ] && par=65535
	echo "$par" > "$OUT/parallel"
	local i
	for i in $(seq 1 "$RUNS"); do
		timed sockit "$i" taskset -c $TOOL_CPU "$SOCKIT" scan --open -oG "$OUT/g.sockit.$i" \
			"$net" -p "$ports"
		if [ "$scenario" = answering ]; then
			timed epscan "$i" taskset -c $TOOL_CPU "$EPSCAN" "$base" "${ports%-*}" "${ports#*-}" \
				"$par" "$TIMEOUT_MS" "$n"
		fi
		timed nmap "$i" timeout "$NMAP_LIMIT" taskset -c $TOOL_CPU \
			nmap -sT -T4 -Pn -n --open -p "$ports" -oG - "$net"
		timed nmap_rate "$i" timeout "$NMAP_LIMIT" taskset -c $TOOL_CPU \
			nmap -sT -T4 -Pn -n --open --min-rate 20000 -p "$ports" -oG - "$net"
		if command -v masscan > /dev/null; then
			# SYN scan from a raw socket: on lo it reads nothing back
			# (no link-layer replies to capture), which the table says.
			timed masscan "$i" timeout 15 taskset -c $TOOL_CPU masscan "$net" -p "$ports" \
				--rate 100000 -e lo --source-mac 02-00-00-00-00-01 \
				--router-mac 02-00-00-00-00-02 --adapter-ip 127.0.0.1 --wait 2 -oL -
		fi
	done
	local tool
	for tool in sockit epscan nmap nmap_rate masscan; do
		for i in $(seq 1 "$RUNS"); do
			[ -e "$OUT/out.$tool.$i" ] || continue
			"opened_$tool" "$OUT/out.$tool.$i" > "$OUT/out.$tool.$i.open"
		done
	done
}

if [ "${1:-}" = --inside ]; then
	OUT=$3 EPSCAN=$4 inside "$2"
	exit 0
fi

# ---- Outside: checks, build, the namespaces, the table ----

[ "$(id -u)" = 0 ] || { echo "bench/scan_net.sh: needs root (namespaces, iptables)" >&2; exit 2; }
for t in cc python3 nmap iptables taskset unshare; do
	command -v $t > /dev/null || { echo "bench/scan_net.sh: needs $t (make deps)" >&2; exit 2; }
done
[ -x "$SOCKIT" ] || { echo "bench/scan_net.sh: no $SOCKIT: run make" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sockit-scan-net.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
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

report() {
	local scenario=$1 dir=$WORK/$1 tool n nports nopen probes
	read -r n nports nopen < "$dir/shape"
	probes=$((n * nports))
	local med_s
	med_s=$(median < "$dir/ms.sockit")
	echo
	echo "== $scenario: $n hosts x $nports ports = $probes probes, $nopen open, parallel $(cat "$dir/parallel")"
	printf '%-10s %4s %9s %8s %8s %11s %10s  %s\n' tool runs "median s" "min s" "max s" \
		"probes/s" "vs sockit" "open set = opened"
	for tool in sockit epscan nmap nmap_rate; do
		[ -s "$dir/ms.$tool" ] || continue
		local ms med
		ms=$(sort -n "$dir/ms.$tool")
		med=$(echo "$ms" | median)
		local stopped
		stopped=$(ls "$dir"/stopped.$tool.* 2> /dev/null | wc -l)
		printf '%-10s %4s %9s %8s %8s %11s %9sx  %s%s\n' "$tool" "$(echo "$ms" | wc -l)" \
			"$(secs "$med")" "$(secs "$(echo "$ms" | head -1)")" "$(secs "$(echo "$ms" | tail -1)")" \
			"$(awk -v p=$probes -v ms="$med" 'BEGIN {printf "%.0f", p * 1000 / ms}')" \
			"$(ratio "$med" "$med_s")" "$(agree "$dir" "$tool")" \
			"$([ "$stopped" -gt 0 ] && echo ", $stopped stopped at ${NMAP_LIMIT} s (lower bound)")"
	done
	if [ "$scenario" = filtered ]; then
		echo "nmap -sT -T4 / sockit = $(ratio "$(median < "$dir/ms.nmap")" "$med_s") (target >= 10)"
		echo "nmap --min-rate 20000 / sockit = $(ratio "$(median < "$dir/ms.nmap_rate")" "$med_s")"
	else
		echo "sockit rate / kernel connect rate (epscan) = $(ratio "$(median < "$dir/ms.epscan")" "$med_s") (target >= 0.90)"
	fi
	if [ -s "$dir/ms.masscan" ]; then
		local found stopped
		found=$(sort -u "$dir"/out.masscan.*.open | wc -l)
		stopped=$(ls "$dir"/stopped.masscan.* 2> /dev/null | wc -l)
		if [ "$found" = 0 ]; then
			echo "masscan: no time to compare: it found 0 of $nopen open ports ($stopped of $RUNS runs stopped at 15 s):"
			echo "    its SYN scan reads the replies with a packet capture, and lo hands it none"
		else
			echo "masscan: $(secs "$(median < "$dir/ms.masscan")") s (median), $(agree "$dir" masscan) open sets right," \
				"$(ratio "$(median < "$dir/ms.masscan")" "$med_s")x sockit's time"
		fi
	else
		echo "masscan: not installed"
	fi
}

echo "sockit scan_net benchmark: $(uname -sr), $ncpu CPUs, tools on CPU $TOOL_CPU, listeners on CPU $PEER_CPU"
echo "fd limit $(ulimit -Hn) (hard; the soft limit of every tool), probe timeout ${TIMEOUT_MS} ms, runs $RUNS"
echo "$(nmap --version | head -1); $(masscan --version 2> /dev/null | grep -m1 -i 'masscan version' || echo 'masscan: none')"
for scenario in $SCENARIOS; do
	mkdir -p "$WORK/$scenario"
	echo "running $scenario ..." >&2
	BUILD_DIR=$BUILD unshare -n bash "$0" --inside "$scenario" "$WORK/$scenario" "$WORK/epscan"
	report "$scenario"
done
