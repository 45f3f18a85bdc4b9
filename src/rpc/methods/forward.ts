import { z } from 'zod';
import { forwardSpecSchema, portSchema, vmForwardSchema } from '../../model/index.js';
import { defineMethod } from '../methodDef.js';

// A VM's port forwards: host 127.0.0.1:LOCAL proxied to the guest's port (docs/howto/networking.md).

const vmName = z.string().min(1).max(253);
const forwardsResult = z.object({ forwards: z.array(vmForwardSchema) });

export const VM_FORWARD_METHODS = {
  'vm.forward.add': defineMethod({
    name: 'vm.forward.add',
    summary:
      "Forwards host 127.0.0.1:local to the VM's guest port, for each entry, all or none. A running VM's listeners open at once, a stopped VM's when it starts; they are restored when the daemon restarts. A local port another forward holds is a conflict; one another process holds is a conflict naming that process. Asking again for a forward the VM has changes nothing. Returns the requested forwards.",
    params: z.strictObject({ name: vmName, forwards: z.array(forwardSpecSchema).min(1).max(64) }),
    result: forwardsResult,
    tracked: false,
    progress: false,
  }),
  'vm.forward.remove': defineMethod({
    name: 'vm.forward.remove',
    summary: "Removes the VM's forwards on these local ports (all or none) and closes their listeners.",
    params: z.strictObject({ name: vmName, locals: z.array(portSchema('local port')).min(1).max(64) }),
    result: forwardsResult,
    tracked: false,
    progress: false,
  }),
  'vm.forward.list': defineMethod({
    name: 'vm.forward.list',
    summary: "The VM's forwards, each active (listening), inactive (the VM is stopped) or failed (with why).",
    params: z.strictObject({ name: vmName }),
    result: forwardsResult,
    tracked: false,
    progress: false,
  }),
} as const;
