// FUSEJAIL_TRACE=1 or --trace: the CLI's stopwatch from its own start, and one stderr line per step.
import { Stopwatch, type TraceStep, totalMs } from '../trace.js';

/** A stopwatch whose first step is the CLI's start (Node's, up to the verb), or none when not tracing. */
export function startTrace(flag: boolean | undefined): Stopwatch | undefined {
  if (!flag && process.env.FUSEJAIL_TRACE !== '1') return undefined;
  // NOTE: performance.now() counts from the process's start, so the first lap is Node's startup too.
  const trace = new Stopwatch(0);
  trace.mark('cli start');
  return trace;
}

/** The supervisor's own steps, then what is left of the wait since our last step: the transport. */
export function addRemote(trace: Stopwatch | undefined, steps: readonly TraceStep[] | undefined): void {
  if (!trace) return;
  trace.add(steps ?? []);
  trace.mark('transport');
}

/** `at` minus the steps that ended it (they are added after): the step before them ends there. */
export function markBefore(trace: Stopwatch | undefined, step: string, after: readonly TraceStep[] | undefined): void {
  if (!trace) return;
  trace.mark(step, performance.now() - totalMs(after ?? []));
  trace.add(after ?? []);
}

/** Ends the last step ("exit": what the CLI did after the answer) and prints them all. */
export function printTrace(trace: Stopwatch | undefined): void {
  if (!trace) return;
  trace.mark('exit');
  for (const s of trace.steps) process.stderr.write(`fusejail: trace: ${s.step} ${s.ms.toFixed(1)} ms\n`);
}
