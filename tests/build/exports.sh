#!/bin/sh
# tests/build/exports.sh BUILD - libsockit.so exports exactly the functions
# that the public headers declare: every one of them (a declaration without
# SKT_EXTERN would be hidden by -fvisibility=hidden), and nothing else (no
# skt__ internal, no name outside skt_).
set -eu
build=${1:-build}
so="$build/libsockit.so.0"
[ -f "$so" ] || { echo "exports: $so not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$so" | awk '{ print $NF }' | sort -u >"$tmp/exported"
# Declared: a name at the start of a declaration, after its return type or
# alone on the line under a long one; comments, typedefs and static inline
# functions (which stay in the header) left out.
sed -e 's|/\*.*\*/||g' -e '/\/\*/,/\*\//d' include/sockit/*.h |
	grep -E '^[A-Za-z]' | grep -vE '^(typedef|static|enum|union|extern) ' |
	sed -n 's/^[^(]*\<\(skt_[a-z0-9_]*\)(.*/\1/p' | sort -u >"$tmp/declared"

fail=0
n=$(wc -l <"$tmp/exported")
if [ "$n" -eq 0 ]; then
	echo "exports: $so exports nothing"
	fail=1
fi
if grep -v '^skt_[a-z0-9]' "$tmp/exported" >"$tmp/bad"; then
	echo "exports: $so exports names that are not public:"
	sed 's/^/  /' "$tmp/bad" | head -20
	echo "  ($(wc -l <"$tmp/bad") in all)"
	fail=1
fi
if comm -23 "$tmp/exported" "$tmp/declared" | grep -v '^skt__' >"$tmp/extra"; then
	echo "exports: exported but declared in no public header:"
	sed 's/^/  /' "$tmp/extra"
	fail=1
fi
if comm -13 "$tmp/exported" "$tmp/declared" >"$tmp/missing" && [ -s "$tmp/missing" ]; then
	echo "exports: declared in a public header but not exported (SKT_EXTERN missing, or not defined):"
	sed 's/^/  /' "$tmp/missing"
	fail=1
fi
# Every top-level declaration of a public function carries the mark.
if grep -nE '^(const |unsigned |struct )?[a-z_0-9]+ \**skt_[a-z0-9_]+\(' \
	include/sockit/*.h >"$tmp/unmarked"; then
	echo "exports: public declarations without SKT_EXTERN:"
	sed 's/^/  /' "$tmp/unmarked"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "exports: $n skt_ functions, all declared, no internal name"
exit "$fail"
