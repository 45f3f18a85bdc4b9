import type { HostFacts } from '../facts.js';
import { type Check, fail, pass, type Verdict, warn } from './verdict.js';

function versionDrift(f: HostFacts): Verdict {
  const cli = `${f.cli.version} (${f.cli.commit})`;
  if (f.install && (f.install.version !== f.cli.version || f.install.commit !== f.cli.commit)) {
    return warn(
      `CLI is ${cli} but the system install is ${f.install.version} (${f.install.commit})`,
      'use the installed banger, or reinstall with `sudo banger system install`',
    );
  }
  if (f.daemon.reachable && (f.daemon.version !== f.cli.version || f.daemon.commit !== f.cli.commit)) {
    return warn(
      `CLI is ${cli} but the running daemon is ${f.daemon.version} (${f.daemon.commit})`,
      'restart it: `banger daemon stop` (the next command starts the matching one)',
    );
  }
  return pass(`CLI ${cli}${f.daemon.reachable ? ' matches the daemon' : ''}`);
}

function store(f: HostFacts): Verdict {
  const s = f.store;
  switch (s.state) {
    case 'compatible':
      return pass(`${s.path} is readable and current (${s.detail})`);
    case 'missing':
      return pass(`${s.path} does not exist yet; the daemon creates it`);
    case 'migrations_needed':
      return warn(`${s.path} needs migrations (${s.detail})`, 'they run automatically when the daemon starts');
    case 'incompatible':
      return fail(`${s.path}: ${s.detail}`, 'install the newer banger that wrote it');
    case 'unreadable':
      return fail(
        `${s.path} cannot be read: ${s.detail}`,
        'check its permissions; restore it from a backup if it is corrupt',
      );
  }
}

/** The host's services and banger's own: systemd, resolved, the daemon, versions, the state store, the config. In report order. */
export const INSTALL_CHECKS: readonly Check[] = [
  {
    name: 'systemd',
    hint: 'nothing to fix: banger runs without systemd',
    evaluate: (f) =>
      f.pid1 === 'systemd'
        ? pass('systemd is PID 1: system install uses systemd units')
        : warn(`PID 1 is ${f.pid1}, not systemd: system install uses banger's fallback supervisor`),
  },
  {
    name: 'resolved',
    hint:
      'send *.vm to 127.0.0.1:42069 from your resolver, e.g. dnsmasq `server=/vm/127.0.0.1#42069`' +
      ' (docs/howto/dns.md)',
    evaluate: (f) =>
      f.resolved
        ? pass('systemd-resolved is running: ~vm can be routed to banger')
        : warn('systemd-resolved is not running: the host resolves NAME.vm only after you add a resolver rule'),
  },
  {
    name: 'daemon',
    hint: 'it starts automatically on the next banger command',
    evaluate: ({ daemon: d }) =>
      d.reachable
        ? pass(`bangerd v${d.version} is running (pid ${d.pid})`)
        : warn(`bangerd is not running${d.error ? ` (${d.error})` : ''}`),
  },
  { name: 'version', evaluate: versionDrift },
  { name: 'state-store', evaluate: store },
  {
    name: 'config',
    hint: 'fix the key named above (docs/reference/config.md)',
    evaluate: ({ config: c }) =>
      c.error
        ? fail(c.error)
        : pass(c.exists ? `config ${c.path} is valid` : `no config file (${c.path}); defaults apply`),
  },
];
