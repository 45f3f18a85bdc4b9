#!/bin/sh
# Installs the built dist/ so it no longer depends on this checkout:
#   scripts/install.sh [--prefix DIR]     (default /usr/local)
# puts the bundle in DIR/lib/banger/<version>, points DIR/lib/banger/current at it
# (an atomic symlink flip, so a reinstall never leaves a half-copied tree in use), and
# writes DIR/bin/banger and DIR/bin/bangerd launchers that run it with this host's node.
set -eu
prefix=/usr/local
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    *) echo "install.sh: unknown argument $1 (usage: install.sh [--prefix DIR])" >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/dist/banger.js" ] || { echo "install.sh: dist/ is missing; run npm run build first" >&2; exit 1; }
node=$(command -v node) || { echo "install.sh: node (>= 20) is not on PATH" >&2; exit 1; }
version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$root/dist/package.json")
lib="$prefix/lib/banger"
mkdir -p "$lib" "$prefix/bin"
rm -rf "$lib/$version.new"
cp -R "$root/dist" "$lib/$version.new"
rm -rf "$lib/$version"
mv "$lib/$version.new" "$lib/$version"
ln -sfn "$version" "$lib/current.new"
mv -T "$lib/current.new" "$lib/current"
for name in banger bangerd; do
  cat > "$prefix/bin/$name.new" <<LAUNCHER
#!/bin/sh
exec "$node" "$lib/current/$name.js" "\$@"
LAUNCHER
  chmod 0755 "$prefix/bin/$name.new"
  mv "$prefix/bin/$name.new" "$prefix/bin/$name"
done
echo "installed banger $version into $prefix (bin/banger, bin/bangerd, lib/banger/$version)"
