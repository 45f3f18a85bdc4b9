#!/bin/bash
# Idempotent setup shared by the README's two commands: Debian packages, a supported
# Node.js (>= 22.13: the one on PATH, else Node $NODE_LTS fetched from the npm registry
# into runtime/node), npm dependencies (from the lockfile), and the build. Safe to run
# again: each step is skipped when already done. Needs root for apt (the README assumes a
# root shell). Scripts that run after it call `use_supported_node` (scripts/lib) for the
# same PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/node-runtimes.env
. scripts/node-runtimes.env
# shellcheck source=scripts/lib/node-runtime.sh
. scripts/lib/node-runtime.sh

say() { printf '\033[2m[setup]\033[0m %s\n' "$*"; }

# What banger and its tests need from Debian:
#   iproute2 nftables       bridges, taps and NAT rules
#   e2fsprogs               mkfs.ext4 -d, debugfs (disks built without mounting)
#   openssh-client          ssh/ssh-keygen to reach guests
#   kmod                    modinfo (doctor's bridge check)
#   gcc libc6-dev           compile the system-call addon (native/hostcalls.c) against Node's headers
#   git ca-certificates     build info and npm over https
#   curl                    fetch a Node runtime (and npm) from the npm registry when the host has none
#   qemu-system-x86 qemu-utils   the VMM that runs guests here, and qcow2 overlays
#   mmdebstrap              builds the default image from the Debian mirror
#   busybox-static          the guest initramfs
#   cpio                    unit tests read back the initramfs archive with it
#   bind9-dnsutils          dig, with which the tests query banger's .vm DNS
#   musl-tools              musl-gcc: the guest agent is a small static C binary
#   dnsmasq-base            the benchmark's reference DNS server (next to banger's)
#   systemd openssl         systemd-analyze checks the install's units; openssl checks release signatures
#   xz-utils zstd lz4       decompress a bzImage's payload into the vmlinux Firecracker boots
#   dmsetup                 device-mapper snapshots for Firecracker root disks (where the kernel has it)
#   docker-registry apache2-utils   the tests' OCI registry on 127.0.0.1 (distribution v2), htpasswd for its basic auth
#   skopeo umoci            the image pull benchmark's baseline (skopeo copy + umoci unpack + mkfs.ext4 -d)
APT_PACKAGES=(iproute2 nftables e2fsprogs openssh-client kmod gcc libc6-dev git ca-certificates curl
              qemu-system-x86 qemu-utils mmdebstrap busybox-static cpio bind9-dnsutils musl-tools dnsmasq-base
              systemd openssl xz-utils zstd lz4 dmsetup docker-registry apache2-utils skopeo umoci)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package enables a registry on *:5000; banger's tests start their own on 127.0.0.1.
  if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
    say "docker-registry.service disabled (the tests run their own registry on 127.0.0.1)"
  fi
fi

# Node >= 22.13 first on PATH (and an npm) for everything below.
use_supported_node "$PWD"
say "node $(node --version) at $(command -v node), npm $(npm --version)"

# npm ci only when the lockfile or the Node version changed since the last install.
stamp="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node --version)"
if [ ! -d node_modules ] || [ "$(cat node_modules/.banger-deps-stamp 2>/dev/null)" != "$stamp" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$stamp" > node_modules/.banger-deps-stamp
fi

# Rebuild only when a source is newer than the last build.
if [ ! -f dist/BUILD ] || [ -n "$(find src agent native scripts bench test package.json package-lock.json tsconfig.json -newer dist/BUILD -print -quit)" ]; then
  say "building"
  node scripts/build.mjs
else
  say "build is up to date"
fi
