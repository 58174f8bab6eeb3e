#!/bin/sh
# scripts/demo.sh BUILD - a short tour on loopback: start a server, talk to
# it from C and from the tutorials' Python, show what happened, stop.
set -eu
build=${1:-build}
ex=$build/examples
log=$(mktemp)
trap 'kill $srv 2>/dev/null || true; rm -f "$log"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "the tutorials' upper-casing server (examples/upper_server.c) on 127.0.0.1, port chosen by the kernel"
timeout 20 "$ex/upper_server" 127.0.0.1 0 --count 2 >"$log" 2>&1 &
srv=$!
port=""
for _ in $(seq 50); do
	port=$(sed -n 's/.*listening on port \([0-9][0-9]*\).*/\1/p' "$log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$log"; echo "demo: server did not start"; exit 1; }
cat "$log"

step "a C client (examples/echo_client.c): connect with Happy Eyeballs, send-all, read-exact"
timeout 10 "$ex/echo_client" 127.0.0.1 "$port" "hello from libsockit"

step "the tutorial's Python client against the C server"
timeout 10 python3 - "$port" <<'PY'
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b'hello there')
    print(str(s.recv(4096), 'utf-8'))
PY

step "what the server saw (it stops by itself after two clients)"
wait $srv || true
cat "$log"

step "a port check (examples/port_check.c): the server is gone, so its port is closed"
timeout 10 "$ex/port_check" 127.0.0.1 "$port" || true

step "the sockit command: an echo service (sockit serve), a client (sockit connect), a load test (sockit bench)"
slog=$(mktemp)
timeout 20 "$build/sockit" serve echo -v --listen 127.0.0.1:0 2>"$slog" &
svc=$!
sport=""
for _ in $(seq 50); do
	sport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$slog")
	[ -n "$sport" ] && break
	sleep 0.1
done
[ -n "$sport" ] || { cat "$slog"; echo "demo: sockit serve did not start"; exit 1; }
printf 'hello through sockit\n' | timeout 10 "$build/sockit" connect -w 3 127.0.0.1 "$sport"
echo "-- 20000 echoes from 4 connections, every byte checked:"
timeout 30 "$build/sockit" bench -q -n 20000 -c 4 127.0.0.1 "$sport"
kill -TERM $svc
wait $svc || true
echo "-- what the service logged (it stops on SIGTERM with a summary):"
cat "$slog"
rm -f "$slog"

step "the sockit command: resolve, service"
"$build/sockit" resolve -4 localhost
"$build/sockit" service http
"$build/sockit" service -u 53

printf '\ndemo: done. Next: make test; man docs/sockit.1; examples/ and docs/api.md.\n'
