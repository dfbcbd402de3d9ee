// Step timings (FUSEJAIL_TRACE): each step's duration, measured back to back so that they add up.

export interface TraceStep {
  step: string;
  ms: number;
}

/** A stopwatch whose laps are named steps; the clock is the monotonic one (performance.now). */
export class Stopwatch {
  readonly steps: TraceStep[] = [];
  private last: number;

  constructor(start = performance.now()) {
    this.last = start;
  }

  /**
   * Ends the current step: it lasted from the end of the previous one until `at` (now).
   * NOTE: steps measured elsewhere (`add`) can overlap what was marked here (the supervisor
   * released a container while the CLI still printed its output); such a step lasts 0 ms, never less.
   */
  mark(step: string, at = performance.now()): void {
    this.steps.push({ step, ms: Math.max(0, at - this.last) });
    this.last = Math.max(at, this.last);
  }

  /** Steps measured elsewhere that follow on from the previous one; the next mark gets the rest. */
  add(steps: readonly TraceStep[]): void {
    for (const s of steps) {
      this.steps.push(s);
      this.last += s.ms;
    }
  }
}

/** The sum of some steps' durations. */
export const totalMs = (steps: readonly TraceStep[]): number => steps.reduce((sum, s) => sum + s.ms, 0);
