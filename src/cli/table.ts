// Aligned columns for people; the last column runs free.
import { formatBytes } from '../resources/cgroup.js';

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((row) => row.map((c, i) => (i < row.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n') + '\n';
}

/** A list for scripts (`--json`) or for people (aligned columns). */
export function printList<T>(json: boolean, list: T[], header: string[], row: (item: T) => string[]): void {
  process.stdout.write(json ? `${JSON.stringify(list, null, 2)}\n` : table(header, list.map(row)));
}

/** "4096 processes, 64 MiB of memory, 0.5 CPUs"; "none" without a limit. */
export function describeLimits(l: { maxProcesses?: number; memory?: number; cpus?: number }): string {
  const parts = [
    ...(l.maxProcesses !== undefined ? [`${l.maxProcesses} processes`] : []),
    ...(l.memory !== undefined ? [`${formatBytes(l.memory)} of memory`] : []),
    ...(l.cpus !== undefined ? [`${l.cpus} CPUs`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : 'none';
}
