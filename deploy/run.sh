#!/usr/bin/env bash
# The main job: install dependencies, build the release configuration and run
# it. Until the relay exists (issue 5) the main job is the crypto bench, which
# prints one JSON line per case (see README "Bench").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/deploy/install-deps.sh"
"$top/deploy/build.sh" release >&2
exec "$top/build/release/bench/hsrelay-bench" crypto "$@"
