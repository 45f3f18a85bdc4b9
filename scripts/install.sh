#!/bin/sh
# banger's installer (docs/howto/install.md). Installs a signed release from a release site:
# a directory or an http(s) URL holding manifest.json (what `npm run release` publishes), or
# one release's files (tarball, SHA256SUMS, SHA256SUMS.sig). The release brings its own Node.js,
# so the host needs none.
#
# Nothing is placed before everything is checked: the signature of SHA256SUMS (openssl, against
# the release public key), that the signed SHA256SUMS names this version's tarball and no other,
# the tarball's SHA-256, the tarball's entries (regular files and directories under
# banger-<version>/ only), the build's version, and that its runtime runs here. A release older
# than the installed build is refused without --allow-downgrade (a hostile mirror cannot roll a
# host back with an old, genuinely signed release), and cleanup never removes a newer build. Then the tree
# goes to PREFIX/lib/banger/<version> (PREFIX/lib/banger/current flipped to it atomically), the
# launchers to PREFIX/bin, and, as root, `banger system install` sets up the root helper and the
# owner's daemon (what `banger update` then updates). With --user: PREFIX is ~/.local, no root,
# and the daemon is the user-mode one the CLI starts on first use. Without a SOURCE, run from a
# checkout with a build, it installs that build instead (development: unsigned, no system install).
set -eu

# The release public key (ECDSA P-256, PEM). `npm run release` publishes a copy of this script
# with the key in place of the marker line; without one, pass --pubkey FILE.
release_key() {
  cat <<'RELEASE_KEY'
@RELEASE_PUBLIC_KEY@
RELEASE_KEY
}
# The release site a published copy installs from when no SOURCE is given.
DEFAULT_SOURCE='@RELEASE_SITE@'

usage() {
  cat <<'USAGE'
usage: install.sh [options] [SOURCE]

Installs a signed banger release (it brings its own Node.js runtime).

SOURCE  a release site (a directory or an http(s) URL with manifest.json, as `npm run release`
        writes it), a manifest.json itself, or a directory/URL holding one release's files
        (banger-<v>-linux-x64.tar.gz, SHA256SUMS, SHA256SUMS.sig). The copy of this script a
        site publishes defaults to that site. Without SOURCE, in a checkout with a build:
        installs the checkout's dist/ into PREFIX (development; unsigned, no system install).

  --version V     install release V (default: the manifest's latest_stable)
  --user          install for the current user, no root: PREFIX ~/.local, user-mode daemon
  --owner USER    as root: the unprivileged user whose daemon it is (default: $SUDO_USER)
  --prefix DIR    where bin/ and lib/banger/ go (default: /usr/local, or ~/.local with --user)
  --yes           do not ask before installing
  --pubkey FILE   verify against this release public key (PEM) instead of the built-in one
  --allow-downgrade  install a release older than the one installed (refused without it)
  -h, --help      this help

Examples:
  sudo sh install.sh https://releases.example.org/banger
  sh install.sh --user --yes ./site
  sudo sh install.sh --version v0.2.0 --owner alice /srv/banger-releases
USAGE
}

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() {
  say "$1"
  [ $# -gt 1 ] && printf '  hint: %s\n' "$2" >&2
  exit 1
}
usage_error() {
  say "$1 (see install.sh --help)"
  exit 2
}

version='' user_mode=0 owner='' prefix='' yes=0 pubkey='' source='' allow_downgrade=0
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || usage_error '--version needs a value'; version=$2; shift 2 ;;
    --version=*) version=${1#--version=}; shift ;;
    --user) user_mode=1; shift ;;
    --owner) [ $# -ge 2 ] || usage_error '--owner needs a value'; owner=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || usage_error '--prefix needs a value'; prefix=$2; shift 2 ;;
    --yes | -y) yes=1; shift ;;
    --allow-downgrade) allow_downgrade=1; shift ;;
    --pubkey) [ $# -ge 2 ] || usage_error '--pubkey needs a value'; pubkey=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown argument $1" ;;
    *) [ -z "$source" ] || usage_error "more than one SOURCE ($source, $1)"; source=$1; shift ;;
  esac
done
# place DIST RUNTIME V: the build at DIST (and the runtime/node at RUNTIME, if it has bin/node)
# into PREFIX/lib/banger/V through V.new, `current` flipped to it atomically, and the PREFIX/bin
# launchers, which run it on its own runtime (else on $host_node). Sets $lib and $previous.
place() {
  lib=$prefix/lib/banger
  mkdir -p "$lib" "$prefix/bin"
  previous=$(readlink "$lib/current" 2>/dev/null || true)
  rm -rf "$lib/$3.new"
  mkdir "$lib/$3.new"
  cp -R "$1/." "$lib/$3.new/"
  node=${host_node:-}
  if [ -f "$2/bin/node" ]; then
    mkdir -p "$lib/$3.new/runtime/node/bin"
    cp "$2/bin/node" "$lib/$3.new/runtime/node/bin/node"
    [ ! -f "$2/LICENSE" ] || cp "$2/LICENSE" "$lib/$3.new/runtime/node/LICENSE"
    node=$lib/current/runtime/node/bin/node
  fi
  chmod -R u+rwX,go+rX,go-w "$lib/$3.new"
  if [ "$previous" = "$3" ]; then
    # Reinstalling the version in use: flip to the new copy first, never to a missing directory.
    rm -rf "$lib/$3.reinstall" && mv "$lib/$3.new" "$lib/$3.reinstall"
    ln -sfn "$3.reinstall" "$lib/current.new" && mv -T "$lib/current.new" "$lib/current"
    rm -rf "${lib:?}/$3" && mv "$lib/$3.reinstall" "$lib/$3"
  else
    rm -rf "${lib:?}/$3" && mv "$lib/$3.new" "$lib/$3"
  fi
  ln -sfn "$3" "$lib/current.new" && mv -T "$lib/current.new" "$lib/current"
  for cmd in banger bangerd; do
    # The launcher system install writes too (its mark lets `system uninstall` remove it).
    printf '#!/bin/sh\n# banger launcher (system install)\nexec "%s" "%s" "$@"\n' \
      "$node" "$lib/current/$cmd.js" >"$prefix/bin/$cmd.new"
    chmod 0755 "$prefix/bin/$cmd.new"
    mv -f "$prefix/bin/$cmd.new" "$prefix/bin/$cmd"
  done
}

# A development install: no SOURCE, and this script in a checkout with a build. The checkout's
# dist/ (and its runtime/node, if scripts/setup.sh fetched one; else the host's node) goes to
# PREFIX, unsigned: it is your own build. No system install.
checkout=$(cd "$(dirname "$0")/.." 2>/dev/null && pwd || true)
case "$DEFAULT_SOURCE" in @*) DEFAULT_SOURCE='' ;; esac
if [ -z "$source" ] && [ -z "$DEFAULT_SOURCE" ] && [ -f "$checkout/dist/banger.js" ]; then
  [ "$user_mode" = 0 ] || [ -n "$prefix" ] || prefix=$HOME/.local
  [ -n "$prefix" ] || prefix=/usr/local
  case "$prefix" in /*) ;; *) usage_error "--prefix $prefix must be absolute" ;; esac
  host_node=''
  if [ ! -f "$checkout/runtime/node/bin/node" ]; then
    host_node=$(command -v node) || die 'node is not on PATH and the checkout has no runtime/node' 'run scripts/setup.sh'
    "$host_node" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 13) ? 0 : 1)' ||
      die "$host_node is Node.js $("$host_node" --version), older than 22.13, which banger needs" \
        'run scripts/setup.sh (it puts a supported Node.js into the checkout'"'"'s runtime/node)'
  fi
  v=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$checkout/dist/BUILD")
  place "$checkout/dist" "$checkout/runtime/node" "$v"
  say "installed the checkout's build v$v into $prefix (bin/banger, bin/bangerd, lib/banger/$v)"
  exit 0
fi

[ -n "$source" ] || source=$DEFAULT_SOURCE
[ -n "$source" ] || usage_error 'no SOURCE given (a release directory or URL)'
if [ -n "$version" ]; then
  printf '%s\n' "$version" | grep -Eq '^v?[0-9]+\.[0-9]+\.[0-9]+$' ||
    usage_error "--version \"$version\" is not a release version (vMAJOR.MINOR.PATCH)"
fi

# --- who and where -------------------------------------------------------------------------
uid=$(id -u)
if [ "$user_mode" = 1 ]; then
  [ -n "${HOME:-}" ] || die '--user needs $HOME'
  [ -n "$prefix" ] || prefix=$HOME/.local
  [ -z "$owner" ] || usage_error '--owner is for a system install (root), not --user'
else
  [ "$uid" = 0 ] || die 'a system install needs root' 'run it with sudo, or pass --user to install for yourself without root'
  [ -n "$prefix" ] || prefix=/usr/local
  [ -n "$owner" ] || owner=${SUDO_USER:-}
  [ -n "$owner" ] || die 'no owner for the daemon' 'pass --owner USER (the unprivileged user who runs VMs)'
  [ "$owner" != root ] || die 'the owner must be an unprivileged user, not root' 'pass --owner USER'
  if [ -f /etc/banger/install.toml ]; then
    was=$(sed -n 's/^owner *= *"\(.*\)"$/\1/p' /etc/banger/install.toml)
    [ -z "$was" ] || [ "$was" = "$owner" ] ||
      die "banger is already installed for $was" 'uninstall it first: sudo banger system uninstall'
  fi
fi
case "$prefix" in /*) ;; *) usage_error "--prefix $prefix must be absolute" ;; esac

# --- tools ------------------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2" "$3"; }
need openssl 'it verifies the release signature' 'apt-get install openssl'
need tar 'it unpacks the release' 'apt-get install tar'
need gzip 'it unpacks the release' 'apt-get install gzip'
is_url() { case "$1" in http://* | https://*) return 0 ;; *) return 1 ;; esac; }
is_url "$source" && need curl 'the release is at a URL' 'apt-get install curl, or download the release into a directory'

# As root, never under $TMPDIR (sudo -E would hand the caller's choice to root).
if [ "$uid" = 0 ]; then tmp=$(mktemp -d /tmp/banger-install.XXXXXX); else tmp=$(mktemp -d "${TMPDIR:-/tmp}/banger-install.XXXXXX"); fi
trap 'rm -rf "$tmp"' EXIT INT TERM

# fetch WHERE DEST MAXBYTES WHAT: a URL (http(s) only, redirects within http(s)) or a local path.
fetch() {
  if is_url "$1"; then
    command -v curl >/dev/null 2>&1 || die "curl is not installed; the $4 is at $1" 'apt-get install curl'
    curl -fsSL --proto '=http,https' --proto-redir '=http,https' --max-redirs 5 --max-filesize "$3" \
      -o "$2" "$1" 2>"$tmp/curl.err" || return 1
  else
    p=${1#file://}
    [ -f "$p" ] || return 1
    cp "$p" "$2"
  fi
  size=$(wc -c <"$2")
  [ "$size" -le "$3" ] || die "the $4 at $1 is $size bytes, more than the $3 allowed; refusing it"
}
# resolve BASE REF: REF (absolute URL, absolute path, or relative to BASE's directory).
resolve() {
  case "$2" in
    http://* | https://*) printf '%s\n' "$2" ;;
    /*) if is_url "$1"; then printf '%s\n' "$(printf '%s\n' "$1" | sed 's|^\(https\{0,1\}://[^/]*\).*|\1|')$2"; else printf '%s\n' "$2"; fi ;;
    *://*) die "the manifest points at $2, which is not http(s); refusing it" ;;
    *) printf '%s/%s\n' "${1%/*}" "$2" ;;
  esac
}
bare() { printf '%s\n' "${1#v}"; }
# older A B: succeeds when release A (MAJOR.MINOR.PATCH) is older than release B.
older() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, "."); split(b, y, ".")
    for (i = 1; i <= 3; i++) { if (x[i] + 0 < y[i] + 0) exit 0; if (x[i] + 0 > y[i] + 0) exit 1 }
    exit 1 }'
}
field() { printf '%s\n' "$2" | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"; }

# --- which release ------------------------------------------------------------------------------
base=${source%/}
case "$base" in *.json) manifest_at=$base ;; *) manifest_at=$base/manifest.json ;; esac
if fetch "$manifest_at" "$tmp/manifest.json" 1048576 'release manifest'; then
  flat=$(tr -d '\n\r\t' <"$tmp/manifest.json")
  if [ -z "$version" ]; then
    version=$(field latest_stable "$flat")
    printf '%s\n' "$version" | grep -Eq '^v?[0-9]+\.[0-9]+\.[0-9]+$' ||
      die "the manifest at $manifest_at has no valid latest_stable (\"$version\"); refusing it" 'pass --version V'
  fi
  entry='' known=''
  set -f # the manifest's words are split below, never globbed
  for obj in $(printf '%s\n' "$flat" | tr '{}' '\n\n' | grep '"version"' | tr ' ' '\037'); do
    obj=$(printf '%s\n' "$obj" | tr '\037' ' ')
    v=$(field version "$obj")
    known="$known $v"
    [ "$(bare "$v")" = "$(bare "$version")" ] && entry=$obj
  done
  set +f
  [ -n "$entry" ] || die "no release $version in the manifest at $manifest_at" "releases:${known:- none}"
  tarball_at=$(resolve "$manifest_at" "$(field tarball "$entry")")
  sums_at=$(resolve "$manifest_at" "$(field sha256sums "$entry")")
  sig_at=$(resolve "$manifest_at" "$(field signature "$entry")")
else
  # No manifest: one release's files, side by side.
  fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" 16384 SHA256SUMS ||
    die "no manifest.json and no SHA256SUMS at $source$(tail -n 1 "$tmp/curl.err" 2>/dev/null | sed 's/^/ (/;s/$/)/')" \
      'give the release site (with manifest.json) or a directory with one release'
  if [ -z "$version" ]; then
    version=$(sed -n 's/.*banger-\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)-linux-x64\.tar\.gz.*/\1/p' "$tmp/SHA256SUMS" | sort -u)
    [ "$(printf '%s\n' "$version" | grep -c .)" = 1 ] || die "SHA256SUMS at $source does not name exactly one release" 'pass --version V'
  fi
  tarball_at=$base/banger-$(bare "$version")-linux-x64.tar.gz
  sums_at=$base/SHA256SUMS
  sig_at=$base/SHA256SUMS.sig
fi
v=$(bare "$version")
printf '%s\n' "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || die "\"$version\" is not a release version; refusing it"
name=banger-$v-linux-x64.tar.gz
# The build in use (its dist/BUILD): an older release is a downgrade, refused unless asked for.
installed=$(sed -n 's/.*"version": *"v\{0,1\}\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)".*/\1/p' \
  "$prefix/lib/banger/current/BUILD" 2>/dev/null | head -n 1 || true)
if [ -n "$installed" ] && older "$v" "$installed"; then
  [ "$allow_downgrade" = 1 ] ||
    die "v$v is older than the installed v$installed; refusing to downgrade (nothing was installed)" \
      'if you mean to go back to it, pass --allow-downgrade; if you did not ask for it, the release site may be serving an old release'
  say "downgrading from v$installed to v$v (--allow-downgrade)"
fi

# --- verify, before anything is placed --------------------------------------------------------
if [ -n "$pubkey" ]; then
  [ -r "$pubkey" ] || die "cannot read --pubkey $pubkey"
  cp "$pubkey" "$tmp/release.pub"
else
  release_key >"$tmp/release.pub"
fi
grep -q 'BEGIN PUBLIC KEY' "$tmp/release.pub" ||
  die 'this install.sh carries no release public key, so it cannot verify a release' \
    "use the install.sh published with the release, or pass --pubkey FILE"
fetch "$sums_at" "$tmp/SHA256SUMS" 16384 SHA256SUMS || die "cannot fetch SHA256SUMS from $sums_at"
fetch "$sig_at" "$tmp/SHA256SUMS.sig" 1024 SHA256SUMS.sig || die "cannot fetch SHA256SUMS.sig from $sig_at"
refuse() { die "$1; refusing it (nothing was installed)" ${2+"$2"}; }
tr -d ' \n\r\t' <"$tmp/SHA256SUMS.sig" | openssl base64 -d -A >"$tmp/sig.der" 2>/dev/null || true
if ! openssl dgst -sha256 -verify "$tmp/release.pub" -signature "$tmp/sig.der" "$tmp/SHA256SUMS" >/dev/null 2>&1; then
  refuse "the signature of SHA256SUMS ($sig_at) does not verify against the release key" \
    'the release server is broken or hostile, or this is not the key of these releases'
fi
# GNU ("<hex>  file", "<hex> *file") and BSD ("SHA256 (file) = <hex>") lines.
sums=$(sed -n -e 's/^\([0-9a-fA-F]\{64\}\) [ *]\(.*\)$/\1 \2/p' -e 's/^SHA256 (\(.*\)) = \([0-9a-fA-F]\{64\}\)$/\2 \1/p' "$tmp/SHA256SUMS")
others=$(printf '%s\n' "$sums" | awk '{print $2}' | grep '^banger-.*\.tar\.gz$' | grep -v "^banger-$v-" || true)
[ -z "$others" ] || refuse "the signature covers another release (its SHA256SUMS lists $(echo $others)), not v$v"
want=$(printf '%s\n' "$sums" | awk -v n="$name" '$2 == n {print tolower($1)}' | head -n 1)
[ -n "$want" ] || refuse "the signed SHA256SUMS has no line for $name, so the signature does not cover v$v"
say "downloading banger v$v"
fetch "$tarball_at" "$tmp/$name" 268435456 'release tarball' || die "cannot fetch the release tarball from $tarball_at"
got=$(openssl dgst -sha256 -r "$tmp/$name" | cut -d' ' -f1)
[ "$got" = "$want" ] || refuse "the tarball's SHA-256 ($got) is not the signed one ($want)"
top=banger-$v
bad=$(tar -tzvf "$tmp/$name" | grep -v '^[-d]' | head -n 1 || true)
[ -z "$bad" ] || refuse "the tarball holds an unexpected entry ($bad)"
bad=$(tar -tzf "$tmp/$name" | grep -v "^$top/" | head -n 1 || true)
[ -z "$bad" ] || refuse "the tarball holds an entry outside $top/ ($bad)"
! tar -tzf "$tmp/$name" | grep -q '\(^\|/\)\.\.\(/\|$\)' || refuse 'the tarball holds a ".." entry'
mkdir "$tmp/stage"
tar -xzf "$tmp/$name" -C "$tmp/stage" --no-same-owner --no-same-permissions
tree=$tmp/stage/$top
for f in dist/banger.js dist/bangerd.js dist/banger-root-helper.js dist/BUILD dist/native/hostcalls.node \
  dist/agent/banger-agent runtime/node/bin/node; do
  [ -f "$tree/$f" ] || refuse "the release lacks $f"
done
grep -Eq "\"version\": *\"v?$v\"" "$tree/dist/BUILD" || refuse "the release's dist/BUILD does not say version $v"
said=$("$tree/runtime/node/bin/node" "$tree/dist/banger.js" --version 2>&1) ||
  die "the release's Node.js runtime does not run on this host: $said" 'banger releases are for Linux x86-64 with glibc'
case "$said" in "banger v$v "*) ;; *) refuse "the release reports \"$said\", not v$v" ;; esac

# --- confirm ----------------------------------------------------------------------------------
if [ "$user_mode" = 1 ]; then what="for $(id -un) (user mode)"; else what="system-wide, daemon owned by $owner"; fi
if [ "$yes" = 0 ] && [ -r /dev/tty ] && { : </dev/tty; } 2>/dev/null; then
  printf 'install banger v%s %s into %s? [y/N] ' "$v" "$what" >/dev/tty
  read -r answer </dev/tty || answer=''
  case "$answer" in y | Y | yes | YES) ;; *) say 'not installed'; exit 1 ;; esac
fi

# --- place ------------------------------------------------------------------------------------
place "$tree/dist" "$tree/runtime/node" "$v"
if [ "$user_mode" = 0 ]; then
  say "running banger system install --owner $owner --prefix $prefix"
  if ! "$prefix/bin/banger" system install --owner "$owner" --prefix "$prefix"; then
    if [ -n "$previous" ] && [ -d "$lib/$previous" ] && [ "$previous" != "$v" ]; then
      ln -sfn "$previous" "$lib/current.new" && mv -T "$lib/current.new" "$lib/current"
      rm -rf "${lib:?}/$v"
      die "banger system install failed; v$previous is current again" 'see the message above'
    fi
    die "banger system install failed; v$v is placed in $lib but not running" 'see the message above, then: sudo banger system install --owner USER'
  fi
fi
# Older builds go once the new one is in use (system install has restarted onto it); newer
# ones (kept after --allow-downgrade) stay.
for old in "$lib"/*; do
  b=${old##*/}
  case "$b" in current | "$v") continue ;; esac
  printf '%s\n' "$b" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(\.new|\.reinstall|\.updated)?$' || continue
  base=${b%.[a-z]*}
  older "$v" "$base" || rm -rf "$old"
done
say "installed banger v$v into $prefix ($prefix/bin/banger, $lib/$v, with its own Node.js)"
if [ "$user_mode" = 1 ]; then
  case ":$PATH:" in *":$prefix/bin:"*) ;; *) say "add $prefix/bin to your PATH" ;; esac
  say 'the daemon starts in user mode on first use; to update, run this installer again'
else
  say "update it with: sudo banger update"
fi
