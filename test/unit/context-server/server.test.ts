// ContextServer against a scripted stand-in for the C server: the channel, not FUSE.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ContextServer } from '../../../src/context-server/server.js';
import type { LaunchEvent } from '../../../src/context-server/table.js';

// NOTE: the stand-in reads the serve request on fd 3 and answers as the real server would.
const STAND_IN = `#!/usr/bin/env -S node --no-warnings
const net = require('node:net');
const readline = require('node:readline');
const s = new net.Socket({ fd: 3, readable: true, writable: true });
const send = (m) => s.write(JSON.stringify(m) + '\\n');
let first = true;
readline.createInterface({ input: s }).on('line', (line) => {
  const m = JSON.parse(line);
  if (first) {
    first = false;
    if (m.mountpoint === '/hang') return;
    if (m.mountpoint === '/fail') { send({ event: 'failed', error: { code: 'EROFS', message: 'layout: mkdir /usr/new: EROFS' } }); process.exit(1); }
    // NOTE: one write: the lines after ready arrive in the same chunk.
    s.write(JSON.stringify({ event: 'ready', v: 1, pid: process.pid }) + '\\n' + JSON.stringify({ event: 'launch', launch: { time: 1, path: '/bin/true', pid: 7, uid: 0, allowed: true } }) + '\\n' + JSON.stringify({ event: 'log', message: 'hello', dropped: 2 }) + '\\n');
    return;
  }
  if (m.op === 'locate') send({ id: m.id, ok: true, result: { handle: '/proc/1/fd/9', kind: 'file' } });
  else if (m.op === 'mount-rm') send({ id: m.id, ok: false, error: { code: 'ENODEV', message: 'nothing is mounted at "' + m.target + '"' } });
  else if (m.op === 'expose') process.exit(3);
  else send({ id: m.id, ok: true, result: null });
});
s.on('end', () => process.exit(0));
`;

function standIn(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fusejail-standin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'context-server.cjs');
  writeFileSync(file, STAND_IN);
  chmodSync(file, 0o755);
  return file;
}

const request = { mountpoint: '/m', fsname: 'fj', table: [], exec: { jailed: false, allow: null } };

t.test('ready, events, answers by id, errors with their code, stop on EOF', async (t) => {
  const program = standIn(t);
  const launches: LaunchEvent[] = [];
  const server = await ContextServer.start(request, { program });
  t.ok(server.pid > 0);
  const logs: { message: string; dropped: number }[] = [];
  server.onLaunch((e) => launches.push(e));
  server.onLog((l) => logs.push(l));
  const [located, added] = await Promise.all([server.ask({ op: 'locate', path: '/x' }), server.ask({ op: 'unlocate', handle: '/proc/1/fd/9' })]);
  t.same(located, { handle: '/proc/1/fd/9', kind: 'file' });
  t.equal(added, null);
  const err = await server.ask({ op: 'mount-rm', target: '/nope' }).catch((e: unknown) => e as { code: string; message: string });
  t.match(err, { code: 'ENODEV', message: 'nothing is mounted at "/nope"' });
  t.same(logs, [{ message: 'hello', dropped: 2 }], 'events sent right after ready reach a subscriber made after start()');
  t.same(launches, [{ time: 1, path: '/bin/true', pid: 7, uid: 0, allowed: true }]);
  await server.stop();
  await server.exited;
});

t.test('failed is a rejection with the server\'s code and message', async (t) => {
  const program = standIn(t);
  const err = await ContextServer.start({ ...request, mountpoint: '/fail' }, { program }).catch((e: unknown) => e as { code: string; message: string });
  t.match(err, { code: 'EROFS', message: 'layout: mkdir /usr/new: EROFS' });
});

t.test('a server that dies rejects what is pending and fires onExit', async (t) => {
  const program = standIn(t);
  const server = await ContextServer.start(request, { program });
  const exits: unknown[] = [];
  server.onExit((e) => exits.push(e));
  const err = await server.ask({ op: 'expose', dir: '/d' }).then(
    () => undefined,
    (e: unknown) => e as { code: string },
  );
  t.equal(err?.code, 'ESRCH');
  await server.exited;
  t.same(exits, [{ code: 3, signal: null }]);
  const late = await server.ask({ op: 'locate', path: '/' }).then(
    () => undefined,
    (e: unknown) => e as { code: string },
  );
  t.equal(late?.code, 'ESRCH');
});

t.test('a server that never gets ready is killed after the timeout', async (t) => {
  const program = standIn(t);
  const err = await ContextServer.start({ ...request, mountpoint: '/hang' }, { program, timeoutMs: 300 }).then(
    () => undefined,
    (e: unknown) => e as { code: string },
  );
  t.equal(err?.code, 'ETIMEDOUT');
});
