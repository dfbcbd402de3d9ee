// Runs a context in the foreground for `fusejail serve`, relaying stop signals to it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// NOTE: the CLI never imports the supervisor's code: it runs the supervisor's foreground serve
// program as a child process, which starts the context server.
const serverProgram = fileURLToPath(new URL('../supervisor/serve.js', import.meta.url));

export interface ServeRequest {
  config: string;
  mountpoint: string;
  mkdir: boolean;
}

/** Resolves with the server's exit status once it has unmounted and exited. */
export function serve(request: ServeRequest): Promise<number> {
  const args = [serverProgram, '--config', request.config, '--mountpoint', request.mountpoint];
  if (request.mkdir) args.push('--mkdir');
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  const relay = (signal: NodeJS.Signals) => () => child.kill(signal);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, relay(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? 128 + (signal ? osSignal(signal) : 0));
    });
  });
}

function osSignal(name: NodeJS.Signals): number {
  const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return signals[name] ?? 0;
}
