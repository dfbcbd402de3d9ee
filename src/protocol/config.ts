// Reads a container config into an immutable ContainerConfig, or one error naming file, path, value.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigInvalid } from '../errors.js';
import { canonicalPath } from './canonical-path.js';
import { configSchema, FS_TYPE_NAMES, fsKind, SERENITY_FS_TYPE_NAMES } from './config-schema.js';

/** One step of building a root filesystem, in layout order (SerenityOS's layout entry types). */
export type LayoutOp =
  | { readonly op: 'root'; readonly kind: 'ramfs'; readonly size?: number }
  | { readonly op: 'root'; readonly kind: 'bind'; readonly source: string; readonly readOnly: boolean }
  | { readonly op: 'directory'; readonly target: string; readonly mode: number }
  | { readonly op: 'copy'; readonly source: string; readonly target: string }
  | { readonly op: 'symlink'; readonly path: string; readonly target: string }
  | { readonly op: 'hide'; readonly path: string }
  | { readonly op: 'mount'; readonly kind: 'ramfs'; readonly target: string; readonly readOnly: boolean; readonly size?: number }
  | { readonly op: 'mount'; readonly kind: 'proc' | 'sys' | 'devpts'; readonly target: string; readonly readOnly: boolean }
  | { readonly op: 'mount'; readonly kind: 'bind'; readonly source: string; readonly target: string; readonly readOnly: boolean };

/** The layout entries that make a mount (and what `mount add` sends to a running context). */
export type MountOp = Exclude<LayoutOp, { op: 'root' | 'directory' | 'hide' }>;

/**
 * Where a container's network is: a namespace of its own with only lo (`none`), the host's stack
 * (`host`), or the namespace of another, running, container (`container:NAME`).
 */
/** A port of the host forwarded to one inside (`--publish HOST:CONTAINER[/udp]`). */
export interface Publish {
  readonly host: number;
  readonly container: number;
  readonly protocol: 'tcp' | 'udp';
}

export type Network =
  | { readonly mode: 'none' }
  | { readonly mode: 'host' }
  | { readonly mode: 'container'; readonly name: string }
  /** A namespace of its own with user-mode NAT to the host's network (pasta), and published ports. */
  | { readonly mode: 'private'; readonly publish: readonly Publish[] };

/** "none", "host", "private", "container:NAME", or why not (the caller names the value and where it came from). */
export function parseNetwork(value: string): Network | { problem: string } {
  if (value === 'none' || value === 'host') return { mode: value };
  if (value === 'private') return { mode: 'private', publish: [] };
  if (value.startsWith('container:') && value.length > 'container:'.length) return { mode: 'container', name: value.slice('container:'.length) };
  return { problem: 'not a network mode (expected none, host, private or container:NAME)' };
}

/** "8080:80" or "5353:53/udp": a host port forwarded to a container port, or why not. */
export function parsePublish(value: string): Publish | { problem: string } {
  const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(value);
  if (!m) return { problem: 'expected HOST_PORT:CONTAINER_PORT, optionally followed by /udp or /tcp' };
  const [host, container] = [Number(m[1]), Number(m[2])];
  if (![host, container].every((p) => Number.isInteger(p) && p >= 1 && p <= 65535)) return { problem: 'ports are 1 to 65535' };
  return { host, container, protocol: (m[3] ?? 'tcp') as 'tcp' | 'udp' };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, K: 2 ** 10, m: 2 ** 20, M: 2 ** 20, g: 2 ** 30, G: 2 ** 30 };
const NOT_A_SIZE = 'not a size (use a number with an optional k, M or G suffix)';

/** "64M" -> 67108864 (binary units), or why not. A limit of 0 would kill everything at once, so it is refused. */
export function parseSize(value: string | number): number | { problem: string } {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(String(value));
  if (!m) return { problem: NOT_A_SIZE };
  const bytes = Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!]!);
  if (!Number.isSafeInteger(bytes)) return { problem: NOT_A_SIZE };
  if (bytes < 1) return { problem: 'must be more than 0 bytes' };
  return bytes;
}

/** A number of CPUs, fractions allowed ("0.5"), or why not. */
export function parseCpus(value: string | number): number | { problem: string } {
  const n = typeof value === 'number' ? value : /^\d+(\.\d+)?$|^\.\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) return { problem: 'expected a number of CPUs above 0 (fractions allowed, e.g. 0.5)' };
  return n;
}

/** A user namespace's ids (container 0..65535: root, the system users and the usual first users, as podman maps them). */
export const USERNS_SIZE = 65536;

/** Why a container user's ids cannot all be had in a user namespace, if so. */
export function outsideUserNamespace(user: { uid: number; gid?: number; groups?: readonly number[] }): string | undefined {
  const bad = [user.uid, ...(user.gid !== undefined ? [user.gid] : []), ...(user.groups ?? [])].find((id) => id >= USERNS_SIZE);
  return bad === undefined ? undefined : `${bad} is outside the user namespace's ids 0-${USERNS_SIZE - 1}`;
}

/** "uid 131072-196607, gid 131072-196607": the host ids a user namespace's map stands for. */
export function describeIdMap(map: { uid: number; gid: number; size: number }): string {
  const range = (start: number) => `${start}-${start + map.size - 1}`;
  return `uid ${range(map.uid)}, gid ${range(map.gid)}`;
}

export interface ContainerConfig {
  readonly jail: boolean;
  readonly pidIsolation: boolean;
  /** Absent when the config names no command (the user's shell runs). */
  readonly command?: readonly string[];
  readonly hostname: string | null;
  readonly layout: readonly LayoutOp[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly user?: { uid: number; gid?: number };
  readonly maxProcesses?: number;
  /** A memory limit, in bytes. */
  readonly memory?: number;
  /** A CPU limit, in CPUs (0.5: half of one). */
  readonly cpus?: number;
  readonly execAllow?: readonly string[];
  /** Absent in the file: `none` when jailed, else `host`. */
  readonly network: Network;
  /** Container ids 0..65535 are an unprivileged host range (the "fusejail" subordinate ids): container root is not host root. */
  readonly userNamespace: boolean;
}

type RawEntry = Record<string, unknown> & { type: string };
interface RawConfig {
  jail?: boolean;
  'pid-isolation'?: boolean;
  command?: string | string[];
  hostname: string | null;
  layout: RawEntry[];
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  max_processes?: number;
  memory?: string | number;
  cpus?: number;
  exec_allow?: string[];
  network?: string;
  publish?: string[];
  user_namespace?: boolean;
}

// NOTE: compiled on first use: most commands never read a config, and compiling costs ~40 ms.
let compiled: ReturnType<Ajv['compile']> | undefined;
const validator = () => (compiled ??= new Ajv({ discriminator: true, allErrors: false, strict: false }).compile(configSchema));

const LAYOUT_TYPES = ['root_mount', 'directory', 'copy_custom', 'copy_original', 'symlink', 'mount', 'bindmount', 'hide'];

/** "/layout/3/target" -> "layout[3].target" */
function jsonPath(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : out === '' ? key : `.${key}`;
  }
  return out || '(top level)';
}

function describe(error: ErrorObject, data: unknown): string {
  const at = jsonPath(error.instancePath);
  const value = error.instancePath
    .split('/')
    .slice(1)
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k.replace(/~1/g, '/')], data);
  const shown = JSON.stringify(value);
  switch (error.keyword) {
    case 'required':
      return `${at === '(top level)' ? '' : `${at}: `}missing key "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties':
      return `${at}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    case 'discriminator': {
      const tag = (error.params as { tag: string; tagValue: unknown }).tagValue;
      if (tag === 'copy_executable') return `${at}.type: "copy_executable" (SerenityOS's copy of a program with its libraries) is not supported; bind the host's /usr read-only, or copy_original the program and each library`;
      return `${at}.type: ${JSON.stringify(tag)} is not a layout type (expected one of ${LAYOUT_TYPES.join(', ')})`;
    }
    case 'minItems':
      if (at === 'layout') return 'layout: is empty (SerenityOS runc then keeps the caller\'s root; a fusejail container always gets its own, so describe it, e.g. as in examples/default.json)';
      return `${at}: ${shown} ${error.message ?? 'is too short'}`;
    case 'type':
      return `${at}: expected ${(error.params as { type: string | string[] }).type.toString().replace(',', ' or ')}, got ${shown}`;
    case 'const':
      return `${at}: expected ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}, got ${shown}`;
    case 'enum':
      if (at.endsWith('.fs_type') && (error.params as { allowedValues: unknown[] }).allowedValues.includes('bind')) {
        const names = (o: object) => Object.keys(o).map((v) => JSON.stringify(v)).join(', ');
        return `${at}: expected one of ${names(FS_TYPE_NAMES)} (or SerenityOS's ${names(SERENITY_FS_TYPE_NAMES)}), got ${shown}`;
      }
      return `${at}: expected one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}, got ${shown}`;
    default:
      return `${at}: ${shown} ${error.message ?? 'is invalid'}`;
  }
}

function canonical(file: string, at: string, value: string): string {
  const check = canonicalPath(value, 'drop');
  if (!check.ok) throw new ConfigInvalid(`${file}: ${at}: ${JSON.stringify(value)} is not an absolute canonical path (it ${check.reason})`);
  return check.path;
}

function hostSource(file: string, at: string, value: string): string {
  const path = canonical(file, at, value);
  try {
    statSync(path);
  } catch {
    throw new ConfigInvalid(`${file}: ${at}: ${JSON.stringify(value)} does not exist on the host`);
  }
  return path;
}

// NOTE: RFC 1123 labels; sethostname(2) takes at most 64 bytes.
export function hostnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (Buffer.byteLength(name) > 64) return 'is longer than 64 bytes';
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(name)) {
    return 'may contain only letters, digits, "-" and "." (each label starting and ending with a letter or digit)';
  }
  return undefined;
}

/** A RAMFS's `size`, when given: anything else is refused, naming the entry. */
function ramfsSize(file: string, raw: RawEntry, i: number, isRamfs: boolean): { size?: number } {
  if (raw.size === undefined) return {};
  if (!isRamfs) throw new ConfigInvalid(`${file}: layout[${i}].size: only a RAMFS has a size`);
  const size = parseSize(raw.size as string | number);
  if (typeof size === 'object') throw new ConfigInvalid(`${file}: layout[${i}].size: ${JSON.stringify(raw.size)}: ${size.problem}`);
  return { size };
}

function layoutOp(file: string, raw: RawEntry, i: number): LayoutOp[] {
  const at = (key: string) => `layout[${i}].${key}`;
  const str = (key: string) => raw[key] as string;
  switch (raw.type) {
    case 'root_mount':
      if (i !== 0) throw new ConfigInvalid(`${file}: layout[${i}]: root_mount must be the first layout entry`);
      // NOTE: SerenityOS writes fs_type "RAMFS" with source null or "none"; a host source alone is ours.
      if (raw.source === undefined || raw.source === null || (raw.fs_type !== undefined && raw.source === 'none')) return [{ op: 'root', kind: 'ramfs', ...ramfsSize(file, raw, i, true) }];
      ramfsSize(file, raw, i, false);
      if (raw.fs_type !== undefined) throw new ConfigInvalid(`${file}: layout[0]: give either fs_type "RAMFS" or a host source, not both`);
      return [{ op: 'root', kind: 'bind', source: hostSource(file, at('source'), str('source')), readOnly: raw.read_only === true }];
    case 'directory': {
      const mode = raw.mode === undefined ? 0o700 : parseInt(str('mode'), 8);
      return [{ op: 'directory', target: canonical(file, at('target'), str('target')), mode }];
    }
    case 'copy_custom':
      return [{ op: 'copy', source: hostSource(file, at('source'), str('source')), target: canonical(file, at('target'), str('target')) }];
    case 'copy_original':
      return (raw.sources as string[]).map((s, j) => {
        const source = hostSource(file, `layout[${i}].sources[${j}]`, s);
        return { op: 'copy', source, target: source } as const;
      });
    case 'symlink':
      return [{ op: 'symlink', path: canonical(file, at('path'), str('path')), target: str('target') }];
    case 'hide':
      return [{ op: 'hide', path: canonical(file, at('path'), str('path')) }];
    case 'bindmount':
      return [{ op: 'mount', kind: 'bind', source: hostSource(file, at('source'), str('source')), target: canonical(file, at('target'), str('target')), readOnly: false }];
    case 'mount': {
      const kind = fsKind(str('fs_type'));
      const target = canonical(file, at('target'), str('target'));
      const readOnly = raw.read_only === true || kind === 'sys';
      if (kind === 'bind') {
        if (typeof raw.source !== 'string') throw new ConfigInvalid(`${file}: ${at('source')}: missing key "source" (a bind mount needs a host path)`);
        ramfsSize(file, raw, i, false);
        return [{ op: 'mount', kind, source: hostSource(file, at('source'), str('source')), target, readOnly }];
      }
      if (kind === 'ramfs') return [{ op: 'mount', kind, target, readOnly, ...ramfsSize(file, raw, i, true) }];
      ramfsSize(file, raw, i, false);
      return [{ op: 'mount', kind, target, readOnly }];
    }
    default:
      throw new ConfigInvalid(`${file}: layout[${i}].type: ${JSON.stringify(raw.type)} is not a layout type`);
  }
}

const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';
const within = (path: string, target: string) => target === '/' || path === target || path.startsWith(`${target}/`);

function isHostDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A `directory` entry makes one level, as SerenityOS's mkdir does: its parent must be there when
 * the entry runs: made by an earlier entry, on the way to a mount, or in a host tree that shows
 * through. Below a symlink it cannot be told here, and is left to the build.
 * NOTE: checked here so that a bad layout is refused before anything is created.
 */
function checkDirectoryParents(file: string, entries: readonly RawEntry[], ops: readonly LayoutOp[][]): void {
  const made = new Set<string>(['/']);
  const mounts: { target: string; host?: string }[] = [];
  const links: string[] = [];
  const shows = (dir: string): boolean => {
    if (made.has(dir) || links.some((l) => within(dir, l))) return true;
    if (mounts.some((m) => m.target !== '/' && within(m.target, dir))) return true;
    const under = mounts.filter((m) => within(dir, m.target)).sort((a, b) => b.target.length - a.target.length)[0];
    return under?.host !== undefined && isHostDirectory(join(under.host, dir.slice(under.target.length)));
  };
  ops.forEach((list, i) => {
    for (const op of list) {
      if (op.op === 'directory') {
        const parent = parentOf(op.target);
        if (!shows(parent)) throw new ConfigInvalid(`${file}: layout[${i}].target: ${JSON.stringify(entries[i]!.target)} needs its parent ${parent} first (a directory entry makes one level)`);
        made.add(op.target);
      } else if (op.op === 'symlink') links.push(op.path);
      else if (op.op === 'root') {
        if (op.kind === 'bind') mounts.push({ target: '/', host: op.source });
      } else if (op.op !== 'hide') mounts.push({ target: op.target, ...(op.op === 'copy' || op.kind === 'bind' ? { host: op.source } : {}) });
    }
  });
}

/** Validates everything before returning; nothing on the system is touched but stat(2) of sources. */
export function parseConfig(text: string, file: string): ContainerConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ConfigInvalid(`${file}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  const validate = validator();
  if (!validate(data)) throw new ConfigInvalid(`${file}: ${describe(validate.errors![0]!, data)}`);
  const raw = data as RawConfig;
  const ops = raw.layout.map((entry, i) => layoutOp(file, entry, i));
  checkDirectoryParents(file, raw.layout, ops);
  const layout = ops.flat();
  const targets = new Map<string, number>();
  raw.layout.forEach((entry, i) => {
    const t = (entry.type === 'symlink' ? entry.path : entry.target) as string | undefined;
    if (entry.type === 'directory' || entry.type === 'hide' || t === undefined) return;
    const path = canonicalPath(t, 'drop');
    if (!path.ok) return;
    const seen = targets.get(path.path);
    if (seen !== undefined) throw new ConfigInvalid(`${file}: layout[${i}].target: ${JSON.stringify(t)} is already used by layout[${seen}]`);
    targets.set(path.path, i);
  });
  if (raw.hostname !== null) {
    const problem = hostnameProblem(raw.hostname);
    if (problem) throw new ConfigInvalid(`${file}: hostname: ${JSON.stringify(raw.hostname)} ${problem}`);
  }
  if (raw.jail && layout.some((op) => op.op === 'mount' && op.kind === 'sys')) {
    throw new ConfigInvalid(`${file}: layout: a SysFS mount is refused in a jailed container`);
  }
  // NOTE: a jailed container gets no network unless it asks: a sandboxed program should not reach
  // the host's services (or its abstract Unix sockets) by default.
  const parsed = parseNetwork(raw.network ?? (raw.jail ? 'none' : 'host'));
  if ('problem' in parsed) throw new ConfigInvalid(`${file}: network: ${JSON.stringify(raw.network)}: ${parsed.problem}`);
  const publish = (raw.publish ?? []).map((p, j) => {
    const port = parsePublish(p);
    if ('problem' in port) throw new ConfigInvalid(`${file}: publish[${j}]: ${JSON.stringify(p)}: ${port.problem}`);
    return port;
  });
  if (publish.length > 0 && parsed.mode !== 'private') throw new ConfigInvalid(`${file}: publish: ports can only be published with "network": "private"`);
  const network: Network = parsed.mode === 'private' ? { mode: 'private', publish: Object.freeze(publish) } : parsed;
  const memory = raw.memory === undefined ? undefined : parseSize(raw.memory);
  if (typeof memory === 'object') throw new ConfigInvalid(`${file}: memory: ${JSON.stringify(raw.memory)}: ${memory.problem}`);
  const cpus = raw.cpus === undefined ? undefined : parseCpus(raw.cpus);
  if (typeof cpus === 'object') throw new ConfigInvalid(`${file}: cpus: ${JSON.stringify(raw.cpus)}: ${cpus.problem}`);
  const command = typeof raw.command === 'string' ? raw.command.split(' ').filter((s) => s.length > 0) : raw.command;
  const user = raw.user?.split(':').map(Number);
  const outside = user && raw.user_namespace ? outsideUserNamespace({ uid: user[0]!, ...(user[1] !== undefined ? { gid: user[1] } : {}) }) : undefined;
  if (outside) throw new ConfigInvalid(`${file}: user: ${JSON.stringify(raw.user)}: ${outside} ("user_namespace": true)`);
  return Object.freeze({
    jail: raw.jail ?? false,
    pidIsolation: raw['pid-isolation'] ?? false,
    ...(command ? { command: Object.freeze(command) } : {}),
    hostname: raw.hostname,
    layout: Object.freeze(layout),
    env: Object.freeze({ ...raw.env }),
    ...(raw.cwd !== undefined ? { cwd: canonical(file, 'cwd', raw.cwd) } : {}),
    ...(user ? { user: user[1] === undefined ? { uid: user[0]! } : { uid: user[0]!, gid: user[1] } } : {}),
    ...(raw.max_processes !== undefined ? { maxProcesses: raw.max_processes } : {}),
    network,
    userNamespace: raw.user_namespace ?? false,
    ...(memory !== undefined ? { memory } : {}),
    ...(cpus !== undefined ? { cpus } : {}),
    ...(raw.exec_allow ? { execAllow: Object.freeze(raw.exec_allow.map((p, j) => canonical(file, `exec_allow[${j}]`, p))) } : {}),
  });
}

/** A config file's text, or an error naming the file and why it cannot be read. */
export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigInvalid(`${file}: cannot read the config (${(cause as NodeJS.ErrnoException).code ?? cause})`, { cause });
  }
}

export function readConfig(file: string): ContainerConfig {
  return parseConfig(readText(file), file);
}
