// The same bundle under runc and under fusejail: state validated against the runtime-spec's State, behaviour compared.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import type tap from 'tap';
import { repo, tempDir } from '../../helpers/fuse.js';
import { bundle } from '../../helpers/oci-bundle.js';
import { type Runtime, runtimes } from '../../helpers/oci-clients.js';

const schema = JSON.parse(readFileSync(join(repo, 'test/fixtures/oci/state.schema.json'), 'utf8')) as object;
const validState = new Ajv({ allErrors: true }).compile(schema);

/**
 * NOTE: a caller of an OCI runtime (conmon, the shim) is a subreaper that waits for the init as
 * its descendant; Node cannot become one, so this small driver does, as conmon would: create
 * (container stdio to files), state, start, waitpid, state, delete; it prints what it saw as JSON.
 */
const DRIVER = `
import ctypes, json, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
runtime, root, bundle, cid, out = sys.argv[1:6]
def verb(*args):
    return subprocess.run([runtime, '--root', root, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True)
def state():
    r = verb('state', cid)
    return json.loads(r.stdout) if r.returncode == 0 else {'error': r.stderr}
seen = {}
pid_file = os.path.join(out, 'pid')
with open(os.path.join(out, 'stdout'), 'w') as o, open(os.path.join(out, 'stderr'), 'w') as e:
    seen['create'] = subprocess.run([runtime, '--root', root, 'create', '--bundle', bundle, '--pid-file', pid_file, cid], stdin=subprocess.DEVNULL, stdout=o, stderr=e).returncode
if seen['create'] == 0:
    seen['pidFile'] = open(pid_file).read()
    seen['created'] = state()
    seen['start'] = verb('start', cid).returncode
    _, status = os.waitpid(int(seen['pidFile']), 0)
    seen['exit'] = os.waitstatus_to_exitcode(status)
    seen['stopped'] = state()
    seen['delete'] = verb('delete', cid).returncode
    seen['deleted'] = verb('state', cid).stderr
print(json.dumps(seen))
`;

/** What the process inside reports: each a line its runtime decides. */
const PROBE = [
  'echo hi',
  'hostname',
  'id -u',
  'grep CapEff /proc/self/status',
  'awk \'$2 == "/proc" || $2 == "/sys" || $2 == "/dev" { print $2, $3 }\' /proc/self/mounts | sort',
  'ulimit -n',
  'exit 3',
].join('; ');

interface Seen {
  create: number;
  pidFile?: string;
  created?: Record<string, unknown>;
  start?: number;
  exit?: number;
  stopped?: Record<string, unknown>;
  delete?: number;
  deleted?: string;
  stdout: string;
  stderr: string;
}

/** The bundle's lifecycle under `runtime`, driven as conmon would drive it. */
async function lifecycle(t: { teardown(fn: () => unknown): void }, runtime: Runtime, dir: string, id: string): Promise<Seen> {
  const scratch = tempDir('oci-diff');
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const root = join(scratch, 'root');
  mkdirSync(root);
  const env = { ...process.env, FUSEJAIL_STATE_DIR: join(scratch, 'fusejail-state') };
  delete env.NODE_OPTIONS;
  mkdirSync(env.FUSEJAIL_STATE_DIR, { mode: 0o700 });
  t.teardown(() => {
    if (existsSync(join(env.FUSEJAIL_STATE_DIR, 'supervisor.pid'))) return new Promise((r) => execFile(join(repo, 'bin/fusejail'), ['daemon', '--stop', '--force'], { env }, r));
  });
  const out = await new Promise<string>((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', DRIVER, runtime.path, root, dir, id, scratch], { env, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
  return { ...(JSON.parse(out) as Omit<Seen, 'stdout' | 'stderr'>), stdout: readFileSync(join(scratch, 'stdout'), 'utf8'), stderr: readFileSync(join(scratch, 'stderr'), 'utf8') };
}

const rootOnly = process.getuid?.() !== 0 ? 'needs root' : false;
const [reference, ...others] = runtimes().filter((r) => r.name === 'runc').concat(runtimes().filter((r) => r.name !== 'runc'));

/** What every runtime must show for the default bundle (runc's `spec` config, busybox rootfs). */
function checkAlone(t: Pick<typeof tap, 'equal' | 'match' | 'ok'>, seen: Seen, id: string, dir: string): void {
  t.equal(seen.create, 0, `create: ${seen.stderr}`);
  t.match(seen.pidFile, /^[1-9][0-9]*$/, 'the pid file holds digits only');
  for (const [when, state] of [['created', seen.created], ['stopped', seen.stopped]] as const) {
    t.ok(validState(state), `state when ${when} is a runtime-spec State: ${JSON.stringify(validState.errors)}`);
    t.match(state, { id, status: when, bundle: dir });
  }
  t.equal(seen.created?.pid, Number(seen.pidFile), 'state\'s pid is the pid file\'s (the host pid)');
  t.equal(seen.stopped?.pid, 0, 'a stopped container has pid 0, as runc says');
  t.equal(seen.start, 0);
  t.equal(seen.exit, 3, 'the init\'s exit status reached its subreaper');
  t.equal(seen.delete, 0);
  t.match(seen.deleted, 'does not exist', 'after delete, state says "does not exist" (the words callers match)');
  t.equal(seen.stdout, ['hi', 'oci-test', '0', 'CapEff:\t0000000020000420', '/dev tmpfs', '/proc proc', '/sys sysfs', '1024', ''].join('\n'), 'hostname, uid, capabilities, mounts, rlimit as config.json says');
}

t.test(`${reference?.name ?? 'runc'}: the reference runs the bundle's lifecycle`, { skip: rootOnly || reference?.skip || (reference ? false : 'runc is not among the runtimes') }, async (t) => {
  const b = bundle(t, { args: ['sh', '-c', PROBE] });
  checkAlone(t, await lifecycle(t, reference!, b.dir, 'diff-ref'), 'diff-ref', b.dir);
});

for (const runtime of others) {
  t.test(`${runtime.name} against ${reference?.name}: the same bundle, the same state and behaviour`, { skip: rootOnly || runtime.skip || reference?.skip }, async (t) => {
    const b = bundle(t, { args: ['sh', '-c', PROBE] });
    const ref = await lifecycle(t, reference!, b.dir, 'diff-a');
    const seen = await lifecycle(t, runtime, b.dir, 'diff-b');
    checkAlone(t, seen, 'diff-b', b.dir);
    t.equal(seen.stdout, ref.stdout, 'what the process saw is what it saw under runc');
    t.equal(seen.exit, ref.exit);
    const missing = Object.keys(ref.created ?? {}).filter((k) => !(k in (seen.created ?? {})));
    t.same(missing, [], 'state has every field runc\'s has');
    // NOTE: ociVersion is the spec version each runtime implements; empty annotations may be left out (runc does).
    const comparable = (s?: Record<string, unknown>) => {
      const { id: _id, created: _created, owner: _owner, ociVersion: _version, annotations, ...rest } = s ?? {};
      return { ...rest, annotations: annotations ?? {} };
    };
    t.same(comparable(seen.stopped), comparable(ref.stopped), 'and the same values, but for the id, the time and the spec version');
  });
}

t.test('the State schema refuses what the spec forbids (so a pass above means something)', async (t) => {
  const good = { ociVersion: '1.0.2', id: 'x', status: 'running', pid: 42, bundle: '/b', created: '2026-12-07T20:30:00.123456789Z' };
  t.ok(validState(good));
  t.notOk(validState({ ...good, pid: undefined }), 'running without a pid');
  t.notOk(validState({ ...good, status: 'created', pid: 0 }), 'created with pid 0');
  t.notOk(validState({ ...good, status: 'paused-ish' }), 'a status the spec does not name');
  t.notOk(validState({ ...good, bundle: 'b' }), 'a relative bundle');
  t.notOk(validState({ ...good, created: 'yesterday' }), 'a creation time go-runc could not decode');
  t.ok(validState({ ...good, status: 'stopped', pid: 0 }), 'stopped with pid 0');
});
