#!/bin/sh
# bench/serve_http.sh - `sockit serve` as an HTTP server against nginx (one
# worker) and python3 -m http.server, pinned, medians of RUNS runs, with
# the ratios. Two sections (SECTIONS, default both):
#
#   hello  `sockit serve hello` against nginx's `return 200`, under wrk and
#          ab -k: requests per second and server CPU time per request;
#   files  `sockit serve http DIR` against nginx serving DIR (sendfile on,
#          tcp_nopush on, access logs off in both) and python3 -m
#          http.server: a 4 KiB file under wrk -t1 -cCONNS keep-alive
#          (req/s, server CPU per request) and a FILE_MB (1024) MiB file
#          fetched by curl -o /dev/null (MB/s, server CPU per GB) and by
#          sockit http -o /dev/null (MB/s).
#
#   sh bench/serve_http.sh              5 s wrk, 200000 ab requests, 5 runs
#   RUNS=3 DUR=3 N=100000 sh bench/serve_http.sh
#   SECTIONS=files RUNS=3 DUR=3 sh bench/serve_http.sh
#
# Knobs (environment): SECTIONS ("hello files"), RUNS (5), DUR wrk seconds
# (5), CONNS (50), N ab requests (200000), FILE_MB (1024), PY_DUR wrk
# seconds against python (3), OUT work dir (/tmp/sockit-bench-http),
# SERVER_CPU (0) and LOAD_CPU (1) for taskset. The servers run at once,
# each on SERVER_CPU, and each run visits them in turn, so a disturbance
# of the machine falls on all alike. Server CPU comes from /proc/PID/stat
# (utime + stime) over each run. Needs wrk, apache2-utils (ab), nginx and
# curl (scripts/deps.sh).
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
SECTIONS=${SECTIONS:-hello files}
FILE_MB=${FILE_MB:-1024}
PY_DUR=${PY_DUR:-3}

need wrk wrk
need ab apache2-utils
need nginx nginx-light
need taskset util-linux
need python3 python3
need curl curl
mkdir -p "$OUT"
echo "building in $OUT/build" >&2
make -s BUILD="$OUT/build" "$OUT/build/sockit" >&2

case " $SECTIONS " in *" hello "*) ;; *) SKIP_HELLO=1 ;; esac
if [ -z "${SKIP_HELLO:-}" ]; then

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
trap - EXIT
fi

case " $SECTIONS " in *" files "*) ;; *) exit 0 ;; esac

# ---- files: the tree, the three servers ----

WWW="$OUT/www"
mkdir -p "$WWW"
[ -f "$WWW/4k.bin" ] || head -c 4096 /dev/urandom >"$WWW/4k.bin"
if [ "$(stat -c %s "$WWW/big.bin" 2>/dev/null || echo 0)" -ne $((FILE_MB << 20)) ]; then
	echo "making a $FILE_MB MiB file" >&2
	head -c $((FILE_MB << 20)) /dev/urandom >"$WWW/big.bin"
fi
cat "$WWW/big.bin" >/dev/null # in the page cache for every server alike

F_sockit=$(free_port)
taskset -c "$SERVER_CPU" "$OUT/build/sockit" serve --workers 1 --max-conns 0 \
	--max-per-ip 0 --no-access-log --listen "127.0.0.1:$F_sockit" \
	http "$WWW" 2>"$OUT/sockit-http.log" &
FPID_sockit=$!
F_nginx=$(free_port)
NG="$OUT/nginx-files"
mkdir -p "$NG/tmp"
cat >"$NG/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	default_type application/octet-stream;
	keepalive_requests 100000000;
	client_body_temp_path $NG/tmp;
	proxy_temp_path $NG/tmp;
	fastcgi_temp_path $NG/tmp;
	uwsgi_temp_path $NG/tmp;
	scgi_temp_path $NG/tmp;
	server {
		listen 127.0.0.1:$F_nginx;
		root $WWW;
	}
}
EOF
taskset -c "$SERVER_CPU" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$NG" \
	-c "$NG/nginx.conf" -e "$NG/error.log" &
FPID_nginx=$!
F_python=$(free_port)
taskset -c "$SERVER_CPU" python3 -m http.server --bind 127.0.0.1 \
	--directory "$WWW" "$F_python" >/dev/null 2>&1 &
FPID_python=$!
trap 'kill $FPID_sockit $FPID_nginx $FPID_python 2>/dev/null || true' EXIT
wait_port "$F_sockit" sockit
wait_port "$F_nginx" nginx
wait_port "$F_python" python

# ---- files: runs ----

FRES="$OUT/results-files.txt"
: >"$FRES"
for run in $(seq "$RUNS"); do
	for srv in sockit nginx python; do
		eval "port=\$F_$srv pid=\$FPID_$srv"
		d=$DUR
		[ "$srv" = python ] && d=$PY_DUR
		c0=$(cpu_of "$pid")
		w=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${d}s" \
			"http://127.0.0.1:$port/4k.bin")
		c1=$(cpu_of "$pid")
		rps=$(echo "$w" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
		reqs=$(echo "$w" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
		errs=$(echo "$w" | sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p')
		us=$(echo "$c0 $c1 $reqs" | awk '{printf "%.2f", ($2-$1)*1e6/$3}')
		echo "small $srv rps=$rps cpu_us=$us non2xx=${errs:-0}" >>"$FRES"
		# python3's copy loop is not what the big file compares.
		if [ "$srv" != python ]; then
			c0=$(cpu_of "$pid")
			b=$(/usr/bin/time -f '%U %S' -o "$OUT/curl.time" \
				taskset -c "$LOAD_CPU" curl -sS -o /dev/null \
				-w '%{speed_download} %{size_download}' \
				"http://127.0.0.1:$port/big.bin")
			c1=$(cpu_of "$pid")
			mbs=$(echo "$b" | awk '{printf "%.1f", $1/1e6}')
			size=$(echo "$b" | awk '{print $2}')
			cpg=$(echo "$c0 $c1 $size" | awk '{printf "%.3f", ($2-$1)*1e9/$3}')
			# On loopback the receiving side's TCP work runs in either
			# process's context: the client's CPU is shown beside.
			ccpg=$(echo "$(cat "$OUT/curl.time") $size" |
				awk '{printf "%.3f", ($1+$2)*1e9/$3}')
			echo "big $srv mbs=$mbs cpu_s_per_gb=$cpg curl_s_per_gb=$ccpg bytes=$size" >>"$FRES"
			# The same file by sockit's own client.
			c0=$(cpu_of "$pid")
			j=$(/usr/bin/time -f '%U %S' -o "$OUT/httpc.time" \
				taskset -c "$LOAD_CPU" "$OUT/build/sockit" http --json \
				-o /dev/null "http://127.0.0.1:$port/big.bin")
			c1=$(cpu_of "$pid")
			mbs=$(echo "$j" | python3 -c 'import json, sys
o = json.loads(sys.stdin.readline())
print("%.1f %d" % (o["body_bytes"] / o["times"]["total_s"] / 1e6, o["body_bytes"]))')
			size=${mbs#* }
			cpg=$(echo "$c0 $c1 $size" | awk '{printf "%.3f", ($2-$1)*1e9/$3}')
			ccpg=$(echo "$(cat "$OUT/httpc.time") $size" |
				awk '{printf "%.3f", ($1+$2)*1e9/$3}')
			echo "bighttp $srv mbs=${mbs% *} cpu_s_per_gb=$cpg client_s_per_gb=$ccpg bytes=$size" >>"$FRES"
		fi
		echo "files run $run $srv done" >&2
	done
done

# ---- files: table ----

echo "serve_http files: $RUNS runs; 4 KiB by wrk -t1 -c$CONNS ${DUR}s" \
	"(python ${PY_DUR}s); $FILE_MB MiB by curl and sockit http -o /dev/null;" \
	"server on" \
	"CPU $SERVER_CPU, load on CPU $LOAD_CPU; load average" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %12s %12s %10s %10s %10s %12s\n' server "4k req/s" "CPU us/req" \
	"big MB/s" "CPU s/GB" "curl s/GB" "sockit MB/s"
for srv in sockit nginx python; do
	r=$(grep "^small $srv " "$FRES" | field rps | median)
	u=$(grep "^small $srv " "$FRES" | field cpu_us | median)
	m=$(grep "^big $srv " "$FRES" | field mbs | median)
	g=$(grep "^big $srv " "$FRES" | field cpu_s_per_gb | median)
	k=$(grep "^big $srv " "$FRES" | field curl_s_per_gb | median)
	h=$(grep "^bighttp $srv " "$FRES" | field mbs | median)
	eval "R_$srv=$r U_$srv=$u M_$srv=${m:-0} G_$srv=${g:-0} K_$srv=${k:-0} H_$srv=${h:-0}"
	printf '%-8s %12s %12s %10s %10s %10s %12s\n' "$srv" "$r" "$u" "${m:--}" \
		"${g:--}" "${k:--}" "${h:--}"
done
echo "sockit/nginx: 4k req/s $(echo "$R_sockit $R_nginx" | awk '{printf "%.2f", $1/$2}')," \
	"CPU per request $(echo "$U_sockit $U_nginx" | awk '{printf "%.2f", $1/$2}')," \
	"big MB/s $(echo "$M_sockit $M_nginx" | awk '{printf "%.2f", $1/$2}')," \
	"CPU per GB $(echo "$G_sockit $G_nginx" | awk '{printf "%.2f", $1/$2}')," \
	"with curl's $(echo "$G_sockit $K_sockit $G_nginx $K_nginx" | awk '{printf "%.2f", ($1+$2)/($3+$4)}')," \
	"big MB/s by sockit http $(echo "$H_sockit $H_nginx" | awk '{printf "%.2f", $1/$2}')"
echo "sockit/python: 4k req/s $(echo "$R_sockit $R_python" | awk '{printf "%.1f", $1/$2}')"
grep -h "non2xx=[1-9]" "$FRES" && echo "serve_http: some requests failed" || true
awk -v want=$((FILE_MB << 20)) '/^big(http)? / { split($0, a, "bytes="); if (a[2] + 0 != want) bad = 1 }
	END { if (bad) print "serve_http: a big download came back short" }' "$FRES"
kill -INT "$FPID_sockit" "$FPID_nginx" "$FPID_python" 2>/dev/null || true
wait "$FPID_sockit" 2>/dev/null || true
