// Exit statuses of a launch (DESIGN §4), and what they mean in words.
import { constants } from 'node:os';

export const EXIT_SETUP = 125;
export const EXIT_CANNOT_EXEC = 126;
export const EXIT_NOT_FOUND = 127;

/** The status a shell would report: the exit code, or 128 + the signal that killed the process. */
export function statusOf(code: number | null, signal: NodeJS.Signals | number | null): number {
  if (code !== null) return code;
  if (typeof signal === 'number') return 128 + signal;
  return 128 + (signal ? constants.signals[signal] : 0);
}
