#!/bin/sh
# scripts/format.sh [--check] - format every C file of the tree with the
# checked-in .clang-format (`make format`), or with --check only say which
# files differ and fail (tests/build/format.sh, run by `make check`).
# Exit 77 when clang-format is not installed (scripts/deps.sh installs it).
set -eu
cd "$(dirname "$0")/.."
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "format: $cf not installed (make deps); not checked"
	exit 77
fi
files=$(find src include tests fuzz examples bench -name '*.[ch]' | sort)
files="$files $(ls ./*.c ./*.h 2>/dev/null || true)"
if [ "${1:-}" != --check ]; then
	# shellcheck disable=SC2086
	"$cf" -i $files
	exit 0
fi
bad=""
for f in $files; do
	"$cf" --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
n=$(echo "$files" | wc -w)
if [ -n "$bad" ]; then
	echo "format: $(echo "$bad" | wc -w) of $n files differ from .clang-format ($("$cf" --version | sed 's/.*version //')); make format fixes:"
	for f in $bad; do echo "  $f"; done
	exit 1
fi
echo "format: $n files follow .clang-format"
