# shellcheck shell=sh disable=SC2034
# bench/lib.sh - helpers the bench scripts share. POSIX sh: source it from
# the repository root (`. bench/lib.sh`) after `set -eu`. Messages name the
# script that sourced it.

bench_me=${0##*/}

# A TCP port free on 127.0.0.1 right now (the kernel's pick).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait up to 5 s for something to accept on 127.0.0.1:PORT; exit 1 if not.
wait_port() {
	_i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && { echo "$bench_me: nothing listens on 127.0.0.1:$1${2:+ ($2)}" >&2; exit 1; }
		sleep 0.1
	done
}

# CPU seconds (utime + stime, every thread) of process PID so far, from
# /proc/PID/stat. The name in parentheses may hold spaces: cut after the
# last ')', then utime and stime are fields 12 and 13. Resolution: one
# clock tick (1/CLK_TCK, usually 10 ms).
cpu_of() {
	sed 's/^.*) //' "/proc/$1/stat" |
		awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($12 + $13) / hz }'
}

# The median of the numbers on stdin, one a line (of an even count, the
# lower of the two middle ones: always a measured value).
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# NAME=VALUE out of "k=v k=v" lines on stdin.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p"; }

# Fail with the Debian package to install when a tool is missing:
#   need TOOL PACKAGE
need() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || {
		echo "$bench_me: $1 is missing: apt-get install $2 (or sh scripts/deps.sh)" >&2
		return 1
	}
}

# ---- Servers ----

# nginx with one worker, no master, answering `return 200` on
# 127.0.0.1:PORT, pinned on CPU, its files in DIR; sets NGINX_PID.
#   nginx_start DIR PORT CPU
nginx_start() {
	mkdir -p "$1/tmp"
	cat >"$1/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	default_type text/plain;
	keepalive_requests 100000000;
	client_body_temp_path $1/tmp;
	proxy_temp_path $1/tmp;
	fastcgi_temp_path $1/tmp;
	uwsgi_temp_path $1/tmp;
	scgi_temp_path $1/tmp;
	server {
		listen 127.0.0.1:$2;
		location / { return 200 "Hello, world!\n"; }
	}
}
EOF
	taskset -c "$3" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$1" \
		-c "$1/nginx.conf" -e "$1/error.log" &
	NGINX_PID=$!
}

# `sockit serve hello` with one worker and no connection limits on
# 127.0.0.1:PORT, pinned on CPU, stderr to LOG; sets HELLO_PID.
#   hello_start SOCKIT PORT CPU LOG
hello_start() {
	taskset -c "$3" "$1" serve hello --workers 1 --max-conns 0 --max-per-ip 0 \
		--listen "127.0.0.1:$2" 2>"$4" &
	HELLO_PID=$!
}

# ---- bench/echo ----

# The echo servers and echo_load into DIR (cc -O2; libuv and libevent
# through pkg-config), sockit_echo against the static library LIBA.
#   echo_build DIR LIBA
echo_build() {
	_b=bench/echo
	_cc=${CC:-cc}
	$_cc -O2 -o "$1/epoll_echo" $_b/epoll_echo.c
	$_cc -O2 -o "$1/echo_load" $_b/echo_load.c
	$_cc -O2 -Iinclude -o "$1/sockit_echo" $_b/sockit_echo.c "$2" -lpthread
	# shellcheck disable=SC2046
	$_cc -O2 -o "$1/uv_echo" $_b/uv_echo.c $(pkg-config --cflags --libs libuv)
	# shellcheck disable=SC2046
	$_cc -O2 -o "$1/ev_echo" $_b/ev_echo.c $(pkg-config --cflags --libs libevent)
}

# Start echo server NAME (epoll sockit uv ev asyncio, or serve: `sockit
# serve echo`, built as DIR/sockit) built in DIR on
# 127.0.0.1:PORT pinned on CPU, and wait until it accepts; sets SPID.
#   echo_start NAME PORT CPU DIR
echo_start() {
	case $1 in
	asyncio) taskset -c "$3" python3 bench/echo/asyncio_echo.py "$2" & ;;
	# The command itself, with its default idle timeout and no caps on
	# connections (1000 come from one address).
	serve) taskset -c "$3" "$4/sockit" serve echo --workers 1 --max-conns 0 \
		--max-per-ip 0 --listen "127.0.0.1:$2" 2>/dev/null & ;;
	*) taskset -c "$3" "$4/${1}_echo" "$2" & ;;
	esac
	SPID=$!
	wait_port "$2" "$1"
}
