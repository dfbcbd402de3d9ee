// An attached process (run or exec): its output to our stdout/stderr, our input and window size to it.
import { Connection, SupervisorError } from './connection.js';
import type { ProcessSpec, ResourceType, StreamEvent } from '../protocol/messages.js';
import type { Stopwatch, TraceStep } from '../trace.js';
import { addRemote, markBefore, printTrace } from './trace.js';

type RunRequest = { config: Record<string, unknown>; process: ProcessSpec; name?: string; attach: Partial<Record<ResourceType, number>> };

/**
 * `interactive`: our stdin goes to the process; otherwise it reads end-of-file at once.
 * `workdirFlag`: the working directory came from -w (errors then name the flag).
 */
export type AttachRequest = (({ op: 'run' } & RunRequest) | { op: 'exec'; container: string; process: ProcessSpec }) & { tty: boolean; interactive: boolean; workdirFlag?: boolean };

/** A detached container: started, named, left running. */
export async function runDetached(request: RunRequest, trace?: Stopwatch): Promise<{ name: string; hostPid: number; containerPid: number }> {
  const connection = await Connection.open({ start: true });
  trace?.mark('connect');
  try {
    const started = (await connection.request('run', { ...request, terminal: null, detach: true })) as { name: string; hostPid: number; containerPid: number; trace?: TraceStep[] };
    addRemote(trace, started.trace);
    return started;
  } finally {
    connection.close();
  }
}

/** Resolves with the status to exit with: the payload's, or 125/126/127. */
export async function attach(request: AttachRequest, trace?: Stopwatch): Promise<number> {
  const connection = await Connection.open({ start: true });
  trace?.mark('connect');
  // NOTE: output may overtake the "started" event; its first byte then counts from the start.
  let started = false;
  let firstByte: 'none' | 'early' | 'seen' = 'none';
  const stdin = process.stdin;
  const terminal = request.tty && stdin.isTTY ? { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 } : request.tty ? { rows: 24, cols: 80 } : null;
  let restore = () => {};
  let waiting = false;
  const exited = new Promise<number>((resolve, reject) => {
    const onEvent = (event: StreamEvent) => {
      if (event.event === 'started') {
        started = true;
        addRemote(trace, event.trace);
        if (firstByte === 'early') trace?.mark('first byte');
      }
      if (event.event === 'data' && firstByte === 'none') {
        firstByte = started ? 'seen' : 'early';
        if (started) trace?.mark('first byte');
      }
      if (event.event === 'data') {
        // NOTE: backpressure: while our stdout or stderr is behind, the supervisor's socket is not
        // read, so it pauses the process (the output is never held here unbounded).
        const out = event.stream === 'stderr' ? process.stderr : process.stdout;
        if (!out.write(Buffer.from(event.data, 'base64')) && !waiting) {
          waiting = true;
          connection.pause();
          out.once('drain', () => {
            waiting = false;
            connection.resume();
          });
        }
      } else if (event.event === 'exit') {
        // NOTE: the supervisor released the container before it sent the exit.
        markBefore(trace, 'payload', event.trace);
        // NOTE: why it ended, when the payload could not say it itself (the OOM killer).
        if (event.reason) process.stderr.write(`fusejail: ${event.reason}\n`);
        resolve(event.status);
      }
    };
    const { id, refused } =
      request.op === 'run'
        ? connection.stream('run', { config: request.config, process: request.process, terminal, detach: false, attach: request.attach, ...(request.name ? { name: request.name } : {}) }, onEvent)
        : connection.stream('exec', { container: request.container, process: request.process, terminal }, onEvent);
    refused.catch(reject);
    // NOTE: raw mode so that every key (Ctrl-C too) reaches the container; restored on every exit path.
    if (terminal && stdin.isTTY) {
      stdin.setRawMode(true);
      restore = () => stdin.isTTY && stdin.setRawMode(false);
      process.once('exit', restore);
      const onResize = () => connection.send('resize', { rows: process.stdout.rows, cols: process.stdout.columns }, id);
      process.stdout.on('resize', onResize);
    }
    if (request.interactive) {
      stdin.on('data', (data: Buffer) => connection.send('input', { data: data.toString('base64') }, id));
      stdin.on('end', () => connection.send('eof', {}, id));
    } else {
      connection.send('eof', {}, id);
    }
    if (!terminal) {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => connection.send('signal', { signal }, id));
    }
  });
  try {
    return await exited;
  } catch (err) {
    if (err instanceof SupervisorError && err.status !== undefined) {
      // NOTE: the supervisor names the directory; the CLI knows whether it came from -w.
      const message = err.code === 'BAD_WORKDIR' && request.workdirFlag ? err.message.replace(/^working directory/, '-w') : err.message;
      process.stderr.write(`fusejail: ${message}\n`);
      return err.status;
    }
    throw err;
  } finally {
    restore();
    stdin.pause();
    stdin.destroy();
    connection.close();
    printTrace(trace);
  }
}
