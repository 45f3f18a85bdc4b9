import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { ensureClientKey, generateHostKey, hostAlias, pinHostKey, unpinHostKey } from '../../../guest/index.js';
import { writeWorkDiskFiles, type WorkDiskFile } from '../../../vmdisk/index.js';
import type { CreateStep } from './state.js';

/**
 * The ssh files a stopped VM's work disk (its /root) is given: the user's key authorised, and
 * the guest's host key pair where the initramfs moves it into /etc/ssh at the next boot.
 */
export function sshFilesForWorkDisk(clientKey: string, hostPrivate: string, hostPublic: string): WorkDiskFile[] {
  return [
    { path: '/.ssh/authorized_keys', content: `${clientKey.trim()}\n`, mode: 0o600 },
    { path: '/.banger-hostkey/ssh_host_ed25519_key', content: hostPrivate, mode: 0o600 },
    { path: '/.banger-hostkey/ssh_host_ed25519_key.pub', content: `${hostPublic.trim()}\n`, mode: 0o644 },
  ];
}

/**
 * ssh both ways: the user's client key authorised in the guest, and a fresh host key made
 * for the guest (its private half written only into the work disk) pinned in banger's
 * known_hosts. A warm VM's work disk is mounted in the template's saved memory, so nothing
 * is written into it: the pair waits in the VM's directory until the agent installs it,
 * with the client key, after the restore (guestIdentity). Undo: the pin is removed.
 */
export const sshKeysInstall: CreateStep = {
  name: 'sshKeysInstall',
  async run(s, _ctx, undo) {
    const { runner, config, layout } = s.env.d;
    const {
      record: { name },
      files,
    } = s;
    const clientKey = await ensureClientKey(runner, config.ssh_key_path);
    const hostKeyPath = `${files.dir}/ssh_host_ed25519_key`;
    const hostPub = await generateHostKey(runner, hostKeyPath, `banger-${name}`);
    if (s.keysByAgent) {
      mkdirSync(files.pendingIdentity, { mode: 0o700 });
      for (const f of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub'])
        renameSync(`${files.dir}/${f}`, `${files.pendingIdentity}/${f}`);
    } else {
      await writeWorkDiskFiles(
        runner,
        files.workDisk,
        sshFilesForWorkDisk(clientKey, readFileSync(hostKeyPath, 'utf8'), hostPub),
      );
      rmSync(hostKeyPath, { force: true }); // the private half lives only in the guest now
    }
    pinHostKey(layout.knownHosts, hostAlias(name), hostPub);
    undo.push('unpin host key', () => unpinHostKey(layout.knownHosts, hostAlias(name)));
  },
};
