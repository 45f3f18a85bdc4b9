#!/bin/bash
# Idempotent setup shared by the README's two commands: Debian packages, npm
# dependencies (from the lockfile), and the build. Safe to run again: each step is
# skipped when already done. Needs root for apt (the README assumes a root shell).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[2m[setup]\033[0m %s\n' "$*"; }

# What banger and its tests need from Debian:
#   iproute2 nftables       bridges, taps and NAT rules
#   e2fsprogs               mkfs.ext4 -d, debugfs (disks built without mounting)
#   openssh-client          ssh/ssh-keygen to reach guests
#   kmod                    modinfo (doctor's bridge check)
#   g++ make python3        compile better-sqlite3's native addon (no prebuilt download here)
#   git ca-certificates     build info and npm over https
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
APT_PACKAGES=(iproute2 nftables e2fsprogs openssh-client kmod g++ make python3 git ca-certificates
              qemu-system-x86 qemu-utils mmdebstrap busybox-static cpio bind9-dnsutils musl-tools dnsmasq-base
              systemd openssl xz-utils zstd lz4 dmsetup)

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: banger needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

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
fi

# npm ci only when the lockfile or the Node version changed since the last install.
stamp="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node --version)"
if [ ! -d node_modules ] || [ "$(cat node_modules/.banger-deps-stamp 2>/dev/null)" != "$stamp" ]; then
  say "npm ci (compiles better-sqlite3; about a minute the first time)"
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
