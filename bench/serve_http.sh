#!/bin/sh
# bench/serve_http.sh - `sockit serve hello` against nginx answering
# `return 200` with one worker, under wrk and ab with keep-alive: requests
# per second and server CPU time per request, medians of RUNS runs, and the
# ratios sockit/nginx.
#
#   sh bench/serve_http.sh              5 s wrk, 200000 ab requests, 5 runs
#   RUNS=3 DUR=3 N=100000 sh bench/serve_http.sh
#
# Knobs (environment): RUNS (5), DUR wrk seconds (5), CONNS (50), N ab
# requests (200000), OUT work dir (/tmp/sockit-bench-http), SERVER_CPU (0)
# and LOAD_CPU (1) for taskset. Both servers run at once, each on
# SERVER_CPU, and each run visits them in turn, so a disturbance of the
# machine falls on both alike. Server CPU comes from /proc/PID/stat (utime
# + stime) over each run. Needs wrk, apache2-utils (ab) and nginx
# (scripts/deps.sh).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
DUR=${DUR:-5}
CONNS=${CONNS:-50}
N=${N:-200000}
OUT=${OUT:-/tmp/sockit-bench-http}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

need wrk wrk
need ab apache2-utils
need nginx nginx-light
need taskset util-linux
need python3 python3
mkdir -p "$OUT"
echo "building in $OUT/build" >&2
make -s BUILD="$OUT/build" "$OUT/build/sockit" >&2

# ---- The two servers ----

PORT_sockit=$(free_port)
hello_start "$OUT/build/sockit" "$PORT_sockit" "$SERVER_CPU" "$OUT/sockit.log"
PID_sockit=$HELLO_PID
PORT_nginx=$(free_port)
nginx_start "$OUT/nginx" "$PORT_nginx" "$SERVER_CPU"
PID_nginx=$NGINX_PID
trap 'kill $PID_sockit $PID_nginx 2>/dev/null || true' EXIT
wait_port "$PORT_sockit"
wait_port "$PORT_nginx"

# ---- Runs ----

RES="$OUT/results.txt"
: >"$RES"
for run in $(seq "$RUNS"); do
	for srv in sockit nginx; do
		eval "port=\$PORT_$srv pid=\$PID_$srv"
		url="http://127.0.0.1:$port/"
		c0=$(cpu_of "$pid")
		w=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DUR}s" "$url")
		c1=$(cpu_of "$pid")
		rps=$(echo "$w" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
		reqs=$(echo "$w" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
		errs=$(echo "$w" | sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p')
		us=$(echo "$c0 $c1 $reqs" | awk '{printf "%.2f", ($2-$1)*1e6/$3}')
		echo "wrk $srv rps=$rps cpu_us=$us non2xx=${errs:-0}" >>"$RES"
		c0=$(cpu_of "$pid")
		a=$(taskset -c "$LOAD_CPU" ab -k -q -c "$CONNS" -n "$N" "$url" 2>&1)
		c1=$(cpu_of "$pid")
		rps=$(echo "$a" | sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
		failed=$(echo "$a" | sed -n 's/^Failed requests: *\([0-9]*\).*/\1/p')
		ka=$(echo "$a" | sed -n 's/^Keep-Alive requests: *\([0-9]*\).*/\1/p')
		us=$(echo "$c0 $c1 $N" | awk '{printf "%.2f", ($2-$1)*1e6/$3}')
		echo "ab $srv rps=$rps cpu_us=$us failed=$failed keepalive=$ka" >>"$RES"
		echo "run $run $srv done" >&2
	done
done

# ---- Table ----

echo "serve_http: $RUNS runs, $CONNS connections, wrk ${DUR}s, ab -k -n $N;" \
	"server on CPU $SERVER_CPU, load on CPU $LOAD_CPU; load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-5s %-7s %12s %14s\n' tool server "req/s" "CPU us/req"
for tool in wrk ab; do
	for srv in sockit nginx; do
		r=$(grep "^$tool $srv " "$RES" | field rps | median)
		u=$(grep "^$tool $srv " "$RES" | field cpu_us | median)
		eval "R_$srv=$r U_$srv=$u"
		printf '%-5s %-7s %12s %14s\n' "$tool" "$srv" "$r" "$u"
	done
	echo "$tool sockit/nginx: req/s $(echo "$R_sockit $R_nginx" | awk '{printf "%.2f", $1/$2}')," \
		"CPU per request $(echo "$U_sockit $U_nginx" | awk '{printf "%.2f", $1/$2}')"
done
grep -h "failed=[1-9]\|non2xx=[1-9]" "$RES" && echo "serve_http: some requests failed" || true
kill -INT "$PID_sockit" "$PID_nginx" 2>/dev/null || true
wait "$PID_sockit" 2>/dev/null || true
tail -1 "$OUT/sockit.log"
