#!/bin/bash
# bench/suite.sh - `make bench`: sockit beside its peers in one run, pinned
# to separate CPUs, medians of RUNS runs, one set of tables with ratios,
# OUT/results.json (every run and the medians) and OUT/bench.png.
#
#   make bench                       everything, about 10 minutes on 2 cores
#   QUICK=1 make bench               smoke check: one run, 4 echo cells
#   SECTIONS="echo http" make bench  leave the scan out (it needs root)
#
# Sections, each interleaving its peers within every run so that a noisy
# moment falls on all of them alike:
#   echo  `sockit serve echo --workers 1` and bench/echo's servers (a hand-written
#         edge-triggered epoll server, libuv, libevent, the tutorials'
#         asyncio server) under `sockit bench` over CONNS x SIZES x MODES
#   http  `sockit serve hello` and nginx (one worker, `return 200`) under
#         wrk, ab -k and `sockit bench --mode http`
#   scan  bench/scan.sh's loopback scenario: sockit scan, epscan, nmap, nc
#
# Knobs (environment), defaults in parentheses: RUNS (3), DUR seconds per
# cell, a whole number (2), WARM seconds of `sockit bench --warmup` before
# each echo cell (1), SERVER_CPU (0), LOAD_CPU (1), SECTIONS (echo http
# scan), SERVERS (sockit epoll uv ev asyncio), CONNS (1 50 1000), SIZES
# (64 4096), MODES (pp pipe), DEPTH of pipe (16), HTTP_CONNS (50), OUT
# (/tmp/sockit-bench-suite), PLOT (1; 0: no gnuplot, no PNG), COPY_PLOT
# (0; 1: copy OUT/bench.png to docs/bench.png), ECHO_LOAD (sockit: `sockit
# bench`; echo_load: bench/echo's own generator), QUICK (0; 1: RUNS=1 DUR=1
# WARM=0.5 CONNS="50 1000" SIZES=64 unless set). See bench/README.md.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_me=suite

if [ "${QUICK:-0}" = 1 ]; then
	RUNS=${RUNS:-1} DUR=${DUR:-1} WARM=${WARM:-0.5}
	CONNS=${CONNS:-"50 1000"} SIZES=${SIZES:-64}
fi
RUNS=${RUNS:-3}
DUR=${DUR:-2}
WARM=${WARM:-1}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
SECTIONS=${SECTIONS:-"echo http scan"}
SERVERS=${SERVERS:-"sockit epoll uv ev asyncio"}
CONNS=${CONNS:-"1 50 1000"}
SIZES=${SIZES:-"64 4096"}
MODES=${MODES:-"pp pipe"}
DEPTH=${DEPTH:-16}
HTTP_CONNS=${HTTP_CONNS:-50}
OUT=${OUT:-/tmp/sockit-bench-suite}
PLOT=${PLOT:-1}
ECHO_LOAD=${ECHO_LOAD:-sockit}
COPY_PLOT=${COPY_PLOT:-0}
# The CPU sample of a run leaves this much out at each end of its window.
EDGE=0.3

has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
say() { printf '%s\n' "$*" >&2; }

# ---- Checks, before anything is built or run ----

missing=0
need_all() { # TOOL PACKAGE ...: every tool, a message for each missing one
	while [ $# -ge 2 ]; do
		need "$1" "$2" || missing=1
		shift 2
	done
}
need_all make make cc gcc taskset util-linux python3 python3 pkg-config pkg-config
[ "$PLOT" = 1 ] && { need gnuplot gnuplot-nox || { say "$bench_me: or PLOT=0 for no plot"; missing=1; }; }
if has echo; then
	for srv in $SERVERS; do
		case $srv in
		uv) pkg-config --exists libuv || { say "$bench_me: libuv is missing: apt-get install libuv1-dev"; missing=1; } ;;
		ev) pkg-config --exists libevent || { say "$bench_me: libevent is missing: apt-get install libevent-dev"; missing=1; } ;;
		sockit | epoll | asyncio) ;;
		*) say "$bench_me: SERVERS: no echo server '$srv' (sockit epoll uv ev asyncio)"; missing=1 ;;
		esac
	done
fi
has http && need_all wrk wrk ab apache2-utils nginx nginx-light
if has scan; then
	need_all nmap nmap nc netcat-openbsd iptables iptables unshare util-linux ss iproute2
	[ "$(id -u)" = 0 ] || { say "$bench_me: the scan section needs root (network namespaces): run as root, or SECTIONS=\"echo http\""; missing=1; }
fi
ncpu=$(nproc)
for c in "$SERVER_CPU" "$LOAD_CPU"; do
	[ "$c" -lt "$ncpu" ] || { say "$bench_me: CPU $c: this machine has $ncpu (SERVER_CPU, LOAD_CPU)"; missing=1; }
done
[ "$SERVER_CPU" != "$LOAD_CPU" ] || say "$bench_me: warning: SERVER_CPU = LOAD_CPU: server and load share one CPU"
case $DUR in *[!0-9]* | "" | 0) say "$bench_me: DUR must be a whole number of seconds (wrk, ab)"; missing=1 ;; esac
case $ECHO_LOAD in sockit | echo_load) ;; *) say "$bench_me: ECHO_LOAD is sockit or echo_load"; missing=1 ;; esac
[ "$missing" = 0 ] || { say "$bench_me: nothing was run"; exit 1; }

# ---- Build ----

mkdir -p "$OUT"
rm -rf "$OUT/raw"
mkdir -p "$OUT/raw"
RAW=$OUT/raw/runs.tsv
: >"$RAW"
T_START=$EPOCHREALTIME
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "$bench_me: building in $OUT/build"
make -s BUILD="$OUT/build" "$OUT/build/sockit" >&2
SOCKIT=$OUT/build/sockit
has echo && echo_build "$OUT/build" "$OUT/build/libsockit.a"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Rough time, to say up front.
ncell=$(($(echo $CONNS | wc -w) * $(echo $SIZES | wc -w) * $(echo $MODES | wc -w)))
est=0
has echo && est=$(awk -v n="$ncell" -v s="$(echo $SERVERS | wc -w)" -v r="$RUNS" \
	-v d="$DUR" -v w="$WARM" 'BEGIN { print int(n * s * r * (d + w + 0.4)) }')
has http && est=$((est + 6 * RUNS * (DUR + 1)))
has scan && est=$((est + 8 * RUNS + 10))
say "$bench_me: runs=$RUNS dur=${DUR}s warm=${WARM}s, server on CPU $SERVER_CPU, load on CPU $LOAD_CPU;" \
	"about $((est / 60 + 1)) minutes"

PIDS=""
stop_all() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	PIDS=""
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# CPU seconds of PID, or "nan" once it has gone.
cpu_or_nan() {
	local v
	v=$(cpu_of "$1" 2>/dev/null) || true
	echo "${v:-nan}"
}

# One measured run: CMD pinned on LOAD_CPU, stdout to FILE (stderr to
# FILE.err). Its measured window starts about LEAD - EDGE s after it does
# (the warm-up) and lasts DUR s; from EDGE s into the window to EDGE s
# before its end, sample the CPU time of the server SPID and of the
# generator (a late start only moves the window later, so the sample
# stays inside it); append one line to $RAW:
#   section run load server conns size mode rc span srv0 srv1 gen0 gen1 file
#   measure SECTION RUN LOAD SERVER CONNS SIZE MODE SPID LEAD FILE CMD...
measure() {
	local sec=$1 run=$2 load=$3 srv=$4 c=$5 s=$6 m=$7 spid=$8 lead=$9 file=${10}
	shift 10
	kill -0 "$spid" 2>/dev/null || { say "$bench_me: the $srv server (pid $spid) has died"; exit 1; }
	local span gpid a0 a1 s0 s1 g0 g1 rc=0
	span=$(awk -v d="$DUR" -v e="$EDGE" 'BEGIN { x = d - 2 * e; print x < 0.2 ? 0.2 : x }')
	taskset -c "$LOAD_CPU" "$@" >"$file" 2>"$file.err" &
	gpid=$!
	sleep "$lead"
	a0=$EPOCHREALTIME s0=$(cpu_or_nan "$spid") g0=$(cpu_or_nan "$gpid")
	sleep "$span"
	a1=$EPOCHREALTIME s1=$(cpu_or_nan "$spid") g1=$(cpu_or_nan "$gpid")
	wait "$gpid" || rc=$?
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sec" "$run" "$load" \
		"$srv" "$c" "$s" "$m" "$rc" "$(awk -v a="$a0" -v b="$a1" 'BEGIN { printf "%.4f", b - a }')" \
		"$s0" "$s1" "$g0" "$g1" "$file" >>"$RAW"
	M_RC=$rc
}

# requests/s out of a result, for the progress lines: rate_of LOAD FILE
rate_of() {
	case $1 in
	wrk) sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$2" ;;
	ab) sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p' "$2" ;;
	echo_load) field rate <"$2" ;;
	*) sed -n 's/.*"requests_per_s":\([0-9.]*\).*/\1/p' "$2" ;;
	esac | awk '{ printf "%.1fk", $1 / 1000 } END { if (!NR) printf "FAILED" }'
}

# Where a run's CPU sample starts: after sockit bench's warm-up.
lead=$(awk -v w="$WARM" -v e="$EDGE" 'BEGIN { print w + e }')

# ---- echo ----

if has echo; then
	T0=$EPOCHREALTIME
	for srv in $SERVERS; do
		port=$(free_port)
		# "sockit" in the tables is the command: `sockit serve echo
		# --workers 1` (bench/echo/sockit_echo.c is the same loop
		# without the service around it; bench/echo/run.sh has it).
		if [ "$srv" = sockit ]; then
			echo_start serve "$port" "$SERVER_CPU" "$OUT/build"
		else
			echo_start "$srv" "$port" "$SERVER_CPU" "$OUT/build"
		fi
		PIDS="$PIDS $SPID"
		eval "PORT_$srv=$port PID_$srv=$SPID"
	done
	for run in $(seq "$RUNS"); do
		for c in $CONNS; do for s in $SIZES; do for m in $MODES; do
			d=1
			[ "$m" = pipe ] && d=$DEPTH
			line=""
			for srv in $SERVERS; do
				eval "port=\$PORT_$srv pid=\$PID_$srv"
				f=$OUT/raw/echo.$run.$c.$s.$m.$srv.txt
				if [ "$ECHO_LOAD" = sockit ]; then
					set -- "$SOCKIT" bench --json -t 1 -c "$c" -s "$s" -p "$d" \
						-d "$DUR" --warmup "$WARM" "127.0.0.1:$port"
				else
					set -- "$OUT/build/echo_load" -p "$port" -c "$c" -s "$s" -d "$d" \
						-t "$DUR" -w "$WARM"
				fi
				measure echo "$run" "$ECHO_LOAD" "$srv" "$c" "$s" "$m" "$pid" "$lead" "$f" "$@"
				line="$line $srv $(rate_of "$ECHO_LOAD" "$f")"
				[ "$M_RC" = 0 ] || line="$line(rc $M_RC)"
			done
			say "echo run $run/$RUNS: $c conns, $s B, $m:$line msg/s"
		done; done; done
	done
	stop_all
	say "$bench_me: echo took $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
fi

# ---- http ----

if has http; then
	T0=$EPOCHREALTIME
	PORT_sockit=$(free_port)
	hello_start "$SOCKIT" "$PORT_sockit" "$SERVER_CPU" "$OUT/raw/hello.log"
	PID_sockit=$HELLO_PID
	PIDS="$PIDS $HELLO_PID"
	PORT_nginx=$(free_port)
	nginx_start "$OUT/nginx" "$PORT_nginx" "$SERVER_CPU"
	PID_nginx=$NGINX_PID
	PIDS="$PIDS $NGINX_PID"
	wait_port "$PORT_sockit" "sockit serve hello"
	wait_port "$PORT_nginx" nginx
	hc=$HTTP_CONNS
	for run in $(seq "$RUNS"); do
		for load in wrk ab skbench; do
			line=""
			for srv in sockit nginx; do
				eval "port=\$PORT_$srv pid=\$PID_$srv"
				url=http://127.0.0.1:$port/
				f=$OUT/raw/http.$run.$load.$srv.txt
				case $load in
				wrk) set -- wrk -t1 -c"$hc" -d"${DUR}s" --latency "$url" ;;
				# -t stops ab after DUR s; the -n after it lifts the
				# 50000 requests that -t implies.
				ab) set -- ab -k -q -c "$hc" -t "$DUR" -n 100000000 "$url" ;;
				# The warm-up keeps the connections' ramp (100 ms)
				# out of the window; wrk and ab count their own
				# connection setup.
				skbench) set -- "$SOCKIT" bench --json --mode http -t 1 -c "$hc" -d "$DUR" \
					--warmup "$WARM" "$url" ;;
				esac
				l=$EDGE
				[ "$load" = skbench ] && l=$lead
				measure http "$run" "$load" "$srv" "$hc" 0 get "$pid" "$l" "$f" "$@"
				line="$line $srv $(rate_of "$load" "$f")"
				[ "$M_RC" = 0 ] || line="$line(rc $M_RC)"
			done
			say "http run $run/$RUNS: $load:$line req/s"
		done
	done
	stop_all
	say "$bench_me: http took $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
fi

# ---- scan (bench/scan.sh, loopback scenario) ----

if has scan; then
	T0=$EPOCHREALTIME
	say "$bench_me: bench/scan.sh, loopback scenario, RUNS=$RUNS"
	# scan.sh takes the build directory relative to the repository.
	SCENARIOS=loopback RUNS=$RUNS BUILD=$(realpath --relative-to=. "$OUT/build") bash bench/scan.sh \
		>"$OUT/raw/scan.txt" || { say "$bench_me: bench/scan.sh failed: $OUT/raw/scan.txt"; exit 1; }
	say "$bench_me: scan took $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
fi

# ---- Medians, ratios, tables, results.json, the plot's data ----

export OUT RUNS DUR WARM SERVER_CPU LOAD_CPU SECTIONS SERVERS CONNS SIZES MODES DEPTH \
	HTTP_CONNS ECHO_LOAD T_START LOAD_START
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
T_END=$EPOCHREALTIME
GIT_REV=$(git describe --always --dirty 2>/dev/null || echo unknown)
export LOAD_END T_END GIT_REV
python3 - <<'PY'
import datetime, json, math, os, platform, re

E = os.environ
OUT = E["OUT"]
SERVERS = E["SERVERS"].split()
NAME = {"uv": "libuv", "ev": "libevent", "epoll": "epoll", "sockit": "sockit",
        "asyncio": "asyncio"}
LOADNAME = {"wrk": "wrk", "ab": "ab -k", "skbench": "sockit bench"}

def med(xs):
    xs = sorted(x for x in xs if x is not None and not math.isnan(x))
    return xs[(len(xs) - 1) // 2] if xs else None   # a measured value

def num(x):
    try:
        return float(x)
    except ValueError:
        return None

def ratio(a, b):
    return a / b if a is not None and b else None

def unit_us(v, u):
    return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[u]

def parse_skbench(text):
    d = json.loads(text)
    lat = d["latency_s"]  # seconds, as all of sockit's JSON (docs/json.md)
    us = lambda v: v * 1e6 if v is not None else None
    return {"rps": d["requests_per_s"], "requests": d["requests"], "errors": d["errors"],
            "p50_us": us(lat["p50"]), "p99_us": us(lat["p99"]), "gen_self_share": d["cpu"]["share"],
            "generator": d}

def parse_echo_load(text):
    kv = dict(w.split("=", 1) for w in text.split())
    return {"rps": float(kv["rate"]), "requests": int(kv["msgs"]), "errors": int(kv["errors"]),
            "p50_us": float(kv["p50_us"]), "p99_us": float(kv["p99_us"]),
            "gen_self_share": float(kv["load_cpu"]), "generator": kv}

def parse_wrk(text):
    r = {"rps": None, "errors": 0, "p50_us": None, "p99_us": None}
    m = re.search(r"^Requests/sec:\s*([\d.]+)", text, re.M)
    if m: r["rps"] = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in", text, re.M)
    if m: r["requests"] = int(m.group(1))
    for pct, key in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, text, re.M)
        if m: r[key] = unit_us(m.group(1), m.group(2))
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    if m: r["errors"] += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m: r["errors"] += sum(int(g) for g in m.groups())
    return r

def parse_ab(text):
    r = {"rps": None, "errors": 0, "p50_us": None, "p99_us": None}
    m = re.search(r"^Requests per second:\s*([\d.]+)", text, re.M)
    if m: r["rps"] = float(m.group(1))
    m = re.search(r"^Complete requests:\s*(\d+)", text, re.M)
    if m: r["requests"] = int(m.group(1))
    for key, pat in (("errors", r"^Failed requests:\s*(\d+)"), ("errors", r"^Non-2xx responses:\s*(\d+)")):
        m = re.search(pat, text, re.M)
        if m: r[key] += int(m.group(1))
    # ab's percentiles are whole milliseconds.
    for pct, key in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(r"^\s*%s%%\s+(\d+)\s*$" % pct, text, re.M)
        if m: r[key] = float(m.group(1)) * 1000
    return r

# ---- Raw runs ----
runs = []
for line in open(os.path.join(OUT, "raw", "runs.tsv")):
    f = line.rstrip("\n").split("\t")
    sec, run, load, srv, c, s, m, rc, span, s0, s1, g0, g1, path = f
    text = open(path).read() if os.path.exists(path) else ""
    r = {"section": sec, "run": int(run), "load": load, "server": srv, "conns": int(c),
         "size": int(s), "mode": m, "exit": int(rc), "output": path}
    try:
        if load in ("sockit", "skbench"):
            r.update(parse_skbench(text))
        elif load == "echo_load":
            r.update(parse_echo_load(text))
        elif load == "wrk":
            r.update(parse_wrk(text))
        else:
            r.update(parse_ab(text))
    except (ValueError, KeyError):
        r.update({"rps": None, "errors": None, "p50_us": None, "p99_us": None})
        r["failed"] = "no result: see %s and %s.err" % (path, path)
    span, s0, s1, g0, g1 = map(num, (span, s0, s1, g0, g1))
    r["sample_s"] = span
    r["srv_share"] = (s1 - s0) / span if None not in (s0, s1) and span else None
    r["gen_share"] = (g1 - g0) / span if None not in (g0, g1) and span else None
    if g1 is None:
        # The generator was gone before the sample ended (a stalled
        # machine stretched the suite's sleep): the server's sample holds
        # idle time, so it says nothing about CPU per request.
        r["srv_share"] = None
        r["cpu_sample"] = "void: the generator ended before the sample did"
    # Server CPU per message: its CPU rate over the sample, divided by the
    # window's messages per second.
    r["srv_us_per_req"] = (r["srv_share"] * 1e6 / r["rps"]) if r["srv_share"] is not None and r.get("rps") else None
    runs.append(r)

def medians(rs):
    keys = ("rps", "p50_us", "p99_us", "srv_us_per_req", "srv_share", "gen_share", "gen_self_share")
    m = {k: med([r.get(k) for r in rs]) for k in keys}
    m["errors"] = sum(r["errors"] or 0 for r in rs) if all(r.get("errors") is not None for r in rs) else None
    m["runs"] = len(rs)
    m["failed_runs"] = sum(1 for r in rs if r["exit"] != 0 or r.get("rps") is None)
    return m

res = {"meta": {
    "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "git": E["GIT_REV"], "kernel": platform.release(), "cpus": os.cpu_count(),
    "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
    "loadavg_start": E["LOAD_START"], "loadavg_end": E["LOAD_END"],
    "elapsed_s": round(float(E["T_END"]) - float(E["T_START"]), 1),
    "knobs": {k: E[k] for k in ("RUNS", "DUR", "WARM", "SERVER_CPU", "LOAD_CPU", "SECTIONS",
                                "SERVERS", "CONNS", "SIZES", "MODES", "DEPTH", "HTTP_CONNS")}}}
summary = []

def x(v, w=6):
    return ("%*.2fx" % (w - 1, v)) if v is not None else "%*s" % (w, "-")

def f(v, fmt, w):
    return (fmt % v).rjust(w) if v is not None else "-".rjust(w)

def geo(vals):
    vals = [v for v in vals if v]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None

print("sockit bench suite: %s, %d CPUs (%s), kernel %s, load average %s at the start, %s at the end" % (
    res["meta"]["git"], res["meta"]["cpus"], res["meta"]["cpu_model"], res["meta"]["kernel"],
    E["LOAD_START"], E["LOAD_END"]))
print("server on CPU %s, load on CPU %s (taskset); median of %s runs, peers interleaved within each run" % (
    E["SERVER_CPU"], E["LOAD_CPU"], E["RUNS"]))

# ---- echo ----
echo = [r for r in runs if r["section"] == "echo"]
if echo:
    cells = []
    for r in echo:
        k = (r["conns"], r["size"], r["mode"])
        if k not in cells: cells.append(k)
    table = []
    print()
    print("== echo: %s, %s s a cell after %s s of warm-up; pipe = %s in flight a connection" % (
        "sockit bench -t 1" if E["ECHO_LOAD"] == "sockit" else "bench/echo/echo_load", E["DUR"], E["WARM"], E["DEPTH"]))
    print("kmsg/s: echoed messages per second; p99: latency in us; us/msg: server CPU (utime+stime) per message;")
    print("srv/gen: CPU share of the server and of the generator itself over the window (1.00 = a whole CPU;")
    print("gen near 1.00 means the generator, not the server, was the limit: read us/msg there)")
    print("%-5s %5s %-4s  %-8s %8s %8s %7s %5s %5s %6s" % ("conns", "size", "mode", "server", "kmsg/s",
                                                      "p99 us", "us/msg", "srv", "gen", "errors"))
    for k in cells:
        row = {"conns": k[0], "size": k[1], "mode": k[2], "servers": {}}
        for i, srv in enumerate(SERVERS):
            rs = [r for r in echo if (r["conns"], r["size"], r["mode"]) == k and r["server"] == srv]
            if not rs: continue
            m = medians(rs)
            row["servers"][srv] = m
            lead = "%5d %5d %-4s" % k if i == 0 else " " * 16
            print("%s  %-8s %s %s %s %s %s %s%s" % (lead, NAME[srv],
                  f(m["rps"] and m["rps"] / 1000, "%.1f", 8), f(m["p99_us"], "%.0f", 8),
                  f(m["srv_us_per_req"], "%.2f", 7), f(m["srv_share"], "%.2f", 5),
                  f(m["gen_self_share"], "%.2f", 5), f(m["errors"], "%d", 6),
                  "  (%d failed runs)" % m["failed_runs"] if m["failed_runs"] else ""))
        sv = row["servers"]
        for other in ("uv", "epoll"):
            if "sockit" in sv and other in sv:
                a, b = sv["sockit"], sv[other]
                row["sockit/" + other] = {"msgs_per_s": ratio(a["rps"], b["rps"]),
                                          "p99": ratio(a["p99_us"], b["p99_us"]),
                                          "cpu_per_msg": ratio(a["srv_us_per_req"], b["srv_us_per_req"])}
        table.append(row)
    print()
    print("echo ratios (msgs/s > 1: sockit moves more; p99 and cpu/msg < 1: sockit lower, better)")
    print("%-16s | %-26s | %-26s" % ("", "      sockit/libuv", "      sockit/epoll"))
    print("%-5s %5s %-4s | %8s %8s %8s | %8s %8s %8s" % ("conns", "size", "mode", "msgs/s", "p99", "cpu/msg",
                                                   "msgs/s", "p99", "cpu/msg"))
    for row in table:
        a = row.get("sockit/uv", {}); b = row.get("sockit/epoll", {})
        print("%5d %5d %-4s | %s %s %s | %s %s %s" % (row["conns"], row["size"], row["mode"],
              x(a.get("msgs_per_s"), 8), x(a.get("p99"), 8), x(a.get("cpu_per_msg"), 8),
              x(b.get("msgs_per_s"), 8), x(b.get("p99"), 8), x(b.get("cpu_per_msg"), 8)))
    bound = ["%dc %dB %s" % (row["conns"], row["size"], row["mode"]) for row in table
             if any((row["servers"].get(s_, {}).get("gen_self_share") or 0) >= 0.9 for s_ in ("sockit", "epoll"))]
    if bound:
        print("generator-bound (gen >= 0.90 against sockit or epoll) in %d of %d cells: there the msgs/s ratios" % (
            len(bound), len(table)))
        print("compare the generator with itself; us/msg still compares the servers:")
        print("  " + ", ".join(bound))
    res["echo"] = {"generator": E["ECHO_LOAD"], "cells": table, "generator_bound_cells": bound}
    for other in ("uv", "epoll"):
        for key, what, better in (("msgs_per_s", "msgs/s", "> 1"), ("cpu_per_msg", "CPU/msg", "< 1"),
                                  ("p99", "p99 latency", "< 1")):
            vals = [row["sockit/" + other][key] for row in table if row.get("sockit/" + other, {}).get(key)]
            if vals:
                summary.append(("echo %s, sockit/%s" % (what, NAME[other]), geo(vals),
                                "geomean of %d cells, %.2f..%.2f" % (len(vals), min(vals), max(vals)), better))

# ---- http ----
http = [r for r in runs if r["section"] == "http"]
if http:
    print()
    print("== http: GET / from %s connections, %s s a run; sockit serve hello (1 worker) vs nginx (1 worker, return 200)" % (
        E["HTTP_CONNS"], E["DUR"]))
    print("us/req: server CPU per request; srv/gen: CPU shares (gen sampled from /proc like the server's);")
    print("ab reports latency in whole ms")
    print("%-13s %-7s %9s %8s %8s %7s %5s %5s %6s" % ("load", "server", "req/s", "p50 us", "p99 us", "us/req",
                                                   "srv", "gen", "errors"))
    hres = {}
    for load in ("wrk", "ab", "skbench"):
        for srv in ("sockit", "nginx"):
            rs = [r for r in http if r["load"] == load and r["server"] == srv]
            if not rs: continue
            m = medians(rs)
            hres.setdefault(load, {})[srv] = m
            lat = lambda v: "<1000".rjust(8) if load == "ab" and v == 0 else f(v, "%.0f", 8)
            print("%-13s %-7s %s %s %s %s %s %s %s%s" % (LOADNAME[load], srv, f(m["rps"], "%.0f", 9),
                  lat(m["p50_us"]), lat(m["p99_us"]), f(m["srv_us_per_req"], "%.2f", 7),
                  f(m["srv_share"], "%.2f", 5), f(m["gen_share"], "%.2f", 5), f(m["errors"], "%d", 6),
                  "  (%d failed runs)" % m["failed_runs"] if m["failed_runs"] else ""))
    print()
    print("sockit serve / nginx   req/s  cpu/req   (req/s > 1 and cpu/req < 1: sockit better)")
    ratios = {}
    for load in ("wrk", "ab", "skbench"):
        h = hres.get(load, {})
        if "sockit" in h and "nginx" in h:
            rr = {"req_per_s": ratio(h["sockit"]["rps"], h["nginx"]["rps"]),
                  "cpu_per_req": ratio(h["sockit"]["srv_us_per_req"], h["nginx"]["srv_us_per_req"])}
            ratios["sockit/nginx " + LOADNAME[load]] = rr
            print("  under %-14s %s %s" % (LOADNAME[load], x(rr["req_per_s"], 6), x(rr["cpu_per_req"], 8)))
            summary.append(("http req/s, sockit/nginx under %s" % LOADNAME[load], rr["req_per_s"], "", "> 1"))
            summary.append(("http CPU/req, sockit/nginx under %s" % LOADNAME[load], rr["cpu_per_req"], "", "< 1"))
    print("load generators, sockit bench / wrk (target: req/s >= 1.00, p50 within 0.90..1.10)")
    for srv in ("nginx", "sockit"):
        w, s = hres.get("wrk", {}).get(srv), hres.get("skbench", {}).get(srv)
        if not (w and s): continue
        rr = {"req_per_s": ratio(s["rps"], w["rps"]), "p50": ratio(s["p50_us"], w["p50_us"])}
        ok = rr["req_per_s"] is not None and rr["p50"] is not None and rr["req_per_s"] >= 1 and 0.9 <= rr["p50"] <= 1.1
        ratios["sockit bench/wrk on " + srv] = dict(rr, target_met=ok)
        print("  on %-6s  req/s %s  p50 %s  (%.0f vs %.0f us)  %s" % (srv, x(rr["req_per_s"]), x(rr["p50"]),
              s["p50_us"] or 0, w["p50_us"] or 0, "target met" if ok else "TARGET MISSED"))
        summary.append(("load gen req/s, sockit bench/wrk on %s" % srv, rr["req_per_s"], "", ">= 1"))
        summary.append(("load gen p50, sockit bench/wrk on %s" % srv, rr["p50"], "", "0.90..1.10"))
    res["http"] = {"results": hres, "ratios": ratios}

# ---- scan ----
scanf = os.path.join(OUT, "raw", "scan.txt")
if "scan" in E["SECTIONS"].split() and os.path.exists(scanf):
    text = open(scanf).read()
    tools = {}
    for m in re.finditer(r"^(sockit|epscan|nmap|nc)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x\s+(.*?)\s*$",
                         text, re.M):
        tools[m.group(1)] = {"runs": int(m.group(2)), "median_s": float(m.group(3)), "min_s": float(m.group(4)),
                             "max_s": float(m.group(5)), "open_set_ok": m.group(7).split("  ")[0].strip()}
    print()
    print("== scan: all 65535 ports of 127.0.0.1 in a network namespace (bench/scan.sh, loopback scenario;")
    print("scanners on the last CPU, listeners on CPU 0); time ratios < 1: sockit faster")
    print("%-7s %9s %8s %8s %10s  %s" % ("tool", "median s", "min s", "max s", "sockit/it", "open set = ss"))
    for t, v in tools.items():
        r = ratio(tools["sockit"]["median_s"], v["median_s"]) if "sockit" in tools else None
        v["sockit_over"] = r
        print("%-7s %9.2f %8.2f %8.2f %s  %s" % (t, v["median_s"], v["min_s"], v["max_s"], x(r, 10), v["open_set_ok"]))
        if t != "sockit":
            summary.append(("scan wall time, sockit/%s" % t, r, "", "< 1"))
    res["scan"] = {"tools": tools, "report": text}

# ---- summary ----
if summary:
    print()
    print("== summary: sockit over each peer (medians)")
    print("%-50s %7s  %-10s %s" % ("", "ratio", "better", ""))
    for what, v, note, better in summary:
        print("%-50s %s  %-10s %s" % (what, x(v, 7), better, note))
res["summary"] = [{"what": w, "ratio": v, "better": b, "note": n} for w, v, n, b in summary]
res["runs"] = runs
with open(os.path.join(OUT, "results.json"), "w") as fh:
    json.dump(res, fh, indent=1)

# ---- Data for the plot: one row per cell, one column per peer ----
def q(s): return '"%s"' % s
def d(v, scale=1): return "%.6g" % (v / scale) if v is not None else "?"
if echo:
    with open(os.path.join(OUT, "echo.dat"), "w") as fh:
        fh.write("cell " + " ".join(q(NAME[s]) for s in SERVERS) + "\n")
        for row in res["echo"]["cells"]:
            label = "%dc %s %s" % (row["conns"], "4K" if row["size"] == 4096 else "%dB" % row["size"], row["mode"])
            sv = row["servers"]
            fh.write(q(label) + " " + " ".join(d(sv.get(s, {}).get("rps"), 1000) for s in SERVERS) + "\n")
        fh.write("\n\n")
        fh.write("cell " + " ".join(q(NAME[s]) for s in SERVERS) + "\n")
        for row in res["echo"]["cells"]:
            label = "%dc %s %s" % (row["conns"], "4K" if row["size"] == 4096 else "%dB" % row["size"], row["mode"])
            sv = row["servers"]
            fh.write(q(label) + " " + " ".join(d(sv.get(s, {}).get("p99_us")) for s in SERVERS) + "\n")
if http:
    with open(os.path.join(OUT, "http.dat"), "w") as fh:
        for col in ("rps", "p99_us"):
            fh.write("load sockit nginx\n")
            for load in ("wrk", "ab", "skbench"):
                h = res["http"]["results"].get(load, {})
                fh.write("%s %s %s\n" % (q(LOADNAME[load]), d(h.get("sockit", {}).get(col), 1000 if col == "rps" else 1),
                                         d(h.get("nginx", {}).get(col), 1000 if col == "rps" else 1)))
            fh.write("\n\n")
if res.get("scan", {}).get("tools"):
    with open(os.path.join(OUT, "scan.dat"), "w") as fh:
        for t, v in res["scan"]["tools"].items():
            fh.write("%s %s\n" % (q(t), d(v["median_s"])))
PY

if [ "$PLOT" = 1 ]; then
	gnuplot -e "dir='$OUT'; runs='$RUNS'; rev='$GIT_REV'; depth='$DEPTH'; ns=$(echo $SERVERS | wc -w)" \
		bench/plot.gp 2>"$OUT/raw/gnuplot.err" ||
		{ cat "$OUT/raw/gnuplot.err" >&2; say "$bench_me: gnuplot failed"; exit 1; }
	if [ "$COPY_PLOT" = 1 ]; then
		cp "$OUT/bench.png" docs/bench.png
		say "$bench_me: copied the plot to docs/bench.png"
	fi
fi
plot=""
[ "$PLOT" = 1 ] && plot=", plot: $OUT/bench.png"
echo
echo "results: $OUT/results.json$plot; took" \
	"$(awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
