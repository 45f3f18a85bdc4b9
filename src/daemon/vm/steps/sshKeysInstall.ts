import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { ensureClientKey, generateHostKey, hostAlias, pinHostKey, unpinHostKey } from '../../../guest/index.js';
import { writeWorkDiskFiles } from '../../../vmdisk/index.js';
import type { CreateStep } from './state.js';

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
      await writeWorkDiskFiles(runner, files.workDisk, [
        { path: '/.ssh/authorized_keys', content: `${clientKey}\n`, mode: 0o600 },
        { path: '/.banger-hostkey/ssh_host_ed25519_key', content: readFileSync(hostKeyPath, 'utf8'), mode: 0o600 },
        { path: '/.banger-hostkey/ssh_host_ed25519_key.pub', content: `${hostPub}\n`, mode: 0o644 },
      ]);
      rmSync(hostKeyPath, { force: true }); // the private half lives only in the guest now
    }
    pinHostKey(layout.knownHosts, hostAlias(name), hostPub);
    undo.push('unpin host key', () => unpinHostKey(layout.knownHosts, hostAlias(name)));
  },
};
