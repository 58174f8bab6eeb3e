#!/bin/sh
# tests/build/layers.sh BUILD - no layer uses one above it. The order is the
# line of docs/design.md that starts with "cli ->" (highest first; names
# separated by commas share a layer and do not use one another). A concern
# is the first folder under src/ (src/tools/serve is "tools").
#
# Two readings: the objects' symbols (nm: each undefined symbol of
# BUILD/obj/src/<concern>/*.o is mapped to the concern that defines it),
# and the sources' #include "sockit/<name>.h" lines (stream.h is loop's;
# the library never includes the umbrella sockit/sockit.h; src/internal.h,
# which every concern includes, includes only the lowest layer).
set -eu
build=${1:-build}
obj="$build/obj/src"
[ -d "$obj" ] || { echo "layers: $obj not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# rank: concern -> number, 0 the lowest.
order=$(sed -n 's/^cli *->/cli ->/p' docs/design.md | head -1)
[ -n "$order" ] || { echo "layers: no 'cli -> ...' line in docs/design.md"; exit 1; }
echo "$order" | awk -F'->' '{
	for (i = 1; i <= NF; i++) {
		n = split($i, names, /[ ,]+/)
		for (j = 1; j <= n; j++)
			if (names[j] != "")
				print names[j], NF - i
	}
}' | sort >"$tmp/rank"

concern() { # path under src/ -> concern; a file of src/ itself is "src"
	c=${1#*src/}
	case $c in
	*/*) echo "${c%%/*}" ;;
	*) echo src ;;
	esac
}
# src/internal.h serves every concern, so it may include the lowest
# layer's headers only: "src" ranks just above them.
echo "src 1" >>"$tmp/rank"

fail=0
for d in "$obj"/*/; do
	c=$(concern "$d")
	if ! grep -q "^$c " "$tmp/rank"; then
		echo "layers: src/$c/ has no place in the layer line of docs/design.md"
		fail=1
	fi
done

find "$obj" -name '*.o' | sort >"$tmp/objs"
while read -r o; do
	c=$(concern "$o")
	nm -g --defined-only "$o" | awk -v c="$c" 'NF == 3 && $2 != "U" { print $3, c }'
done <"$tmp/objs" | sort -u >"$tmp/defs"
while read -r o; do
	c=$(concern "$o")
	nm -u "$o" | awk -v c="$c" -v o="${o#"$build"/obj/}" '{ print $NF, c, o }'
done <"$tmp/objs" | sort >"$tmp/uses"

# user-concern used-concern file symbol, for each use across concerns.
join "$tmp/uses" "$tmp/defs" | awk '$2 != $4 { print $2, $4, $3, $1 }' >"$tmp/edges"
# The same for the public headers that each source file includes.
grep -rHo '^#include "sockit/[a-z_]*\.h"' src | sed 's|:#include "sockit/| |; s|\.h"$||' |
	while read -r f h; do
		c=$(concern "$f")
		case $h in
		export) continue ;;
		sockit) [ "$c" = cli ] || [ "$c" = tools ] ||
			echo "$c sockit $f umbrella" ;;
		stream) echo "$c loop $f sockit/stream.h" ;;
		*) echo "$c $h $f sockit/$h.h" ;;
		esac
	done | awk '$1 != $2' >>"$tmp/edges"

awk 'NR == FNR { rank[$1] = $2; next }
	$2 == "sockit" {
		print "layers: " $3 " includes the umbrella sockit/sockit.h"
		bad = 1; next
	}
	($1 in rank) && ($2 in rank) && rank[$2] >= rank[$1] {
		print "layers: " $3 " (" $1 ") uses " $4 " of " $2 ", which is not below it"
		bad = 1
	}
	!($2 in rank) {
		print "layers: " $3 " (" $1 ") uses " $4 " of " $2 ", which has no layer"
		bad = 1
	}
	END { exit bad }' "$tmp/rank" "$tmp/edges" || fail=1

if [ "$fail" -eq 0 ]; then
	n=$(awk '{ print $1, $2 }' "$tmp/edges" | sort -u | wc -l)
	echo "layers: $order: $n uses between concerns, all downward"
fi
exit "$fail"
