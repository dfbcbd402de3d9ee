// The supervisor's handle on a VFSRootContext: the child process serving it over FUSE.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FusejailError } from '../errors.js';
import { AttachCount } from '../resources/attach-count.js';

const serverProgram = fileURLToPath(new URL('./serve-context.js', import.meta.url));

export class ContextServerFailed extends FusejailError {
  constructor(message: string) {
    super('CONTEXT_SERVER_FAILED', message);
  }
}

export class ServedContext extends AttachCount {
  private constructor(
    readonly index: number,
    /** The host directory serving the context's root. */
    readonly root: string,
    private readonly server: ChildProcess,
    private readonly exited: Promise<void>,
  ) {
    super();
  }

  /**
   * A new context is an empty RAMFS, as in SerenityOS, unless a container's config gives its
   * layout. NOTE: one process per context (DESIGN §2);
   * its stdin is a pipe from us, so it unmounts and exits if the supervisor dies.
   */
  static async create(index: number, directory: string, config: Record<string, unknown> = { hostname: null, layout: [] }): Promise<ServedContext> {
    const dir = join(directory, String(index));
    const root = join(dir, 'root');
    mkdirSync(root, { recursive: true, mode: 0o755 });
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const server = spawn(process.execPath, [serverProgram, '--config', configFile, '--mountpoint', root, '--exit-with-stdin'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => server.on('exit', () => resolve()));
    const ready = await new Promise<boolean>((resolve) => {
      server.stderr!.on('data', () => stderr.includes('serving') && resolve(true));
      void exited.then(() => resolve(false));
    });
    if (!ready) throw new ContextServerFailed(`VFS root context ${index} could not be served: ${stderr.trim()}`);
    return new ServedContext(index, root, server, exited);
  }

  detail(): Record<string, string | number> {
    return { root: this.root, serverPid: this.server.pid ?? 0 };
  }

  async destroy(): Promise<void> {
    this.server.kill('SIGTERM');
    await this.exited;
  }
}
