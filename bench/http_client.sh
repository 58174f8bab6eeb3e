#!/bin/sh
# bench/http_client.sh - `sockit http -o /dev/null` against `curl -o
# /dev/null`, fetching one large file from the same nginx (one worker,
# sendfile on, access log off) on loopback: throughput and the client's
# CPU time (user + sys, from wait4's rusage), medians of RUNS runs, and
# the ratios sockit/curl. Each run visits both clients in turn, so a
# disturbance of the machine falls on both alike.
#
#   sh bench/http_client.sh                 1 GiB, 3 runs
#   SIZE=256M RUNS=5 sh bench/http_client.sh
#
# Knobs (environment): SIZE (1G, for truncate), RUNS (3), OUT work dir
# (/tmp/sockit-bench-httpc), SERVER_CPU (0) and CLIENT_CPU (1) for
# taskset. The file is sparse: nginx sends it from the page cache, so the
# run measures the clients, not a disk. Needs nginx (nginx-light) and curl.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE=${SIZE:-1G}
RUNS=${RUNS:-3}
OUT=${OUT:-/tmp/sockit-bench-httpc}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

need nginx nginx-light
need curl curl
need taskset util-linux
need python3 python3
mkdir -p "$OUT/www" "$OUT/nginx/tmp"
echo "building in $OUT/build" >&2
make -s BUILD="$OUT/build" "$OUT/build/sockit" >&2
rm -f "$OUT/www/big"
truncate -s "$SIZE" "$OUT/www/big"
BYTES=$(stat -c %s "$OUT/www/big")

PORT=$(free_port)
d=$OUT/nginx
cat >"$d/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
	server {
		listen 127.0.0.1:$PORT;
		root $OUT/www;
	}
}
EOC
taskset -c "$SERVER_CPU" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$d" \
	-c "$d/nginx.conf" -e "$d/error.log" &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null || true' EXIT
wait_port "$PORT" nginx
URL="http://127.0.0.1:$PORT/big"

# One fetch pinned on CLIENT_CPU: "secs=S cpu=C" (wall, user+sys of the
# client), or exit 1 when it failed.
fetch() {
	python3 - "$CLIENT_CPU" "$@" <<'EOP'
import os, resource, subprocess, sys, time
cpu, cmd = sys.argv[1], sys.argv[2:]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
rc = subprocess.call(["taskset", "-c", cpu] + cmd)
t = time.monotonic() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
if rc != 0:
    sys.exit("fetch failed: %s" % cmd)
c = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print("secs=%.4f cpu=%.4f" % (t, c))
EOP
}

: >"$OUT/sockit.runs"
: >"$OUT/curl.runs"
i=0
while [ $i -lt "$RUNS" ]; do
	fetch "$OUT/build/sockit" http -o /dev/null "$URL" >>"$OUT/sockit.runs"
	fetch curl -s -o /dev/null "$URL" >>"$OUT/curl.runs"
	i=$((i + 1))
done

report() { # NAME: "NAME  MB/s  cpu_s"
	s=$(field secs <"$OUT/$1.runs" | median)
	c=$(field cpu <"$OUT/$1.runs" | median)
	echo "$1 $s $c" | awk -v b="$BYTES" '{ printf "%-7s %9.0f MB/s  client CPU %.3f s\n", $1, b / $2 / 1e6, $3 }'
}
echo "fetching $BYTES bytes from nginx on 127.0.0.1, medians of $RUNS runs"
report sockit
report curl
ss=$(field secs <"$OUT/sockit.runs" | median)
cs=$(field secs <"$OUT/curl.runs" | median)
sc=$(field cpu <"$OUT/sockit.runs" | median)
cc=$(field cpu <"$OUT/curl.runs" | median)
echo "$ss $cs $sc $cc" | awk '{ printf "sockit/curl: throughput %.2fx, client CPU %.2fx\n", $2 / $1, ($4 > 0 ? $3 / $4 : 0) }'
