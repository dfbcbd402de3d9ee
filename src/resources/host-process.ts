// A host process the supervisor did not start (an OCI container's init), known by PID and start time.
import { readFileSync } from 'node:fs';
import { Emitter, type IDisposable, type IEvent } from '../event.js';

/** How often watched processes are looked at: `ls` and `events` are for people, not for reaping. */
const POLL_MS = 500;

/**
 * Its start time (field 22 of /proc/PID/stat, in clock ticks since boot) and whether it is a
 * zombie, or undefined when there is no such process. NOTE: the command name (field 2) may hold
 * spaces and parentheses, so the fields are counted after its last ")".
 */
function statOf(pid: number): { start: string; zombie: boolean } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { start: fields[19]!, zombie: fields[0] === 'Z' };
}

const watched = new Set<HostProcess>();
let timer: NodeJS.Timeout | undefined;

function poll(): void {
  for (const p of watched) p.check();
  if (watched.size === 0 && timer) {
    clearInterval(timer);
    timer = undefined;
  }
}

/**
 * NOTE: the supervisor is not its parent (conmon or containerd's shim is, and reaps it), so it
 * cannot wait for it and never learns its exit status; Node has no pidfd. It is looked at every
 * POLL_MS, and also whenever someone asks, by PID *and* start time: a PID reused by another
 * process is not mistaken for it. A zombie has ended.
 */
export class HostProcess {
  private gone = false;
  private readonly ends = new Emitter<void>();
  /** Fired once, when it is seen to have ended. */
  readonly onEnd: IEvent<void> = this.ends.event;

  private constructor(
    readonly pid: number,
    private readonly start: string,
  ) {}

  /** The live process with this PID now, or undefined when there is none (or it is a zombie). */
  static find(pid: number): HostProcess | undefined {
    const stat = statOf(pid);
    return stat && !stat.zombie ? new HostProcess(pid, stat.start) : undefined;
  }

  get alive(): boolean {
    this.check();
    return !this.gone;
  }

  /** Looks at it until it ends (or the watch is disposed). */
  watch(): IDisposable {
    watched.add(this);
    timer ??= setInterval(poll, POLL_MS).unref();
    return { dispose: () => watched.delete(this) };
  }

  check(): void {
    if (this.gone) return;
    const stat = statOf(this.pid);
    if (stat && !stat.zombie && stat.start === this.start) return;
    this.gone = true;
    watched.delete(this);
    this.ends.fire();
  }
}
