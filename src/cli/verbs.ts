// The verbs and their modules, loaded on demand: a run of one verb loads only that verb's code.

/** Each verb's module, in the order --help lists them. */
export const VERBS: Record<string, () => Promise<unknown>> = {
  run: () => import('./commands/run.js'),
  exec: () => import('./commands/exec.js'),
  ls: () => import('./commands/ls.js'),
  ps: () => import('./commands/ps.js'),
  kill: () => import('./commands/kill.js'),
  rm: () => import('./commands/rm.js'),
  root: () => import('./commands/root.js'),
  hostname: () => import('./commands/hostname.js'),
  mounts: () => import('./commands/mounts.js'),
  mount: () => import('./commands/mount.js'),
  expose: () => import('./commands/expose.js'),
  events: () => import('./commands/events.js'),
  stats: () => import('./commands/stats.js'),
  serve: () => import('./commands/serve.js'),
  unshare: () => import('./commands/unshare.js'),
  resources: () => import('./commands/resources.js'),
  daemon: () => import('./commands/daemon.js'),
};

/** The verb named on the command line (none has a global option before it), or every verb. */
export function verbsFor(args: readonly string[]): string[] {
  const first = args.find((a) => !a.startsWith('-'));
  return first !== undefined && Object.hasOwn(VERBS, first) ? [first] : Object.keys(VERBS);
}
