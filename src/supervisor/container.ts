// A container: a named bundle of resources (SerenityOS's three) and the process launched into it.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Launch } from '../launcher/launch.js';
import type { ContainerConfig } from '../protocol/config.js';
import type { ProcessSpec, StreamEvent, Terminal } from '../protocol/messages.js';
import type { HostnameContext } from '../resources/hostname-context.js';
import type { ScopedProcessList } from '../resources/scoped-process-list.js';
import type { ServedContext } from './served-context.js';

/** How a container gets its resources: each one new, made by the supervisor's lists. */
export interface ResourceMaker {
  vfsContext(config: Record<string, unknown>): Promise<ServedContext>;
  processList(): Promise<ScopedProcessList>;
  hostnameContext(name: string): Promise<HostnameContext>;
  /** Removes a resource from its list and releases it. */
  release(resource: ServedContext | ScopedProcessList | HostnameContext): Promise<void>;
}

type Emit = (event: StreamEvent extends infer E ? (E extends { event: string } ? Omit<E, 'v' | 'id'> : never) : never) => void;

// NOTE: the launcher mounts kernel filesystems over directories of the root; where the layout
// has none, that part is simply not mounted.
async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export class Container {
  private launch: Launch | undefined;

  private constructor(
    readonly name: string,
    private readonly held: (ServedContext | ScopedProcessList | HostnameContext)[],
    private readonly maker: ResourceMaker,
  ) {}

  /**
   * Gathers, then deploys, then undoes everything if any step fails. NOTE: the order: the root
   * first (it is what the others are for), then the process list, then the hostname context.
   */
  static async start(name: string, config: ContainerConfig, raw: Record<string, unknown>, spec: ProcessSpec, terminal: Terminal | null, maker: ResourceMaker, emit: Emit): Promise<Container> {
    const container = new Container(name, [], maker);
    try {
      const vfs = await maker.vfsContext(raw);
      container.held.push(vfs);
      const list = config.pidIsolation ? await maker.processList() : undefined;
      if (list) container.held.push(list);
      const uts = config.hostname !== null ? await maker.hostnameContext(config.hostname) : undefined;
      if (uts) container.held.push(uts);
      const launch = new Launch(
        {
          ...spec,
          root: vfs.root,
          pidns: list?.namespacePath ?? null,
          utsns: uts?.path ?? null,
          hostname: null,
          proc: await isDirectory(join(vfs.root, 'proc')),
          dev: await isDirectory(join(vfs.root, 'dev')),
          jail: config.jail,
        },
        terminal ? { kind: 'pty', ...terminal } : { kind: 'pipes' },
      );
      container.launch = launch;
      launch.onData((o) => emit({ event: 'data', stream: o.stream, data: o.data.toString('base64') }));
      // NOTE: a command that never started is answered by the error alone, not also by an exit;
      // one that started and ended at once reports its exit right after its start.
      let running = false;
      let ended: number | undefined;
      const finish = (status: number) => void container.release().then(() => emit({ event: 'exit', status }));
      launch.onExit((status) => (running ? finish(status) : (ended = status)));
      const started = await launch.started;
      running = true;
      emit({ event: 'started', name, ...started });
      if (ended !== undefined) finish(ended);
      return container;
    } catch (err) {
      await container.release();
      throw err;
    }
  }

  input(data: Buffer): void {
    this.launch?.write(data);
  }

  eof(): void {
    this.launch?.end();
  }

  resize(rows: number, cols: number): void {
    this.launch?.resize(rows, cols);
  }

  signal(signal: NodeJS.Signals): void {
    this.launch?.kill(signal);
  }

  /** Releases every resource, newest first; safe to call more than once. */
  async release(): Promise<void> {
    while (this.held.length > 0) await this.maker.release(this.held.pop()!);
  }
}
