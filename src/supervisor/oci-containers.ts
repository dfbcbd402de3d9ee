// The OCI containers the supervisor serves roots for, keyed by (runtime root, id), and the three oci-* requests.
import { FusejailError } from '../errors.js';
import type { OCIKey, Request } from '../protocol/messages.js';
import type { ResourceMaker } from './container.js';
import { OCIContainer } from './oci-container.js';
import { ociCreateOf, ociKeyOf, pidOf } from './oci-request.js';
import { Refused } from './refused.js';

/** The codes the OCI runtime tells apart (oci-common.md): a key registered twice, a key unknown. */
export class OCIRefused extends FusejailError {
  constructor(code: 'EXISTS' | 'NOT_FOUND', message: string) {
    super(code, message);
  }
}

const keyText = (key: OCIKey) => `${key.root}\0${key.id}`;
const described = (key: OCIKey) => `id ${key.id} under root ${key.root}`;

export class OCIContainers {
  private readonly byKey = new Map<string, OCIContainer>();
  /** Keys and names of creations under way: a second request must not take them meanwhile. */
  private readonly reserved = new Map<string, string>();

  constructor(
    private readonly maker: ResourceMaker,
    /** The supervisor's state directory, where roots are served. */
    private readonly stateDir: string,
    /** Whether a `fusejail run` container has this name. */
    private readonly runNamed: (name: string) => boolean,
  ) {}

  /** NAME: the id when free, else the id with "-2", "-3", … */
  private nameFor(id: string): string {
    const taken = (n: string) => this.runNamed(n) || this.named(n) !== undefined || [...this.reserved.values()].includes(n);
    let name = id;
    for (let n = 2; taken(name); n++) name = `${id}-${n}`;
    return name;
  }

  async create(request: Extract<Request, { op: 'oci-create' }>): Promise<{ name: string; root: string }> {
    const oci = ociCreateOf(request.oci);
    const key = keyText(oci);
    if (this.byKey.has(key) || this.reserved.has(key)) throw new OCIRefused('EXISTS', `an OCI container with ${described(oci)} exists already`);
    // NOTE: a server whose source holds a served root (or the place where roots are served)
    // would look up paths through itself: a FUSE request to itself, never answered.
    const within = (dir: string, inside: string) => inside === dir || inside.startsWith(dir === '/' ? '/' : `${dir}/`);
    if (within(oci.rootfs, this.stateDir)) throw new Refused('EINVAL', `oci.rootfs ${oci.rootfs} holds the supervisor's state directory ${this.stateDir}, where roots are served`);
    const served = [...this.maker.containers(), ...this.all()].flatMap((c) => c.servedAt());
    const inside = served.find((dir) => within(dir, oci.rootfs));
    if (inside) throw new Refused('EINVAL', `oci.rootfs ${oci.rootfs} is inside the root served at ${inside}`);
    const name = this.nameFor(oci.id);
    this.reserved.set(key, name);
    try {
      const container = await OCIContainer.create(name, oci, this.maker);
      this.byKey.set(key, container);
      return { name, root: container.servedAt()[0]! };
    } finally {
      this.reserved.delete(key);
    }
  }

  started(request: Extract<Request, { op: 'oci-started' }>): void {
    const pid = pidOf(request.pid);
    this.find(ociKeyOf(request.oci)).started(pid);
  }

  async delete(request: Extract<Request, { op: 'oci-delete' }>): Promise<void> {
    const key = ociKeyOf(request.oci);
    const container = this.find(key);
    this.byKey.delete(keyText(key));
    await container.release();
  }

  private find(key: OCIKey): OCIContainer {
    const container = this.byKey.get(keyText(key));
    if (!container) throw new OCIRefused('NOT_FOUND', `no OCI container with ${described(key)}`);
    return container;
  }

  /** The container with this NAME exactly. */
  named(name: string): OCIContainer | undefined {
    return this.all().find((c) => c.name === name);
  }

  all(): OCIContainer[] {
    return [...this.byKey.values()];
  }

  /** Every root unmounted (the supervisor stops). */
  async teardown(): Promise<void> {
    for (const c of this.all()) await c.release();
    this.byKey.clear();
  }
}

/**
 * Why a request about a container cannot be answered for an OCI container: its processes belong
 * to the OCI runtime and its caller (conmon, the shim), which is not the supervisor.
 */
export function notForOCI(container: OCIContainer, op: string): Refused {
  const { root, id } = container.key;
  if (op === 'rm') {
    return new Refused('EPERM', `container ${container.name} is an OCI container (${described(container.key)}); remove it with its OCI runtime's delete (e.g. fusejail --root ${root} delete --force ${id}, or podman rm / ctr task delete), not fusejail rm: its init is not the supervisor's child`);
  }
  const verb = op === 'kill' ? ` (e.g. fusejail --root ${root} kill ${id} TERM)` : op === 'ps' ? ` (e.g. fusejail --root ${root} ps --format json ${id})` : '';
  return new Refused('EINVAL', `fusejail ${op} does not apply to container ${container.name}: it is an OCI container (${described(container.key)}), run by its OCI runtime${verb}`);
}
