#!/bin/bash
# bench/scan.sh [BUILD] - `sockit scan` against a minimal epoll scanner
# (bench/epscan.c), `nmap -sT -p- -T4 -n` and `nc -z` (netcat-openbsd) over
# all 65535 TCP ports of 127.0.0.1, in two scenarios, each inside a network
# namespace this script makes (so nothing outside it is probed, and nothing
# else listens there):
#   loopback  three listeners; every other port refuses at once;
#   filtered  the same listeners and two refusing ports are reachable; an
#             iptables rule drops the SYNs to every other port, so each of
#             those probes must time out.
# Every tool runs pinned to one CPU, RUNS times, interleaved; the table shows
# medians and ratios, and whether each run's open set equals the listeners
# `ss -ltn` shows. Needs root (namespaces, iptables), cc, python3, nmap, nc.
set -eu

BUILD=${BUILD:-${1:-build}}
[ "${1:-}" = --inside ] && BUILD=${BUILD_DIR:-build}
RUNS=${RUNS:-5}           # runs per tool (odd: the median is a run)
SLOW_RUNS=${SLOW_RUNS:-3} # nmap and nc in the filtered scenario (minutes each)
NC_SAMPLE=${NC_SAMPLE:-20} # dropped ports nc probes in the filtered scenario
NMAP_LIMIT=${NMAP_LIMIT:-900} # seconds before a filtered-scenario nmap run is stopped
SCENARIOS=${SCENARIOS:-"loopback filtered"}
TIMEOUT_MS=1000           # sockit's default probe timeout; epscan and nc use it too
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SOCKIT=$root/$BUILD/sockit

# CPUs: the scanners on the last one, the listeners on the first.
ncpu=$(nproc)
TOOL_CPU=$((ncpu - 1))
PEER_CPU=0

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
now_ns() { date +%s%N; }

# ---- Inside a namespace: one scenario, results into $OUT ----

listeners() {
	# Three tutorial listeners that accept and close, and two sockets
	# bound but not listening (refusing ports); their ports on stdout.
	taskset -c $PEER_CPU python3 -c '
import socket, sys, threading
ls = []
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(128); ls.append(s)
held = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ls))
print(" ".join(str(s.getsockname()[1]) for s in held))
sys.stdout.close()
def serve(s):
    while True:
        s.accept()[0].close()
for s in ls:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
threading.Event().wait()
' > "$OUT/ports" &
	LPID=$!
	while [ ! -f "$OUT/ports" ] || [ "$(wc -l < "$OUT/ports")" -lt 2 ]; do
		sleep 0.05
	done
}

# Time one command (stdout to a file); append the milliseconds to
# $OUT/ms.TOOL. A run that timeout(1) stopped leaves $OUT/stopped.TOOL.RUN.
timed() {
	local tool=$1 run=$2 rc=0
	shift 2
	local t0 t1
	t0=$(now_ns)
	"$@" > "$OUT/out.$tool.$run" 2> "$OUT/err.$tool.$run" || rc=$?
	t1=$(now_ns)
	[ $rc = 124 ] && touch "$OUT/stopped.$tool.$run"
	echo "$(( (t1 - t0) / 1000000 ))" >> "$OUT/ms.$tool"
}

# Each tool's open (and closed) ports, one "PORT STATE" a line, sorted.
states_sockit() { grep -v '^#' "$1" | awk '{split($1, p, "/"); print p[1], $2}' | sort -n; }
states_epscan() { awk '{print $1, "open"}' "$1" | sort -n; }
states_nmap() {
	grep -oP 'Ports: [^\t]*' "$1" | sed 's/^Ports: //' | tr ',' '\n' |
		sed -n 's|^ *\([0-9]*\)/\([a-z|]*\)/tcp.*|\1 \2|p' | sort -n
}
states_nc() {
	sed -n 's/^Connection to 127.0.0.1 \([0-9]*\) port .* succeeded!$/\1 open/p' "$1" | sort -n
}

inside() {
	local scenario=$1
	ip link set lo up
	listeners
	trap 'kill $LPID 2>/dev/null' EXIT
	local open closed
	open=$(sed -n 1p "$OUT/ports")
	closed=$(sed -n 2p "$OUT/ports")
	if [ "$scenario" = filtered ]; then
		for p in $open $closed; do
			iptables -A INPUT -p tcp --syn --dport "$p" -j ACCEPT
		done
		iptables -A INPUT -p tcp --syn -j DROP
	fi
	# Ground truth: what the kernel says listens.
	ss -ltnH | awk '{n = split($4, a, ":"); print a[n]}' | sort -n > "$OUT/truth"
	for p in $closed; do echo "$p"; done | sort -n > "$OUT/closed"

	# The same parallelism for sockit (its default: the fd limit less an
	# eighth) and epscan.
	local hard par
	hard=$(ulimit -Hn)
	ulimit -n "$hard"
	par=$((hard - (hard / 8 > 16 ? hard / 8 : 16)))
	[ $par -gt 65535 ] && par=65535
	echo "$par" > "$OUT/parallel"

	local slow=$RUNS nc_ports="1-65535" nc_w="" limit=""
	if [ "$scenario" = filtered ]; then
		slow=$SLOW_RUNS
		# nmap's congestion control, fed nothing but silence, varies
		# from two minutes to over an hour here: bound each run.
		limit="timeout $NMAP_LIMIT"
		# nc probes one port at a time, each dropped one for a whole
		# timeout: a sample of dropped ports, plus the reachable ones.
		nc_ports="$(seq -s ' ' 20000 $((20000 + NC_SAMPLE - 1))) $open $closed"
		nc_w="-w $((TIMEOUT_MS / 1000))"
	fi
	echo "$nc_ports" > "$OUT/nc_ports"
	local i
	for i in $(seq 1 "$RUNS"); do
		timed sockit "$i" taskset -c $TOOL_CPU "$SOCKIT" scan 127.0.0.1 all
		timed epscan "$i" taskset -c $TOOL_CPU "$EPSCAN" 127.0.0.1 1 65535 "$par" "$TIMEOUT_MS"
		if [ "$i" -le "$slow" ]; then
			# shellcheck disable=SC2086
			timed nmap "$i" $limit taskset -c $TOOL_CPU nmap -sT -p- -T4 -n -oG - 127.0.0.1
			# shellcheck disable=SC2086
			timed nc "$i" sh -c "taskset -c $TOOL_CPU nc -z -v -n $nc_w 127.0.0.1 $nc_ports 2>&1"
		fi
	done
	for tool in sockit epscan nmap nc; do
		for f in "$OUT"/out.$tool.*; do
			"states_$tool" "$f" > "$f.states"
		done
	done
}

if [ "${1:-}" = --inside ]; then
	OUT=$3 EPSCAN=$4 inside "$2"
	exit 0
fi

# ---- Outside: checks, build, the two namespaces, the table ----

[ "$(id -u)" = 0 ] || { echo "bench/scan.sh: needs root (namespaces, iptables)" >&2; exit 2; }
for t in cc python3 nmap nc iptables ss taskset unshare; do
	command -v $t > /dev/null || { echo "bench/scan.sh: needs $t (make deps)" >&2; exit 2; }
done
[ -x "$SOCKIT" ] || { echo "bench/scan.sh: no $SOCKIT: run make" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sockit-scan-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cc -O2 -o "$WORK/epscan" "$here/epscan.c"

# Agreement of one tool's runs with the ground truth: "yes (N/N)", or
# "NO (K/N)" with a note per differing run in $dir/notes.$tool: "+P" a port
# reported open that does not listen, "-P" a listener it missed.
agree() {
	local dir=$1 tool=$2 sample=${3:-} ok=0 n=0 f want got r
	: > "$dir/notes.$tool"
	for f in "$dir"/out.$tool.*.states; do
		r=${f##*/out.$tool.}
		[ -e "$dir/stopped.$tool.${r%.states}" ] && continue
		n=$((n + 1))
		want=$(cat "$dir/truth")
		got=$(awk '$2 == "open" {print $1}' "$f")
		if [ -n "$sample" ]; then
			want=$(for p in $want; do case " $sample " in *" $p "*) echo "$p" ;; esac; done)
		fi
		if [ "$(echo $want)" = "$(echo $got)" ]; then
			ok=$((ok + 1))
			continue
		fi
		echo "run ${r%.states}: $(comm -13 <(echo "$want" | sort) <(echo "$got" | sort) | sed 's/^/+/' | xargs)" \
			"$(comm -23 <(echo "$want" | sort) <(echo "$got" | sort) | sed 's/^/-/' | xargs)" >> "$dir/notes.$tool"
	done
	[ $n = 0 ] && echo "n/a (stopped)" && return
	[ $ok = $n ] && echo "yes ($n/$n)" || echo "NO ($ok/$n)"
}

closed_agree() {
	local dir=$1 tool=$2 ok=0 n=0 f
	for f in "$dir"/out.$tool.*.states; do
		local r=${f##*/out.$tool.}
		[ -e "$dir/stopped.$tool.${r%.states}" ] && continue
		n=$((n + 1))
		[ "$(awk '$2 == "closed" {print $1}' "$f" | xargs)" = "$(xargs < "$dir/closed")" ] && ok=$((ok + 1))
	done
	[ $n = 0 ] && echo "n/a" && return
	[ $ok = $n ] && echo "yes ($n/$n)" || echo "NO ($ok/$n)"
}

filtered_count() {
	case $2 in
	sockit) grep ' ports in ' "$1"/out.sockit.1 | grep -o '[0-9]* filtered' | awk '{print $1}' | grep . || echo 0 ;;
	nmap) sed -n 's/.*Ignored State: filtered (\([0-9]*\)).*/\1/p' "$1"/out.nmap.* | head -1 | grep . || echo 0 ;;
	*) echo - ;;
	esac
}

secs() { awk -v ms="$1" 'BEGIN {printf "%.2f", ms / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

report() {
	local scenario=$1 dir=$WORK/$1 tool
	local med_sockit
	med_sockit=$(median < "$dir/ms.sockit")
	echo
	echo "== $scenario: listeners on $(sed -n 1p "$dir/ports"), refusing $(sed -n 2p "$dir/ports"), parallel $(cat "$dir/parallel")"
	printf '%-7s %4s %9s %8s %8s %10s  %-14s %-11s %s\n' tool runs "median s" "min s" \
		"max s" "vs sockit" "open = ss" "closed ok" filtered
	for tool in sockit epscan nmap nc; do
		local ms med min max sample=""
		ms=$(sort -n "$dir/ms.$tool")
		med=$(echo "$ms" | median)
		min=$(echo "$ms" | head -1)
		max=$(echo "$ms" | tail -1)
		[ "$tool" = nc ] && [ "$scenario" = filtered ] && sample=$(cat "$dir/nc_ports")
		local closed_ok=-
		# In the loopback scenario every other port is closed and both
		# only count them; in the filtered one the two refusing ports
		# must be listed closed.
		[ "$scenario" = filtered ] && case $tool in
			sockit | nmap) closed_ok=$(closed_agree "$dir" $tool) ;;
		esac
		printf '%-7s %4s %9s %8s %8s %9sx  %-14s %-11s %s\n' $tool "$(echo "$ms" | wc -l)" \
			"$(secs "$med")" "$(secs "$min")" "$(secs "$max")" "$(ratio "$med" "$med_sockit")" \
			"$(agree "$dir" $tool "$sample")" "$closed_ok" "$(filtered_count "$dir" $tool)"
	done
	for tool in sockit epscan nmap nc; do
		[ -s "$dir/notes.$tool" ] || continue
		echo "$tool open sets that differ from ss (+ reported open, nobody listens; - missed):"
		sed 's/^/    /' "$dir/notes.$tool"
	done
	local med_ep med_nmap med_nc
	med_ep=$(median < "$dir/ms.epscan")
	med_nmap=$(median < "$dir/ms.nmap")
	med_nc=$(median < "$dir/ms.nc")
	if [ "$scenario" = loopback ]; then
		echo "sockit / epscan = $(ratio "$med_sockit" "$med_ep") (target <= 1.10)"
		echo "sockit / nmap   = $(ratio "$med_sockit" "$med_nmap") (target <= 1.00)"
		echo "nc scanned all 65535 ports, sequentially"
	else
		local stopped
		stopped=$(ls "$dir"/stopped.nmap.* 2> /dev/null | wc -l)
		echo "nmap / sockit   = $(ratio "$med_nmap" "$med_sockit"): sockit is that many times faster (target >= 10)"
		[ "$stopped" -gt 0 ] && echo "    ($stopped of $(wc -l < "$dir/ms.nmap") nmap runs were stopped at the ${NMAP_LIMIT} s limit:" \
			"their times are lower bounds, and so may be the median; their open sets are not checked)"
		local est
		est=$(awk -v ms="$med_nc" -v n="$NC_SAMPLE" 'BEGIN {printf "%.0f", ms / n * 65530 / 1000}')
		echo "nc: EXTRAPOLATED, not measured in full: it probed only $NC_SAMPLE dropped ports"
		echo "    (plus the 5 reachable ones) with -w $((TIMEOUT_MS / 1000)), one at a time, in $(secs "$med_nc") s (median);"
		echo "    all 65530 dropped ports would take about $est s ($(awk -v s="$est" 'BEGIN {printf "%.1f", s / 3600}') h),"
		echo "    $(awk -v s="$est" -v m="$med_sockit" 'BEGIN {printf "%.0f", s * 1000 / m}')x sockit's time; its 'vs sockit' above is for the sample only."
	fi
}

echo "sockit scan benchmark: $(uname -sr), $ncpu CPUs, tools on CPU $TOOL_CPU, listeners on CPU $PEER_CPU"
echo "fd limit $(ulimit -Hn) (hard; every tool runs with it as its soft limit), probe timeout ${TIMEOUT_MS} ms"
echo "$(nmap --version | head -1); nc: netcat-openbsd $(dpkg-query -W -f '${Version}' netcat-openbsd 2>/dev/null || echo '?')"
echo "runs: $RUNS (nmap and nc in the filtered scenario: $SLOW_RUNS)"
for scenario in $SCENARIOS; do
	mkdir -p "$WORK/$scenario"
	echo "running $scenario ..." >&2
	BUILD_DIR=$BUILD unshare -n bash "$0" --inside "$scenario" "$WORK/$scenario" "$WORK/epscan"
	report "$scenario"
done
