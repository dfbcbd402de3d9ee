// Starts the native launcher under a pty (interactive) or on pipes (scripts) and follows it.
import { type ChildProcess, spawn as spawnChild } from 'node:child_process';
import { rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { FusejailError } from '../errors.js';
import type { TraceStep } from '../trace.js';
import { Emitter, type IEvent } from '../event.js';
import { EndMarker } from './end-marker.js';
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
    super(stage === 'exec' ? (exitStatus === EXIT_NOT_FOUND ? 'NOT_FOUND' : 'CANNOT_EXEC') : stage === 'chdir' ? 'BAD_WORKDIR' : 'LAUNCH_FAILED', message);
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
  /** From this Launch's creation to the launcher's report: the sync socket, each launcher stage. */
  trace: TraceStep[];
}

let sequence = 0;

/** The status for a launch refused because of its caller's input (a bad working directory). */
const EXIT_BAD_INPUT = 1;

function workdirProblem(errno: number): string {
  if (errno === constants.errno.ENOENT) return 'no such directory in the container';
  if (errno === constants.errno.ENOTDIR) return 'not a directory in the container';
  if (errno === constants.errno.EXDEV) return 'leads outside the container';
  return `cannot be entered (${errnoName(errno)})`;
}

const errnoName = (n: number): string => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

/**
 * How long the pipes must stay quiet before the exit is reported anyway, when something the
 * payload left running in the background keeps them open (no EOF will come). With nothing left
 * behind, EOF ends the wait at once.
 */
const DRAIN_MS = 1000;

/** How long after the launcher's exit its report may still be read from the socket. */
const REPORT_GRACE_MS = 500;

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
  private server!: Server;
  private readonly socketPath: string;
  private term: pty.IPty | undefined;
  private readonly endMarker = new EndMarker();
  private child: ChildProcess | undefined;
  private paused = false;

  /** process.hrtime.bigint() (CLOCK_MONOTONIC, as the launcher's stamps) at creation and at spawn. */
  private readonly createdAt = process.hrtime.bigint();
  private spawnedAt = 0n;

  constructor(plan: LaunchPlan, stdio: Stdio) {
    this.socketPath = join(tmpdir(), `fusejail-launch-${process.pid}-${++sequence}.sock`);
    let first = '';
    // NOTE: the plan (host paths, the end marker's nonce) goes only over this socket, never in the
    // launcher's environment, which a container's process could read before exec.
    const planLine = `${JSON.stringify({ ...plan, tty: stdio.kind === 'pty', ...(stdio.kind === 'pty' ? { rows: stdio.rows, cols: stdio.cols, nonce: this.endMarker.nonce } : {}) })}\n`;
    const reported = new Promise<string>((resolve) => {
      this.server = createServer((c: Socket) => {
        // NOTE: one launcher, one connection: the plan is given once.
        this.server.close();
        c.write(planLine);
        let buffered = '';
        c.on('data', (d) => {
          buffered += d.toString();
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.includes('"exited"')) this.acknowledgeWhenDrained(c);
            else resolve((first = line));
          }
        });
        c.on('error', () => {});
        c.on('end', () => resolve(first));
      });
    });
    const env = { FUSEJAIL_SYNC: this.socketPath };
    const listening = new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    const exited = new Promise<number>((resolve) => this.exits.event(resolve));
    this.started = listening.then(() => {
      this.spawn(stdio, env);
      // NOTE: the launcher reports, then exits; Node may see the exit before it reads the report,
      // which is already in the socket buffer: an exit only ends the wait after a grace period.
      const afterExit = exited.then(() => new Promise<string>((resolve) => setTimeout(() => resolve(first), REPORT_GRACE_MS)));
      return Promise.race([reported, afterExit]);
    }).then((line) => this.settle(line, plan));
  }

  private spawn(stdio: Stdio, env: Record<string, string>): void {
    this.spawnedAt = process.hrtime.bigint();
    if (stdio.kind === 'pty') {
      // NOTE: the launcher sets the window size again before exec and closes every fd >= 3, which
      // node-pty 1.1 would otherwise leak from other terminals into the container.
      const term = pty.spawn(launcherProgram, ['launch'], { name: 'xterm-256color', cols: stdio.cols, rows: stdio.rows, env, encoding: null });
      this.term = term;
      term.onData((data) => {
        const out = this.endMarker.filter(Buffer.from(data as unknown as Uint8Array));
        if (out.length > 0) this.output.fire({ stream: 'stdout', data: out });
      });
      term.onExit(({ exitCode, signal }) => this.finish(statusOf(signal ? null : exitCode, signal || null)));
      return;
    }
    const child = spawnChild(launcherProgram, ['launch'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    // NOTE: the exit is reported after the payload's last byte: when the pipes close (EOF), or,
    // when something it left running in the background still holds them, once they are quiet.
    let drain: NodeJS.Timeout | undefined;
    let status: number | undefined;
    const quiet = () => {
      if (status === undefined) return;
      clearTimeout(drain);
      // NOTE: paused pipes are quiet because we do not read them, not because nothing is left.
      drain = setTimeout(() => (this.paused ? quiet() : this.finish(status!)), DRAIN_MS);
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

  /** With a terminal, the launcher waits after its exit report until we have seen its end marker. */
  private acknowledgeWhenDrained(connection: Socket): void {
    void this.endMarker.seen.then(() => connection.end('k'));
  }

  private finish(status: number): void {
    if (this.exitStatus !== undefined) return;
    this.exitStatus = status;
    this.server.close();
    rmSync(this.socketPath, { force: true });
    this.exits.fire(status);
  }

  private settle(line: string, plan: LaunchPlan): Started {
    const report = line ? (JSON.parse(line.split('\n')[0]!) as { event: string; hostPid: number; containerPid: number; stages?: [string, number][]; stage: string; errno: number; message: string }) : undefined;
    if (report?.event === 'started') return { hostPid: report.hostPid, containerPid: report.containerPid, trace: this.trace(report.stages ?? []) };
    if (report?.event === 'failed') {
      // NOTE: a working directory that is missing, not a directory or outside is the caller's input: exit 1.
      if (report.stage === 'chdir') throw new LaunchFailed('chdir', report.errno, EXIT_BAD_INPUT, `working directory ${JSON.stringify(plan.cwd)}: ${workdirProblem(report.errno)}`);
      if (report.stage !== 'exec') throw new LaunchFailed(report.stage, report.errno, EXIT_SETUP, `${report.stage}: ${report.message} (${errnoName(report.errno)})`);
      // NOTE: as the launcher decides its exit status (and a shell would): not found, or not executable.
      const notFound = report.errno === constants.errno.ENOENT || report.errno === constants.errno.ENOTDIR;
      const what = notFound ? `${plan.argv[0]}: command not found` : `${plan.argv[0]}: cannot execute (${errnoName(report.errno)})`;
      throw new LaunchFailed('exec', report.errno, notFound ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, what);
    }
    const status = this.exitStatus ?? EXIT_SETUP;
    throw new LaunchFailed('launcher', 0, status, `the launcher exited with status ${status} before starting ${plan.argv[0]}`);
  }

  /**
   * Stops reading its output until `resume` (the reader is behind): the pty or the pipes fill, and
   * the payload waits in write(2). Nothing is dropped.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.term?.pause();
    this.child?.stdout!.pause();
    this.child?.stderr!.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.term?.resume();
    this.child?.stdout!.resume();
    this.child?.stderr!.resume();
  }

  /** Each stage's duration: from the end of the one before (the first from the spawn). */
  private trace(stages: readonly [string, number][]): TraceStep[] {
    const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
    const steps: TraceStep[] = [{ step: 'launch: sync socket', ms: ms(this.createdAt, this.spawnedAt) }];
    let last = this.spawnedAt;
    for (const [step, ns] of stages) {
      const at = BigInt(ns);
      steps.push({ step, ms: ms(last, at) });
      last = at;
    }
    steps.push({ step: 'launch: report', ms: ms(last, process.hrtime.bigint()) });
    return steps;
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
    if (this.exitStatus !== undefined) return;
    try {
      if (this.term) this.term.kill(signal);
      else this.child?.kill(signal);
    } catch {
      // NOTE: it exited between our check and the signal (ESRCH): nothing left to signal.
    }
  }
}
