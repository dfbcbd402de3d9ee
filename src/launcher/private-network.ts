// A private network: a pinned network namespace joined to the host's through pasta (Debian's passt).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { FusejailError } from '../errors.js';
import type { Publish } from '../protocol/config.js';
import { launcherProgram } from './launch-plan.js';

const run = promisify(execFile);

export const PASTA = '/usr/bin/pasta';


export class NetworkFailed extends FusejailError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK_FAILED', message, options);
  }
}

const stderrOf = (cause: unknown) => ((cause as { stderr?: string }).stderr ?? String(cause)).split('\n').filter((l) => l && !l.startsWith('Failed to send')).join('; ');

/** pasta's port list for one protocol: "8080:80,53:53", or "none". */
const ports = (publish: readonly Publish[], protocol: 'tcp' | 'udp') => publish.filter((p) => p.protocol === protocol).map((p) => `${p.host}:${p.container}`).join(',') || 'none';

export class PrivateNetwork {
  private constructor(
    /** The pinned namespace a launch joins. */
    readonly path: string,
    private readonly pidFile: string,
  ) {}

  /**
   * NOTE: pasta forks into the background only once the namespace is configured (address, route,
   * DNS), so the container's first process never sees a half-made network. It runs as root
   * (--runas 0:0): dropped to nobody it could not enter a namespace it does not own; it drops its
   * capabilities and confines itself (seccomp, its own namespaces) after the setup. Ports are
   * forwarded only where published (-t/-u none otherwise), and the container's own loopback never
   * leads to the host's (-T/-U none); the host's loopback is reachable at the gateway address.
   */
  static async start(path: string, publish: readonly Publish[]): Promise<PrivateNetwork> {
    if (!existsSync(PASTA)) throw new NetworkFailed(`network "private" needs pasta (${PASTA}, Debian package passt), which is not installed`);
    const pidFile = `${path}.pasta.pid`;
    try {
      await run(launcherProgram, ['pin-net', path]);
    } catch (cause) {
      throw new NetworkFailed(`cannot make a network namespace at ${path}: ${stderrOf(cause)}`, { cause });
    }
    const network = new PrivateNetwork(path, pidFile);
    try {
      await run(PASTA, ['--config-net', '--quiet', '--runas', '0:0', '-t', ports(publish, 'tcp'), '-u', ports(publish, 'udp'), '-T', 'none', '-U', 'none', '-P', pidFile, '--netns', path]);
    } catch (cause) {
      await network.stop();
      throw new NetworkFailed(`pasta could not connect the private network${publish.length ? ` (publishing ${publish.map((p) => `${p.host}:${p.container}/${p.protocol}`).join(', ')})` : ''}: ${stderrOf(cause)}`, { cause });
    }
    return network;
  }

  /** pasta ends, and the namespace goes once no process is left in it. */
  async stop(): Promise<void> {
    stopPasta(this.pidFile);
    try {
      await run(launcherProgram, ['unpin', this.path]);
    } catch (cause) {
      throw new NetworkFailed(`cannot release the network namespace at ${this.path}`, { cause });
    }
  }
}

/** Ends the pasta whose pid file this is (also one left by a killed supervisor). */
export function stopPasta(pidFile: string): void {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // NOTE: only if it is still pasta: the pid may have been reused.
    if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.endsWith('pasta')) process.kill(pid, 'SIGTERM');
  } catch {
    // NOTE: no pid file, or pasta is gone already.
  }
  rmSync(pidFile, { force: true });
}
