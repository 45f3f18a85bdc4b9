/**
 * A stand-in `firecracker` executable for the driver's tests: `--version` answers like
 * Firecracker 1.14.1; `--api-sock PATH` serves the API double (validated against the
 * official definition) there. On InstanceStart it opens the configured vsock uds with
 * Firecracker's `CONNECT <port>` / `OK <n>` handshake in front of a real banger-agent
 * (run on the host with --stdio); on SendCtrlAltDel it exits, as a guest powering off ends
 * the VMM.
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
const sockArg = args.indexOf('--api-sock');
if (sockArg < 0) { process.stderr.write('firecracker-fake: --api-sock is required\n'); process.exit(1); }

let vsockPath: string | null = null;
const fc = new FakeFirecracker({
  socketPath: args[sockArg + 1]!,
  onStart: (state) => {
    vsockPath = (state.config['/vsock'] as { uds_path: string }).uds_path;
    void serveAgentOverVsock(vsockPath, AGENT_VSOCK_PORT);
  },
  onCtrlAltDel: () => setTimeout(() => process.exit(0), 50),
});
await fc.listen();
process.on('SIGTERM', () => { void fc.close().then(() => process.exit(0)); });
process.on('exit', () => { if (vsockPath) rmSync(vsockPath, { force: true }); });
