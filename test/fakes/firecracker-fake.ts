/**
 * A stand-in `firecracker` executable for the driver's tests: `--version` answers like
 * Firecracker 1.14.1; `--api-sock PATH` serves the API double (validated against the
 * official definition) there, opening the files a body names as Firecracker would. On
 * InstanceStart it opens the configured vsock uds with Firecracker's `CONNECT <port>` /
 * `OK <n>` handshake in front of a real banger-agent (run on the host with --stdio); on
 * SendCtrlAltDel it exits, as a guest powering off ends the VMM.
 *
 * Started by the stand-in jailer, it cannot chroot (Node has no chroot(2)); the jailer
 * passes the jail's directory in BANGER_FAKE_JAIL_ROOT and every path Firecracker would see
 * inside the jail (API socket, drives, vsock uds) is taken relative to it, as its working
 * directory.
 */
import { rmSync } from 'node:fs';
import { AGENT_VSOCK_PORT } from '../../src/agent/index.js';
import { FakeFirecracker } from './firecrackerApi.js';
import { serveAgentOverVsock } from './vsockAgentBridge.js';

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write('Firecracker v1.14.1\n\nSupported snapshot data format versions: v1.0.0\n');
  process.exit(0);
}
const jailRoot = process.env.BANGER_FAKE_JAIL_ROOT;
// Jailed, the stand-in runs with the jail as its working directory and reaches the jail's
// paths relative to it, as a chrooted process would: a socket deep in the jail still fits
// the 108-byte unix socket address.
if (jailRoot) process.chdir(jailRoot);
const hostPath = (p: string) => (jailRoot ? `.${p}` : p);
const sockArg = args.indexOf('--api-sock');
if (sockArg < 0) {
  process.stderr.write('firecracker-fake: --api-sock is required\n');
  process.exit(1);
}

let vsockPath: string | null = null;
const fc = new FakeFirecracker({
  socketPath: hostPath(args[sockArg + 1]!),
  hostPath,
  onStart: (state) => {
    vsockPath = hostPath((state.config['/vsock'] as { uds_path: string }).uds_path);
    void serveAgentOverVsock(vsockPath, AGENT_VSOCK_PORT);
  },
  onCtrlAltDel: () => setTimeout(() => process.exit(0), 50),
});
await fc.listen();
process.stdout.write('firecracker-fake: API up (guest serial console would follow)\n');
process.on('SIGTERM', () => {
  void fc.close().then(() => process.exit(0));
});
process.on('exit', () => {
  if (vsockPath) rmSync(vsockPath, { force: true });
});
