// Which requests change the supervisor's state (refused to a jailed caller) and which only read it.
import type { Request } from '../protocol/messages.js';

// NOTE: a record over the union, so a new operation cannot be added without deciding here.
const CHANGES: Record<Request['op'], boolean> = {
  create: true, shutdown: true, run: true, exec: true, kill: true, rm: true, 'mount-add': true, 'mount-rm': true,
  'mount-copy': true, expose: true, input: true, eof: true, resize: true, signal: true, hostname: false,
  'oci-create': true, 'oci-started': true, 'oci-delete': true, resources: false, ls: false, ps: false, mounts: false, events: false, stats: false, root: false,
};

/** True when answering `request` would change a container, a resource or the supervisor itself. */
export function changesState(request: Request): boolean {
  return request.op === 'hostname' ? request.set !== undefined : CHANGES[request.op];
}
