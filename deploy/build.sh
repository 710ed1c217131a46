#!/usr/bin/env bash
# Configures and builds one hsrelay configuration in build/<name>.
#   deploy/build.sh release   gcc, -O3 release build (what run.sh uses)
#   deploy/build.sh asan      gcc, ASan + UBSan, debugoptimized
#   deploy/build.sh fuzz      clang, libFuzzer targets with ASan + UBSan
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
name=${1:-release}
dir="$top/build/$name"

case "$name" in
  release) opts=(--buildtype=release); export CC=${CC:-gcc} ;;
  asan)    opts=(--buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false)
           export CC=${CC:-gcc} ;;
  fuzz)    opts=(--buildtype=debugoptimized -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false)
           export CC=clang ;;
  *) echo "build.sh: unknown configuration '$name' (release|asan|fuzz)" >&2; exit 2 ;;
esac

if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "${opts[@]}" "$dir" "$top" >/dev/null
else
  meson setup "${opts[@]}" "$dir" "$top" >/dev/null
fi
ninja -C "$dir" >/dev/null
echo "built $dir"
