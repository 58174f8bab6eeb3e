#!/bin/sh
# scripts/deps.sh - install the Debian packages that building and testing
# sockit need, when they are missing. As root it runs apt-get; otherwise it
# prints the command to run and fails.
set -eu

# build: compiler, make, pkg-config, libxxhash-dev (send/recv's XXH3); tests: Criterion, python3 peers,
# network namespaces and packet filters for fault tests; netcat, socat, curl,
# ncat and nmap as interop peers and benchmark references (ndiff reads
# scan -oX beside nmap's XML; masscan is a scan benchmark's peer); hardening:
# clang with libFuzzer's runtime (libclang-rt-14-dev holds
# libclang_rt.fuzzer) for `make fuzz`, valgrind for `make valgrind`;
# bench: libuv1-dev and libevent-dev for bench/echo, wrk, apache2-utils
# (ab) and nginx-light (its ssl module too) for the HTTP and HTTPS
# comparisons, iperf3 for bench/xfer.sh, socat and ncat beside openssl for bench/tls.sh's bulk TLS,
# libhttp-parser-dev as the reference of bench/parse, gnuplot-nox for
# plots of `sockit bench` results; format: clang-format for `make
# format` and its check; package: dpkg-dev, debhelper, fakeroot and
# lintian for `make deb`, bash-completion for the completion's test;
# wget (a recursive mirror) and chromium (headless: a real browser loads
# serve http's listing and files) as serve http's peers; microsocks (a
# small SOCKS5 server) beside serve socks5 in bench/socks5.sh; haproxy
# (TCP mode, one thread) beside socat for bench/relay.sh.
pkgs="gcc make pkg-config libc6-dev libssl-dev libxxhash-dev openssl libcriterion-dev python3 iproute2 iptables util-linux netcat-openbsd socat ncat nmap ndiff masscan curl libuv1-dev libevent-dev clang libclang-rt-14-dev valgrind wrk apache2-utils nginx-light iperf3 libhttp-parser-dev gnuplot-nox clang-format dpkg-dev debhelper fakeroot lintian bash-completion wget chromium microsocks haproxy"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all present"
	exit 0
fi

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing"
	echo "deps: run as root: apt-get update && $cmd"
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
