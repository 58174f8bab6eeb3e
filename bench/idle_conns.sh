#!/bin/sh
# bench/idle_conns.sh - what an idle connection costs `sockit serve`: a
# client in another process opens CONNS connections to `serve echo` and
# holds them; the server's resident memory (VmRSS) above its baseline,
# divided by CONNS, is the cost per connection. Measured twice: right
# after the connections are accepted, and again after each has sent one
# line and read its echo (so every read and write path has been used).
# Target: at most 2 KiB per connection. The kernel's own socket memory is
# not in RSS and not counted.
#
#   sh bench/idle_conns.sh          10000 connections
#   CONNS=20000 sh bench/idle_conns.sh
#
# Raises RLIMIT_NOFILE (the hard limit too, as root) to fit CONNS fds on
# each side.
set -eu
cd "$(dirname "$0")/.."
CONNS=${CONNS:-10000}
OUT=${OUT:-/tmp/sockit-bench-idle}
mkdir -p "$OUT"
make -s BUILD="$OUT/build" "$OUT/build/sockit" >&2

need=$((CONNS + 256))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
	ulimit -Hn "$need" 2>/dev/null ||
		{ echo "idle_conns: need $need fds (ulimit -Hn); run as root" >&2; exit 1; }
fi
ulimit -n "$need"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG="$OUT/serve.log"
"$OUT/build/sockit" serve echo --workers 1 --max-conns 0 --max-per-ip 0 \
	--idle-timeout 0 --listen "127.0.0.1:$port" 2>"$LOG" &
SPID=$!
trap 'kill $SPID 2>/dev/null || true; [ -n "${CPID:-}" ] && kill $CPID 2>/dev/null || true' EXIT
until grep -q listening "$LOG"; do sleep 0.05; done

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$SPID/status"; }
# Wait until the server reports n connections open (SIGUSR1 stats line).
wait_open() {
	i=0
	while :; do
		kill -USR1 "$SPID"
		sleep 0.2
		tail -1 "$LOG" | grep -q "stats: $1 open" && return 0
		i=$((i + 1))
		[ $i -gt 150 ] && { echo "idle_conns: server never had $1 open" >&2; tail -3 "$LOG" >&2; exit 1; }
	done
}

sleep 0.3
base=$(rss)

# The client: CONNS connections, held; on "echo" on its stdin each sends a
# line and reads it back; at the end of its input it exits.
cat >"$OUT/client.py" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = [socket.create_connection(("127.0.0.1", port), 10) for _ in range(n)]
print("connected", n, flush=True)
for cmd in sys.stdin:
    if cmd.strip() == "echo":
        for s in conns:
            s.sendall(b"hi\n")
        for s in conns:
            assert s.recv(3) == b"hi\n"
        print("echoed", flush=True)
EOF
rm -f "$OUT/ctl"
mkfifo "$OUT/ctl"
python3 "$OUT/client.py" "$port" "$CONNS" <"$OUT/ctl" >"$OUT/client.log" 2>&1 &
CPID=$!
exec 3>"$OUT/ctl"
rm -f "$OUT/ctl"

wait_open "$CONNS"
sleep 0.5
idle=$(rss)
echo echo >&3
until grep -q echoed "$OUT/client.log"; do sleep 0.1; done
sleep 0.5
used=$(rss)
exec 3>&-
wait "$CPID" || true
CPID=
echo "idle_conns: $CONNS connections to serve echo (1 worker)"
echo "  baseline RSS         $base KiB"
echo "  accepted, idle       $idle KiB: $(( (idle - base) * 1024 / CONNS )) bytes per connection"
echo "  after one echo each  $used KiB: $(( (used - base) * 1024 / CONNS )) bytes per connection"
kill -TERM "$SPID"
wait "$SPID" || true
tail -1 "$LOG"
