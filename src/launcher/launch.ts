// Starts the native launcher under a pty (interactive) or on pipes (scripts) and follows it.
import { type ChildProcess, spawn as spawnChild } from 'node:child_process';
import { rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { FusejailError } from '../errors.js';
import { Emitter, type IEvent } from '../event.js';
import { EXIT_CANNOT_EXEC, EXIT_NOT_FOUND, EXIT_SETUP, statusOf } from './exit-status.js';
import { type LaunchPlan, launcherProgram } from './launch-plan.js';

/** A setup stage of the launcher failed, or the command could not be executed. */
export class LaunchFailed extends FusejailError {
  constructor(
    readonly stage: string,
    readonly errno: number,
    readonly exitStatus: number,
    message: string,
  ) {
    super(stage === 'exec' ? (exitStatus === EXIT_NOT_FOUND ? 'NOT_FOUND' : 'CANNOT_EXEC') : 'LAUNCH_FAILED', message);
  }
}

export type Stdio = { kind: 'pty'; rows: number; cols: number } | { kind: 'pipes' };

export interface Output {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface Started {
  hostPid: number;
  containerPid: number;
}

let sequence = 0;

const errnoName = (n: number): string => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

/** How long output may still trickle in after the launcher exited before the exit is reported. */
const DRAIN_MS = 50;

/** One launched process. Subscribe to its events in the tick that created it. */
export class Launch {
  private readonly output = new Emitter<Output>();
  private readonly exits = new Emitter<number>();
  /** Fired once, after the last byte of output, with the shell-style status. */
  readonly onExit: IEvent<number> = this.exits.event;
  readonly onData: IEvent<Output> = this.output.event;
  /** Resolves once the payload has been executed; rejects with LaunchFailed. */
  readonly started: Promise<Started>;
  private exitStatus: number | undefined;
  private readonly server: Server;
  private readonly socketPath: string;
  private term: pty.IPty | undefined;
  private child: ChildProcess | undefined;

  constructor(plan: LaunchPlan, stdio: Stdio) {
    this.socketPath = join(tmpdir(), `fusejail-launch-${process.pid}-${++sequence}.sock`);
    let report = '';
    this.server = createServer((c: Socket) => c.on('data', (d) => (report += d.toString())));
    const reported = new Promise<string>((resolve) => {
      this.server.on('connection', (c: Socket) => c.on('end', () => resolve(report)));
    });
    const env = { FUSEJAIL_PLAN: JSON.stringify({ ...plan, sync: this.socketPath, tty: stdio.kind === 'pty', ...(stdio.kind === 'pty' ? { rows: stdio.rows, cols: stdio.cols } : {}) }) };
    const listening = new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    const exited = new Promise<number>((resolve) => this.exits.event(resolve));
    this.started = listening.then(() => {
      this.spawn(stdio, env);
      return Promise.race([reported, exited.then(() => report)]);
    }).then((line) => this.settle(line, plan));
  }

  private spawn(stdio: Stdio, env: Record<string, string>): void {
    if (stdio.kind === 'pty') {
      // NOTE: the launcher sets the window size again before exec and closes every fd >= 3, which
      // node-pty 1.1 would otherwise leak from other terminals into the container.
      const term = pty.spawn(launcherProgram, ['launch'], { name: 'xterm-256color', cols: stdio.cols, rows: stdio.rows, env, encoding: null });
      this.term = term;
      term.onData((data) => this.output.fire({ stream: 'stdout', data: Buffer.from(data as unknown as Uint8Array) }));
      term.onExit(({ exitCode, signal }) => this.finish(statusOf(signal ? null : exitCode, signal || null)));
      return;
    }
    const child = spawnChild(launcherProgram, ['launch'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    // NOTE: the exit is reported after the payload's last byte: when the pipes close, or, when
    // something it left running in the background still holds them, once they have gone quiet.
    let drain: NodeJS.Timeout | undefined;
    let status: number | undefined;
    const quiet = () => {
      if (status === undefined) return;
      clearTimeout(drain);
      drain = setTimeout(() => this.finish(status!), DRAIN_MS);
    };
    child.stdout!.on('data', (data: Buffer) => {
      this.output.fire({ stream: 'stdout', data });
      quiet();
    });
    child.stderr!.on('data', (data: Buffer) => {
      this.output.fire({ stream: 'stderr', data });
      quiet();
    });
    child.stdin!.on('error', () => {});
    child.on('exit', (code, signal) => {
      status = statusOf(code, signal);
      quiet();
    });
    child.on('close', (code, signal) => {
      clearTimeout(drain);
      this.finish(statusOf(code, signal));
    });
  }

  private finish(status: number): void {
    if (this.exitStatus !== undefined) return;
    this.exitStatus = status;
    this.server.close();
    rmSync(this.socketPath, { force: true });
    this.exits.fire(status);
  }

  private settle(line: string, plan: LaunchPlan): Started {
    const report = line ? (JSON.parse(line.split('\n')[0]!) as { event: string; hostPid: number; containerPid: number; stage: string; errno: number; message: string }) : undefined;
    if (report?.event === 'started') return { hostPid: report.hostPid, containerPid: report.containerPid };
    if (report?.event === 'failed') {
      if (report.stage !== 'exec') throw new LaunchFailed(report.stage, report.errno, EXIT_SETUP, `${report.stage}: ${report.message} (${errnoName(report.errno)})`);
      // NOTE: as the launcher decides its exit status (and a shell would): not found, or not executable.
      const notFound = report.errno === constants.errno.ENOENT || report.errno === constants.errno.ENOTDIR;
      const what = notFound ? `${plan.argv[0]}: command not found` : `${plan.argv[0]}: cannot execute (${errnoName(report.errno)})`;
      throw new LaunchFailed('exec', report.errno, notFound ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, what);
    }
    const status = this.exitStatus ?? EXIT_SETUP;
    throw new LaunchFailed('launcher', 0, status, `the launcher exited with status ${status} before starting ${plan.argv[0]}`);
  }

  write(data: string | Buffer): void {
    if (this.term) this.term.write(typeof data === 'string' ? data : data.toString('binary'));
    else this.child?.stdin!.write(data);
  }

  /** Ends the payload's standard input (pipes only: a terminal has no end). */
  end(): void {
    this.child?.stdin!.end();
  }

  resize(rows: number, cols: number): void {
    this.term?.resize(cols, rows);
  }

  /** Signals the launcher, which relays it to the payload. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.term) this.term.kill(signal);
    else this.child?.kill(signal);
  }
}
