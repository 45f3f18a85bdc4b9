import { BangerError, type Vm } from '../model/index.js';
import { generateVmName, type RandomIndex } from '../namegen/index.js';
import type { Store } from '../store/index.js';

/** Read side of VMs. Later issues add create/start/stop here. */
export class VmService {
  constructor(private readonly store: Store) {}

  list(): Vm[] {
    return this.store.vms.list();
  }

  /** A generated adjective-noun name that no VM in the store has. */
  freshName(random?: RandomIndex): string {
    return generateVmName((n) => this.store.vms.nameExists(n), random);
  }

  show(ref: string): Vm {
    const vm = this.store.vms.find(ref);
    if (!vm) throw new BangerError('not_found', `no VM named "${ref}"`, { hint: 'see `banger vm list` for the VMs that exist' });
    return vm;
  }
}
