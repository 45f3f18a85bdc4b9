/**
 * The initramfs /init (busybox sh). It loads the virtio modules, mounts the root disk,
 * applies the per-VM settings that the host passes on the kernel command line, and
 * switch_roots into the image's init: banger-init (/.banger/init) when the image carries it
 * (images without systemd), else /sbin/init (systemd). Doing the network here (instead of systemd-networkd in the
 * guest) takes a whole service off the boot path.
 *
 * Kernel command line it reads (written by the VMM driver):
 *   banger.root=/dev/vda                root disk (rw). Not `root=`: with `root=` systemd
 *                                       waits for udev to announce the device (~3 s under
 *                                       TCG) although it is mounted already.
 *   banger.work=/dev/vdb                work disk, mounted at /root here for the same reason; on its
 *                                       first boot it gets the image's own /root files (.banger-seeded marks it)
 *   banger.hostname=NAME                /etc/hostname and /etc/hosts
 *   banger.ip=A.B.C.D/N banger.gw=G     static IPv4 on eth0 (net.ifnames=0 keeps the name)
 *   banger.dns=R                        /etc/resolv.conf
 *
 * A host key that the host generated for this VM (and pinned in banger's known_hosts)
 * arrives on the work disk under /.banger-hostkey/ and is moved into /etc/ssh once, so
 * sshd never spends a second generating one under emulation.
 */
export function renderInitScript(modulePaths: readonly string[]): string {
  const insmods = modulePaths
    .map(
      (p) =>
        `insmod /lib/modules/${p.split('/').pop()} 2>/dev/null || echo "init: insmod ${p.split('/').pop()} failed"`,
    )
    .join('\n');
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
# Boot-stage markers on the console (seconds since the kernel started), for \`vm logs\` and the boot benchmark.
mark() { read -r up _ < /proc/uptime; echo "banger-boot: $1 at \${up}s"; }
mark initramfs
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

# Accelerator probe: the host boots this initramfs once under KVM; reaching this line
# proves KVM runs a stock guest kernel.
case " $(cat /proc/cmdline) " in *" banger.probe "*) echo BANGER_PROBE_OK; poweroff -f ;; esac

# Dependencies first; the order was computed from modules.dep when this initramfs was built.
${insmods}

root=/dev/vda
work=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    banger.root=*) root="\${arg#banger.root=}" ;;
    banger.work=*) work="\${arg#banger.work=}" ;;
    banger.hostname=*) hostname="\${arg#banger.hostname=}" ;;
    banger.ip=*) ip="\${arg#banger.ip=}" ;;
    banger.gw=*) gw="\${arg#banger.gw=}" ;;
    banger.dns=*) dns="\${arg#banger.dns=}" ;;
  esac
done

mark modules-loaded
# Disks appear asynchronously once virtio_mmio has probed them.
i=0
while { [ ! -b "$root" ] || { [ -n "$work" ] && [ ! -b "$work" ]; }; } && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
mkdir -p /newroot
if ! mount -t ext4 -o rw "$root" /newroot; then
  echo "init: cannot mount root $root; dropping to a shell on the console"
  exec sh
fi
if [ -n "$work" ]; then
  mkdir -p /newroot/root /work
  if mount -t ext4 -o rw "$work" /work; then
    # A fresh work disk starts with what the image has in /root (a pulled image's shell
    # profile, say): once, never over a name already there (what the host wrote, such as
    # .ssh), links copied as links. (busybox cp -n skips a whole "dir/." source.)
    if [ ! -e /work/.banger-seeded ]; then
      if [ ! -L /newroot/root ]; then
        for f in /newroot/root/.[!.]* /newroot/root/..?* /newroot/root/*; do
          { [ -e "$f" ] || [ -L "$f" ]; } || continue
          { [ -e "/work/\${f##*/}" ] || [ -L "/work/\${f##*/}" ]; } || cp -a "$f" /work/
        done
      fi
      : > /work/.banger-seeded
    fi
    mount --move /work /newroot/root
  else
    echo "init: cannot mount work disk $work"
  fi
  if [ -f /newroot/root/.banger-hostkey/ssh_host_ed25519_key ]; then
    # An image without ssh gets /etc/ssh (an sshd installed later finds its pinned key there);
    # one whose /etc/ssh is a symlink keeps it, without the key: it would resolve outside the guest.
    if [ -L /newroot/etc/ssh ]; then
      echo "init: /etc/ssh is a symlink; not installing the pinned host key"
    else
      mkdir -p /newroot/etc/ssh
      mv /newroot/root/.banger-hostkey/ssh_host_ed25519_key /newroot/root/.banger-hostkey/ssh_host_ed25519_key.pub /newroot/etc/ssh/
      chmod 600 /newroot/etc/ssh/ssh_host_ed25519_key
    fi
    rm -rf /newroot/root/.banger-hostkey
  fi
fi

# The guest's /etc files are replaced, never written through: in an image from anywhere
# /etc/hosts or /etc/resolv.conf may be a symlink (to /run/..., or out of the guest while
# this initramfs is the root), or missing, or /etc itself may be missing. An /etc that is
# itself a symlink is left alone.
[ -L /newroot/etc ] && echo "init: /etc is a symlink; hostname, hosts and resolv.conf are not set"
mkdir -p /newroot/etc
put() { if [ -L /newroot/etc ]; then cat > /dev/null; else rm -rf "/newroot/etc/$1"; cat > "/newroot/etc/$1"; fi; }
if [ -n "$hostname" ]; then
  echo "$hostname" | put hostname
  printf '127.0.0.1 localhost\\n127.0.1.1 %s\\n::1 localhost ip6-localhost ip6-loopback\\n' "$hostname" | put hosts
  hostname "$hostname"
fi
ip link set lo up
if [ -n "$ip" ]; then
  ip link set eth0 up
  ip addr add "$ip" dev eth0
  [ -n "$gw" ] && ip route add default via "$gw"
  # Gratuitous ARP: a new VM often gets the address of one deleted moments ago, and the
  # host would otherwise keep sending to the old MAC until its neighbour entry expires.
  arping -U -c 2 -w 2 -I eth0 -s "\${ip%/*}" "\${ip%/*}" >/dev/null 2>&1 &
fi
if [ -n "$dns" ]; then
  echo "nameserver $dns" | put resolv.conf
fi

mark switch_root
umount /proc /sys
mkdir -p /newroot/dev
mount --move /dev /newroot/dev
# An image that is not systemd-based carries banger's own PID 1 (docs/reference/agent.md): it
# starts the agent, then the image's init (/.banger/next-init) or none.
if [ -f /newroot/.banger/init ] && [ ! -L /newroot/.banger/init ]; then
  exec switch_root /newroot /.banger/init
fi
exec switch_root /newroot /sbin/init
`;
}
