#!/usr/bin/env bash
# Installs dependencies, builds every configuration and runs every test tier:
#   release: suites unit, netns (kernel peers in network namespaces), interop
#   asan:    the same suites under ASan + UBSan
#   fuzz:    suite fuzz, a short bounded libFuzzer run per wire parser
# The last line is the plain summary "N passed, N failed" (meson's counts).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

passed=0
failed=0

summary() {
  echo "$passed passed, $failed failed"
}

if ! ./deploy/install-deps.sh; then
  echo "test.sh: installing dependencies failed"
  failed=$((failed + 1)); summary; exit 1
fi

# meson test prints "Ok: N", "Fail: N", "Unexpected Pass: N", "Timeout: N".
count() { sed -n "s/^$1:[[:space:]]*\([0-9][0-9]*\)[[:space:]]*$/\1/p" "$2" | tail -1; }

run_suites() {
  local conf=$1; shift
  local log="$top/build/$conf-test.log"
  local args=()
  for s in "$@"; do args+=(--suite "$s"); done
  echo "== $conf: meson test ${args[*]}"
  meson test -C "build/$conf" --print-errorlogs "${args[@]}" 2>&1 | tee "$log"
  local ok fail upass tout
  ok=$(count 'Ok' "$log"); fail=$(count 'Fail' "$log")
  upass=$(count 'Unexpected Pass' "$log"); tout=$(count 'Timeout' "$log")
  if [ -z "$ok" ] && grep -q 'No \(suitable \)\?tests defined' "$log"; then
    return
  fi
  if [ -z "$ok" ]; then
    echo "test.sh: no meson summary for $conf"
    failed=$((failed + 1)); return
  fi
  passed=$((passed + ok))
  failed=$((failed + ${fail:-0} + ${upass:-0} + ${tout:-0}))
}

for conf in release asan fuzz; do
  echo "== building $conf"
  if ! ./deploy/build.sh "$conf"; then
    echo "test.sh: build $conf failed"
    failed=$((failed + 1))
    continue
  fi
  case "$conf" in
    release|asan) run_suites "$conf" unit netns interop ;;
    fuzz)         run_suites "$conf" fuzz ;;
  esac
done

summary
[ "$failed" -eq 0 ]
