#!/bin/sh
# tests/build/deb.sh BUILD - the Debian packages of `make deb`
# (BUILD/deb/*.deb), unpacked with dpkg -x into a throwaway root, hold what
# they promise (the command, its man page and bash completion, the shared
# library, the headers, sockit.pc), and a three-line program builds against
# that root with `pkg-config --cflags --libs sockit` and runs on its
# libsockit.so.0. Skipped, saying so, when no package was built, unless
# DEB_TEST=1 (CI, after make deb).
set -eu
build=${1:-build}
debs=$(ls "$build"/deb/sockit_*.deb "$build"/deb/libsockit0_*.deb \
	"$build"/deb/libsockit-dev_*.deb 2>/dev/null || true)
if [ -z "$debs" ]; then
	if [ "${DEB_TEST:-0}" = 1 ]; then
		echo "deb: no packages in $build/deb (make deb)"
		exit 1
	fi
	echo "deb: no packages in $build/deb (make deb builds them); not checked"
	exit 77
fi
[ "$(echo "$debs" | wc -w)" -eq 3 ] || { echo "deb: want 3 packages, have:" $debs; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
for d in $debs; do
	dpkg -x "$d" "$root"
done

fail=0
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
lib="$root/usr/lib/$multiarch"
for f in usr/bin/sockit usr/share/man/man1/sockit.1.gz \
	usr/share/bash-completion/completions/sockit \
	usr/include/sockit/sockit.h usr/include/sockit/export.h \
	"usr/lib/$multiarch/libsockit.so.0" "usr/lib/$multiarch/libsockit.so" \
	"usr/lib/$multiarch/libsockit.a" "usr/lib/$multiarch/pkgconfig/sockit.pc"; do
	if [ ! -e "$root/$f" ]; then
		echo "deb: /$f is in no package"
		fail=1
	fi
done
version=$(sed -n 's/^#define SKT_VERSION_STRING "\(.*\)"/\1/p' include/sockit/core.h)
for d in $debs; do
	v=$(dpkg-deb -f "$d" Version)
	[ "$v" = "$version" ] || { echo "deb: $d is version $v, the library $version"; fail=1; }
done
dep=$(dpkg-deb -f "$build"/deb/libsockit-dev_*.deb Depends)
case $dep in
*"libsockit0 (= $version)"*) ;;
*) echo "deb: libsockit-dev depends on '$dep', not libsockit0 (= $version)"; fail=1 ;;
esac
[ "$fail" -eq 0 ] || exit 1

cat >"$tmp/hello.c" <<'C'
#include <sockit/sockit.h>
#include <stdio.h>
int main(void) { return printf("%s %s\n", skt_version(), skt_strerror(SKT_ETIMEDOUT)) < 0; }
C
# The package's sockit.pc first; the system's (libssl.pc, which sockit.pc
# requires for static links) after it.
sys_pc=$(pkg-config --variable pc_path pkg-config)
flags=$(PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR="$lib/pkgconfig:$sys_pc" \
	pkg-config --cflags --libs sockit)
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Werror -o "$tmp/hello" "$tmp/hello.c" $flags
if ! readelf -d "$tmp/hello" | grep -q 'NEEDED.*libsockit\.so\.0'; then
	echo "deb: the program did not link libsockit.so.0 ($flags)"
	exit 1
fi
out=$(LD_LIBRARY_PATH="$lib" "$tmp/hello")
if [ "$out" != "$version timed out" ]; then
	echo "deb: the program printed '$out', want '$version timed out'"
	exit 1
fi
out=$("$root/usr/bin/sockit" --version)
case $out in
*"$version"*) ;;
*) echo "deb: sockit --version printed '$out'"; exit 1 ;;
esac
echo "deb: $(echo "$debs" | wc -w) packages unpacked; a program built with pkg-config ($flags) runs on their libsockit.so.0"
