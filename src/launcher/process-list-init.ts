// The init (PID 1) of a scoped process list's PID namespace, run by the native launcher.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { FusejailError } from '../errors.js';
import { launcherProgram } from './launch-plan.js';

export class InitFailed extends FusejailError {
  constructor(message: string) {
    super('INIT_FAILED', message);
  }
}

export class ProcessListInit {
  private constructor(
    private readonly child: ChildProcess,
    /** The init's PID on the host; it is PID 1 inside. */
    readonly hostPid: number,
    readonly exited: Promise<void>,
  ) {}

  /** What launches join: the namespace stays while this init runs. */
  get namespacePath(): string {
    return `/proc/${this.hostPid}/ns/pid`;
  }

  /** The list's network namespace (only lo, up), made with the init: members join it. */
  get networkPath(): string {
    return `/proc/${this.hostPid}/ns/net`;
  }

  /** The list's IPC namespace, made with the init: members join it. */
  get ipcPath(): string {
    return `/proc/${this.hostPid}/ns/ipc`;
  }

  /** NOTE: stdin is the control pipe; when this process dies, the pipe closes and so does the list. */
  static async start(): Promise<ProcessListInit> {
    // NOTE: argv0, because the container lists its init (ps): it shows as "fusejail init", not as a host path.
    const child = spawn(launcherProgram, ['init'], { argv0: 'fusejail', stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const first = await new Promise<string | undefined>((resolve) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      void exited.then(() => resolve(undefined));
    });
    if (!first) throw new InitFailed(`the process list's init did not start: ${stderr.trim() || 'no output'}`);
    return new ProcessListInit(child, (JSON.parse(first) as { hostPid: number }).hostPid, exited);
  }

  /** Ends the list: init kills every process left in it and exits. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}
