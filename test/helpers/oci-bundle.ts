// Test helper: an OCI bundle (config.json + a busybox rootfs) built from local files only.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './fuse.js';

const BUSYBOX = '/bin/busybox';

/** The capabilities runc's `spec` gives a container's process (its default set). */
export const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export interface BundleOptions {
  args?: string[];
  terminal?: boolean;
  hostname?: string;
  /** Merged over the generated config.json, key by key at the top level. */
  override?: Record<string, unknown>;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  config: Record<string, unknown>;
  /** Rewrites config.json (after changing `config`). */
  save(): void;
}

/** A rootfs holding Debian's static busybox and a link for each of its applets. */
export function busyboxRootfs(dir: string): string {
  for (const sub of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'root']) mkdirSync(join(dir, sub), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnobody:x:65534:\n');
  return dir;
}

/** The config runc's `spec` writes for a root container, with `args`. */
export function defaultConfig(options: BundleOptions = {}): Record<string, unknown> {
  const caps = DEFAULT_CAPABILITIES;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: options.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args: options.args ?? ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: options.hostname ?? 'oci-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
    ...options.override,
  };
}

/** A bundle in a new temporary directory, removed at teardown. */
export function bundle(t: { teardown(fn: () => unknown): void }, options: BundleOptions = {}): Bundle {
  const dir = tempDir('bundle');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = busyboxRootfs(join(dir, 'rootfs'));
  const config = defaultConfig(options);
  const save = () => writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  save();
  return { dir, rootfs, config, save };
}
