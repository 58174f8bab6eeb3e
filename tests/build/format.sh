#!/bin/sh
# tests/build/format.sh [BUILD] - every C file of the tree follows the
# checked-in .clang-format (scripts/format.sh --check); skipped, saying so,
# where clang-format is not installed.
exec sh "$(dirname "$0")/../../scripts/format.sh" --check
