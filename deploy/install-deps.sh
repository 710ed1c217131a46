#!/usr/bin/env bash
# Installs every Debian 12 package hsrelay needs to build, test and run.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build
  clang libclang-rt-14-dev            # libFuzzer and the sanitizer runtimes
  dpdk libdpdk-dev
  libipsec-mb-dev libsodium-dev libssl-dev openssl
  libcmocka-dev
  tor                                  # interop tier and key/cert vectors
  iproute2 nftables                    # network namespaces for netns/interop tiers
  iputils-ping ethtool                 # netns tier: kernel-side ping, veth offloads off
  python3
  curl                                 # interop tier: fetches through tor's SOCKS port

  libmicrohttpd-dev libsystemd-dev     # MetricsPort server, sd_notify
  zlib1g-dev liblzma-dev libzstd-dev   # directory answers compressed as tor does
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian tor package starts a system tor; the tests run their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet tor 2>/dev/null; then
  systemctl stop tor || true
fi
