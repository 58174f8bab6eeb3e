#!/bin/sh
# bench/tls.sh - sockit over TLS beside nginx, socat, ncat and openssl,
# pinned to separate CPUs, medians of RUNS runs, ratios. Three sections:
#   https  `sockit serve hello --tls` and nginx (one worker, `return 200`,
#          the same certificate and cipher, session tickets on in both):
#          req/s and server CPU per request under `wrk -t1 -c50` keep-alive;
#          new connections: handshakes/s and server CPU per handshake under
#          `sockit bench --no-keepalive`, resumed (its default: each
#          connection resumes the session of the one before it) and full
#          (--no-resume)
#   bulk   SIZE_MIB (4096) of random data from the page cache to /dev/null
#          through `sockit connect --tls` -> `sockit listen --tls`, socat
#          OPENSSL, ncat --ssl, openssl s_client -> s_server: GB/s and CPU
#          seconds per GB (sender and receiver together), ratio to socat;
#          kernel TLS as `sockit connect -v` reports it
#   idle   memory per idle TLS connection at IDLE_CONNS (10000):
#          `sockit serve echo --tls` and nginx, each connection opened,
#          handshaken and used once (one echo; one HTTP request), then
#          held; the server's RSS above its baseline over the connections
#
#   sh bench/tls.sh                    everything (about 10 minutes on 2 cores)
#   QUICK=1 sh bench/tls.sh            smoke check: 1 run of 1 s, 256 MiB, 1000 idle
#   SECTIONS="https idle" sh bench/tls.sh
#
# Knobs (environment), defaults in parentheses: RUNS (5), DUR seconds per
# load (5), CONNS (50), SIZE_MIB (4096), IDLE_CONNS (10000), IDLE_RUNS (3),
# SECTIONS (https bulk idle), SERVER_CPU (0) and LOAD_CPU (1) for taskset,
# OUT work dir (/tmp/sockit-bench-tls), BENCH_DIR for the bulk file
# ($TMPDIR or /tmp), KEEP (0; 1 keeps the file), QUICK (0; 1: RUNS=1 DUR=1
# SIZE_MIB=256 IDLE_CONNS=1000 IDLE_RUNS=1 unless set). Server CPU comes from /proc/PID/stat
# (utime + stime, all threads) over each load; a bulk transfer's from
# wait4(2) of each side. Needs nginx-light, wrk, socat, ncat, openssl and
# python3 (scripts/deps.sh). See bench/README.md.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_me=tls

if [ "${QUICK:-0}" = 1 ]; then
	RUNS=${RUNS:-1} DUR=${DUR:-1} SIZE_MIB=${SIZE_MIB:-256}
	IDLE_CONNS=${IDLE_CONNS:-1000} IDLE_RUNS=${IDLE_RUNS:-1}
fi
RUNS=${RUNS:-5}
IDLE_RUNS=${IDLE_RUNS:-3}
DUR=${DUR:-5}
CONNS=${CONNS:-50}
SIZE_MIB=${SIZE_MIB:-4096}
IDLE_CONNS=${IDLE_CONNS:-10000}
SECTIONS=${SECTIONS:-"https bulk idle"}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=${OUT:-/tmp/sockit-bench-tls}

has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
say() { printf '%s\n' "$*" >&2; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "n/a" }'; }

missing=0
for t in "make make" "taskset util-linux" "python3 python3" "openssl openssl"; do
	# shellcheck disable=SC2086
	need $t || missing=1
done
if has https; then
	need wrk wrk || missing=1
	need nginx nginx-light || missing=1
fi
has bulk && { need socat socat || missing=1; need ncat ncat || missing=1; }
has idle && { need nginx nginx-light || missing=1; }
[ $missing = 0 ] || exit 1

mkdir -p "$OUT"
say "building in $OUT/build"
make -s BUILD="$OUT/build" "$OUT/build/sockit" >&2
SOCKIT=$OUT/build/sockit
CERTS=$OUT/certs
rm -rf "$CERTS"
sh tests/lib/mkcerts.sh "$CERTS"
# The leaf's pin: the generator verifies by it (cheaper than the chain,
# so that the generator is less often the limit of a handshake rate).
PIN=sha256:$(openssl x509 -in "$CERTS/server.pem" -outform DER | sha256sum | cut -d' ' -f1)
RES=$OUT/results.txt
: >"$RES"
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null || true; done' EXIT

# The fd limit for IDLE_CONNS connections on each side (and nginx's).
nofile=$((IDLE_CONNS + 512))
if has idle; then
	if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$nofile" ]; then
		ulimit -Hn "$nofile" 2>/dev/null ||
			{ say "$bench_me: need $nofile fds (ulimit -Hn); run as root or lower IDLE_CONNS"; exit 1; }
	fi
	ulimit -n "$nofile"
fi

# nginx over TLS, one worker, no master, on 127.0.0.1:PORT pinned on CPU,
# its files in DIR, answering `return 200` as bench/lib.sh's nginx_start
# does; idle keep-alive connections are kept for an hour. Sets NGINX_PID.
# WORKER_CONNECTIONS defaults to the fd limit.
#   nginx_tls_start DIR PORT CPU [WORKER_CONNECTIONS]
nginx_tls_start() {
	mkdir -p "$1/tmp"
	cat >"$1/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections ${4:-$nofile}; }
http {
	access_log off;
	default_type text/plain;
	keepalive_requests 100000000;
	keepalive_timeout 3600s;
	client_header_timeout 3600s;
	client_body_temp_path $1/tmp;
	proxy_temp_path $1/tmp;
	fastcgi_temp_path $1/tmp;
	uwsgi_temp_path $1/tmp;
	scgi_temp_path $1/tmp;
	server {
		listen 127.0.0.1:$2 ssl;
		ssl_certificate $CERTS/server.pem;
		ssl_certificate_key $CERTS/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_tickets on;
		location / { return 200 "Hello, world!\n"; }
	}
}
EOF
	taskset -c "$3" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$1" \
		-c "$1/nginx.conf" -e "$1/error.log" &
	NGINX_PID=$!
	PIDS="$PIDS $NGINX_PID"
}

# `sockit serve SERVICE --tls` with the same certificate, one worker, no
# connection limits, on 127.0.0.1:PORT pinned on CPU, stderr to LOG; sets
# SERVE_PID.
#   serve_tls_start SERVICE PORT CPU LOG [OPTION...]
serve_tls_start() {
	_svc=$1 _port=$2 _cpu=$3 _log=$4
	shift 4
	taskset -c "$_cpu" "$SOCKIT" serve "$_svc" --tls --cert "$CERTS/server.pem" \
		--key "$CERTS/server.key" --workers 1 --max-conns 0 --max-per-ip 0 \
		--listen "127.0.0.1:$_port" "$@" 2>"$_log" &
	SERVE_PID=$!
	PIDS="$PIDS $SERVE_PID"
}

stop() { # PID: SIGTERM, then wait for it
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# A field of the JSON object on stdin: json_get 'r["tls"]["resumed"]'
json_get() { python3 -c "import json, sys; r = json.load(sys.stdin); print($1)"; }

# ---- https ----

https_section() {
	PORT_sockit=$(free_port)
	serve_tls_start hello "$PORT_sockit" "$SERVER_CPU" "$OUT/serve_hello.log"
	PID_sockit=$SERVE_PID
	PORT_nginx=$(free_port)
	nginx_tls_start "$OUT/nginx" "$PORT_nginx" "$SERVER_CPU"
	PID_nginx=$NGINX_PID
	wait_port "$PORT_sockit" "sockit serve hello --tls"
	wait_port "$PORT_nginx" nginx
	for srv in sockit nginx; do
		eval "port=\$PORT_$srv"
		c=$("$SOCKIT" bench -q --json -n 1 -c 1 --pin "$PIN" \
			"https://127.0.0.1:$port/" | json_get 'r["tls"]["tls_version"] + " " + r["tls"]["tls_cipher"]')
		eval "CIPHER_$srv=\"\$c\""
	done
	[ "$CIPHER_sockit" = "$CIPHER_nginx" ] ||
		{ say "$bench_me: the servers agree on different ciphers: $CIPHER_sockit, $CIPHER_nginx"; exit 1; }
	for run in $(seq "$RUNS"); do
		for srv in sockit nginx; do
			eval "port=\$PORT_$srv pid=\$PID_$srv"
			url="https://127.0.0.1:$port/"
			c0=$(cpu_of "$pid")
			w=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${DUR}s" "$url")
			c1=$(cpu_of "$pid")
			rps=$(echo "$w" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
			reqs=$(echo "$w" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
			errs=$(echo "$w" | sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p')
			us=$(echo "$c0 $c1 $reqs" | awk '{ printf "%.2f", ($2 - $1) * 1e6 / $3 }')
			echo "wrk $srv rps=$rps cpu_us=$us non2xx=${errs:-0}" >>"$RES"
			for kind in resumed full; do
				extra=""
				[ "$kind" = full ] && extra=--no-resume
				c0=$(cpu_of "$pid")
				# shellcheck disable=SC2086
				j=$(taskset -c "$LOAD_CPU" "$SOCKIT" bench -q --json -t 1 \
					-c "$CONNS" -d "$DUR" --no-keepalive --pin "$PIN" $extra "$url" || true)
				c1=$(cpu_of "$pid")
				echo "$j" >"$OUT/bench_${srv}_${kind}_$run.json"
				set -- $(echo "$j" | json_get '"%s %d %d %d %d %.3f" % (r["requests_per_s"], r["requests"], r["errors"], r["tls"]["resumed"], r["tls"]["handshakes"], r["cpu"]["share"])')
				# Server CPU over the whole run (its connections' setup
				# too: CONNS handshakes more) per counted handshake.
				us=$(echo "$c0 $c1 $2" | awk '{ printf "%.2f", ($2 - $1) * 1e6 / $3 }')
				echo "hs_$kind $srv rps=$1 cpu_us=$us errors=$3 resumed=$4 handshakes=$5 gen=$6" >>"$RES"
			done
			say "https run $run $srv done"
		done
	done
	stop "$PID_sockit"
	stop "$PID_nginx"
	echo
	echo "https: $RUNS runs of ${DUR} s, $CONNS connections, $CIPHER_sockit on both;" \
		"servers on CPU $SERVER_CPU, load on CPU $LOAD_CPU; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%-34s %-7s %12s %14s %10s %6s\n' load server "req/s" "CPU us/op" resumed gen
	for load in wrk hs_resumed hs_full; do
		case $load in
		wrk) what="wrk -t1 -c$CONNS keep-alive" ;;
		hs_resumed) what="bench --no-keepalive (resumed)" ;;
		hs_full) what="bench --no-keepalive --no-resume" ;;
		esac
		for srv in sockit nginx; do
			r=$(grep "^$load $srv " "$RES" | field rps | median)
			u=$(grep "^$load $srv " "$RES" | field cpu_us | median)
			res=- gen=-
			if [ "$load" != wrk ]; then
				res=$(grep "^$load $srv " "$RES" | sed 's/.* resumed=\([0-9]*\) handshakes=\([0-9]*\).*/\1 \2/' |
					awk '{ if ($2 > 0) printf "%.3f\n", $1 / $2 }' | median)
				gen=$(grep "^$load $srv " "$RES" | field gen | median)
			fi
			eval "R_$srv=$r U_$srv=$u"
			printf '%-34s %-7s %12s %14s %10s %6s\n' "$what" "$srv" "$r" "$u" "$res" "$gen"
		done
		echo "  sockit/nginx: req/s $(ratio "$R_sockit" "$R_nginx")x," \
			"CPU per op $(ratio "$U_sockit" "$U_nginx")x (target: >= 1.00 and <= 1.00)"
	done
	grep -h "non2xx=[1-9]\|errors=[1-9]" "$RES" && say "$bench_me: some requests failed" || true
	echo "  (resumed: share of the counted handshakes that resumed; gen: the generator's CPU share, 1.00 = its CPU is the limit)"
}

# ---- bulk ----

# Run CMD... and write its CPU seconds (user + system, as wait4 reports
# them) to FILE, and when it started (ns since the epoch) to FILE.t0.
#   cpu_run FILE CMD...
cpu_run() {
	python3 -c '
import os, sys, time
t0 = time.time_ns()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%.3f\n" % (ru.ru_utime + ru.ru_stime))
with open(sys.argv[1] + ".t0", "w") as f:
    f.write("%d\n" % t0)
sys.exit(os.waitstatus_to_exitcode(status))' "$@"
}

# The port a receiver printed (sed script on its stderr), or exit.
port_from() {
	_i=0
	while [ $_i -lt 200 ]; do
		_p=$(sed -n "$2" "$1" | head -1)
		[ -n "$_p" ] && { echo "$_p"; return 0; }
		_i=$((_i + 1))
		sleep 0.025
	done
	say "$bench_me: no port from: $(cat "$1")"
	exit 1
}

# One transfer of FILE with TOOL; prints "ns cpu_tx cpu_rx rx_status".
bulk_one() {
	_t=$1 _f=$2 _d=$OUT/bulk
	: >"$_d/rx.err"
	case $_t in
	sockit)
		cpu_run "$_d/rx.cpu" taskset -c "$SERVER_CPU" "$SOCKIT" listen --tls \
			--cert "$CERTS/server.pem" --key "$CERTS/server.key" 0 \
			</dev/null >/dev/null 2>"$_d/rx.err" &
		_r=$!
		_p=$(port_from "$_d/rx.err" 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p')
		cpu_run "$_d/tx.cpu" taskset -c "$LOAD_CPU" "$SOCKIT" connect --tls \
			--ca "$CERTS/ca.pem" localhost "$_p" <"$_f"
		;;
	socat)
		cpu_run "$_d/rx.cpu" taskset -c "$SERVER_CPU" socat -d -d -u \
			"OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert=$CERTS/server.pem,key=$CERTS/server.key,verify=0" \
			STDOUT </dev/null >/dev/null 2>"$_d/rx.err" &
		_r=$!
		_p=$(port_from "$_d/rx.err" 's/.*listening on AF=2 127\.0\.0\.1:\([0-9]*\)$/\1/p')
		cpu_run "$_d/tx.cpu" taskset -c "$LOAD_CPU" socat -u STDIN \
			"OPENSSL:127.0.0.1:$_p,cafile=$CERTS/ca.pem,commonname=localhost" <"$_f"
		;;
	ncat)
		# ncat says no port it was given 0 for: the kernel's pick, then
		# ncat's own bind (a short race, as bench/lib.sh's free_port).
		_p=$(free_port)
		cpu_run "$_d/rx.cpu" taskset -c "$SERVER_CPU" ncat --ssl \
			--ssl-cert "$CERTS/server.pem" --ssl-key "$CERTS/server.key" \
			-l 127.0.0.1 "$_p" --recv-only </dev/null >/dev/null 2>"$_d/rx.err" &
		_r=$!
		wait_port_quiet "$_p"
		cpu_run "$_d/tx.cpu" taskset -c "$LOAD_CPU" ncat --ssl --ssl-verify \
			--ssl-trustfile "$CERTS/ca.pem" --send-only localhost "$_p" <"$_f"
		;;
	openssl)
		# s_server sends what its stdin gives and ends the connection at
		# its end: a fifo held open keeps it. s_client's -nocommands: a
		# line of the data that starts with Q, R or K is no command.
		_p=$(free_port)
		rm -f "$_d/hold"
		mkfifo "$_d/hold"
		sleep 100000 >"$_d/hold" &
		_h=$!
		cpu_run "$_d/rx.cpu" taskset -c "$SERVER_CPU" openssl s_server -quiet \
			-naccept 1 -accept "127.0.0.1:$_p" -cert "$CERTS/server.pem" \
			-key "$CERTS/server.key" <"$_d/hold" >/dev/null 2>"$_d/rx.err" &
		_r=$!
		wait_port_quiet "$_p"
		cpu_run "$_d/tx.cpu" taskset -c "$LOAD_CPU" openssl s_client -quiet \
			-nocommands -no_ign_eof -connect "127.0.0.1:$_p" -servername localhost \
			-CAfile "$CERTS/ca.pem" -verify_return_error <"$_f" >/dev/null 2>>"$_d/tx.err"
		;;
	esac
	# A receiver that fails has most often seen the sender's close
	# without close_notify: the transfer may have been cut short.
	if wait "$_r"; then _rc=0; else _rc=$?; fi
	_t1=$(date +%s%N)
	[ "$_t" = openssl ] && stop "$_h"
	[ "$_rc" = 0 ] || tail -1 "$_d/rx.err" >"$OUT/bulk_$_t.failed"
	echo "$((_t1 - $(cat "$_d/tx.cpu.t0"))) $(cat "$_d/tx.cpu") $(cat "$_d/rx.cpu") $_rc"
}

# wait_port without its connection: s_server and ncat take the first
# connection that comes, so only the listening socket is looked for.
wait_port_quiet() {
	_i=0
	_hex=$(printf '%04X' "$1")
	until grep -q "^ *[0-9]*: 0100007F:$_hex 00000000:0000 0A" /proc/net/tcp; do
		_i=$((_i + 1))
		[ $_i -gt 200 ] && { say "$bench_me: nothing listens on 127.0.0.1:$1"; exit 1; }
		sleep 0.025
	done
}

bulk_section() {
	mkdir -p "$OUT/bulk"
	rm -f "$OUT"/bulk_*.failed
	dir=${BENCH_DIR:-${TMPDIR:-/tmp}}
	file=$dir/sockit-bench-tls.bin
	bytes=$((SIZE_MIB * 1048576))
	kib_free=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
	kib_mem=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	if [ $((SIZE_MIB * 1024 * 11 / 10)) -gt "$kib_free" ] ||
		[ $((SIZE_MIB * 1024 * 3 / 2)) -gt "$kib_mem" ]; then
		say "$bench_me: $SIZE_MIB MiB does not fit $dir or the page cache: lower SIZE_MIB"
		exit 1
	fi
	if [ ! -f "$file" ] || [ "$(stat -c %s "$file")" != "$bytes" ]; then
		say "writing $SIZE_MIB MiB of random data to $file ..."
		head -c "$bytes" /dev/urandom >"$file"
	fi
	sync "$file"
	cat "$file" >/dev/null
	# Kernel TLS, as the sender sees it.
	p=$(free_port)
	"$SOCKIT" listen --tls --cert "$CERTS/server.pem" --key "$CERTS/server.key" \
		"127.0.0.1:$p" </dev/null >/dev/null 2>/dev/null &
	lp=$!
	wait_port_quiet "$p"
	ktls=$(echo x | "$SOCKIT" connect -v --tls --ca "$CERTS/ca.pem" localhost "$p" 2>&1 >/dev/null |
		sed -n 's/.*kernel tls \(tx [a-z]* rx [a-z]*\).*/\1/p')
	wait "$lp" 2>/dev/null || true
	for run in $(seq "$RUNS"); do
		for t in sockit socat ncat openssl; do
			set -- $(bulk_one "$t" "$file")
			echo "bulk $t ns=$1 tx=$2 rx=$3 rx_status=$4" >>"$RES"
			awk -v b="$bytes" -v ns="$1" -v t="$t" -v r="$run" -v c="$2 $3" \
				'BEGIN { split(c, x, " "); printf "bulk run %d %-8s %6.2f GB/s, %.2f CPU s/GB\n", r, t, b / ns, (x[1] + x[2]) / (b / 1e9) }' >&2
		done
	done
	[ "${KEEP:-0}" = 1 ] || rm -f "$file"
	echo
	echo "bulk: $SIZE_MIB MiB over loopback TLS (page cache to /dev/null), receiver on CPU" \
		"$SERVER_CPU, sender on CPU $LOAD_CPU, median of $RUNS; sockit's kernel TLS: ${ktls:-unknown}"
	printf '%-9s %10s %12s %12s %12s %9s %7s\n' tool "GB/s" "CPU s/GB" "tx s/GB" "rx s/GB" "vs socat" "rx ok"
	sgb=$(grep "^bulk socat " "$RES" | field ns | median | awk -v b="$bytes" '{ print b / $1 }')
	for t in sockit socat ncat openssl; do
		gb=$(grep "^bulk $t " "$RES" | field ns | median | awk -v b="$bytes" '{ print b / $1 }')
		tx=$(grep "^bulk $t " "$RES" | field tx | median | awk -v b="$bytes" '{ printf "%.3f", $1 / (b / 1e9) }')
		rx=$(grep "^bulk $t " "$RES" | field rx | median | awk -v b="$bytes" '{ printf "%.3f", $1 / (b / 1e9) }')
		ok=$(grep -c "^bulk $t .* rx_status=0$" "$RES" || true)
		printf '%-9s %10.2f %12s %12s %12s %8sx %7s\n' "$t" "$gb" \
			"$(echo "$tx $rx" | awk '{ printf "%.3f", $1 + $2 }')" "$tx" "$rx" \
			"$(ratio "$gb" "$sgb")" "$ok/$RUNS"
	done
	for t in sockit socat ncat openssl; do
		[ -f "$OUT/bulk_$t.failed" ] &&
			echo "  $t: its receiver failed in $((RUNS - $(grep -c "^bulk $t .* rx_status=0$" "$RES" || true))) of $RUNS runs (the transfer may be cut short): $(cat "$OUT/bulk_$t.failed")"
	done
	rm -f "$OUT"/bulk_*.failed
	echo "  (target: sockit >= 2x socat; CPU s/GB: the sender's and the receiver's CPU time over the GB moved)"
}

# ---- idle ----

# The client: IDLE_CONNS TLS connections (64 opening at a time), each used
# once (echo: a line there and back; http: one request and its answer),
# then held; "ready" on stdout once all are, and at the end of its stdin
# it closes them and exits.
cat >"$OUT/idle_client.py" <<'EOF'
import asyncio, ssl, sys

port, n, kind, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)


async def one(gate):
    async with gate:
        r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                             server_hostname="localhost")
        if kind == "echo":
            w.write(b"hi\n")
            assert await r.readexactly(3) == b"hi\n"
        else:
            w.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head = await r.readuntil(b"\r\n\r\n")
            length = [l for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length:")]
            await r.readexactly(int(length[0].split(b":")[1]))
        return w


async def main():
    gate = asyncio.Semaphore(64)
    conns = await asyncio.gather(*[one(gate) for _ in range(n)])
    print("ready", len(conns), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for w in conns:
        w.close()

asyncio.run(main())
EOF

rss_of() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

# One server (sockit or nginx) with IDLE_CONNS idle connections; appends
# "idle SERVER base=KiB held=KiB per=BYTES" to RES.
idle_one() {
	_srv=$1
	_port=$(free_port)
	if [ "$_srv" = sockit ]; then
		serve_tls_start echo "$_port" "$SERVER_CPU" "$OUT/serve_echo.log" --idle-timeout 0
		_pid=$SERVE_PID
		_kind=echo
	else
		nginx_tls_start "$OUT/nginx_idle" "$_port" "$SERVER_CPU"
		_pid=$NGINX_PID
		_kind=http
	fi
	wait_port "$_port" "$_srv"
	sleep 0.5
	_base=$(rss_of "$_pid")
	rm -f "$OUT/ctl"
	mkfifo "$OUT/ctl"
	taskset -c "$LOAD_CPU" python3 "$OUT/idle_client.py" "$_port" "$IDLE_CONNS" "$_kind" \
		"$CERTS/ca.pem" <"$OUT/ctl" >"$OUT/idle_client.log" 2>&1 &
	_c=$!
	exec 3>"$OUT/ctl"
	rm -f "$OUT/ctl"
	_i=0
	until grep -q ready "$OUT/idle_client.log"; do
		kill -0 "$_c" 2>/dev/null || { say "$bench_me: idle client failed: $(tail -3 "$OUT/idle_client.log")"; exit 1; }
		_i=$((_i + 1))
		[ $_i -gt 3000 ] && { say "$bench_me: $IDLE_CONNS connections to $_srv never ready"; exit 1; }
		sleep 0.1
	done
	sleep 1
	_held=$(rss_of "$_pid")
	exec 3>&-
	wait "$_c" || true
	stop "$_pid"
	echo "idle $_srv base=$_base held=$_held per=$(((_held - _base) * 1024 / IDLE_CONNS))" >>"$RES"
	say "idle $_srv: $_base KiB, then $_held KiB with $IDLE_CONNS connections"
}

# nginx allocates its connection slots (ngx_connection_t and two events
# each) at start for worker_connections, so they sit in its baseline and
# not in "per": the bytes a slot costs, from the baselines of an nginx
# with worker_connections at the fd limit and one with 1024. Appends
# "slot nginx bytes=N" to RES.
nginx_slot() {
	_port=$(free_port)
	nginx_tls_start "$OUT/nginx_slot" "$_port" "$SERVER_CPU" 1024
	wait_port "$_port" nginx
	sleep 0.5
	_small=$(rss_of "$NGINX_PID")
	stop "$NGINX_PID"
	_port=$(free_port)
	nginx_tls_start "$OUT/nginx_slot" "$_port" "$SERVER_CPU"
	wait_port "$_port" nginx
	sleep 0.5
	_big=$(rss_of "$NGINX_PID")
	stop "$NGINX_PID"
	echo "slot nginx bytes=$(((_big - _small) * 1024 / (nofile - 1024)))" >>"$RES"
}

idle_section() {
	for run in $(seq "$IDLE_RUNS"); do
		idle_one sockit
		idle_one nginx
		nginx_slot
	done
	echo
	echo "idle: $IDLE_CONNS TLS connections each handshaken and used once, then held;" \
		"server RSS above its baseline, median of $IDLE_RUNS"
	printf '%-8s %14s %14s %16s\n' server "baseline KiB" "held KiB" "bytes per conn"
	for srv in sockit nginx; do
		b=$(grep "^idle $srv " "$RES" | field base | median)
		h=$(grep "^idle $srv " "$RES" | field held | median)
		p=$(grep "^idle $srv " "$RES" | field per | median)
		eval "P_$srv=$p"
		printf '%-8s %14s %14s %16s\n' "$srv" "$b" "$h" "$p"
	done
	slot=$(grep "^slot nginx " "$RES" | field bytes | median)
	echo "  sockit/nginx: memory per connection $(ratio "$P_sockit" "$P_nginx")x (target: <= 1.00)"
	echo "  nginx's connection slot, allocated at start for each of its worker_connections: $slot bytes;"
	echo "  with it counted: nginx $((P_nginx + slot)) bytes, sockit/nginx $(ratio "$P_sockit" $((P_nginx + slot)))x"
}

has https && https_section
has bulk && bulk_section
has idle && idle_section
echo
echo "raw figures: $RES"
