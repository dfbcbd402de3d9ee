// What a container cannot reach of the host: its list's init, the network, System V and POSIX IPC.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable } from '../../helpers/fuse.js';
import { cli, mountsUnder, until } from '../../helpers/supervisor.js';
import { PASTA } from '../../../src/launcher/private-network.js';
import type { ContainerInfo, ProcessInfo, ResourceInfo } from '../../../src/protocol/messages.js';

const skip = fuseUnavailable();

t.test('the process list\'s init has no view of the host: its own empty root, only CAP_KILL', { skip }, async (t) => {
  const { dir, run } = cli(t);
  const seen = await run(['run', '--', 'sh', '-c', 'cat /proc/1/mountinfo; ls -A /proc/1/root; grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/1/status']);
  t.equal(seen.status, 0, seen.stderr);
  t.notMatch(seen.stdout, dir, 'the state directory is not in init\'s mount table');
  t.notMatch(seen.stdout, / - fuse/, 'nor any FUSE root');
  t.equal(seen.stdout.split('\n').filter((l) => / - /.test(l)).length, 1, `one mount: its empty root (${seen.stdout})`);
  t.match(seen.stdout, /^CapEff:\s+0000000000000020$/m, 'CAP_KILL only');
  t.match(seen.stdout, /^CapBnd:\s+0000000000000000$/m);
  t.match(seen.stdout, /^NoNewPrivs:\s+1$/m);
  t.match(seen.stderr, /\/proc\/1\/root': Permission denied/, 'jailed, /proc/1/root is not even listed');
  const unjailed = await run(['run', '--no-jail', '--', 'sh', '-c', 'cat /proc/1/root/etc/shadow && echo READ; ls -A /proc/1/root; cat /proc/1/mountinfo']);
  t.notMatch(unjailed.stdout, /READ/, 'unjailed, /proc/1/root/etc/shadow cannot be read');
  t.match(unjailed.stderr, /\/proc\/1\/root\/etc\/shadow: No such file or directory/);
  t.notMatch(unjailed.stdout, dir);
  t.notMatch(unjailed.stdout, /root:/, 'no host password entry');
});

/** A TCP listener and an abstract Unix socket on the host, closed in teardown. */
async function hostListeners(t: { teardown(fn: () => unknown): void }): Promise<{ port: number; abstract: string }> {
  const tcp = createServer((s) => s.end('hello\n'));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  // NOTE: python3, not Node: libuv pads an abstract address with NULs, which a plain connect never matches.
  const abstract = `fusejail-test-${process.pid}-${Date.now()}`;
  const unix = spawn('python3', ['-c', `import socket\ns = socket.socket(socket.AF_UNIX)\ns.bind("\\0${abstract}")\ns.listen()\nprint("ready", flush=True)\nwhile True:\n    c, _ = s.accept(); c.sendall(b"hello\\n"); c.close()\n`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    tcp.close();
    unix.kill('SIGKILL');
  });
  await new Promise((r) => unix.stdout.once('data', r));
  return { port: (tcp.address() as AddressInfo).port, abstract };
}

const connect = (port: number, abstract: string) =>
  [
    'import socket',
    `for family, address in ((socket.AF_INET, ("127.0.0.1", ${port})), (socket.AF_UNIX, "\\0${abstract}")):`,
    '    s = socket.socket(family)',
    '    s.settimeout(2)',
    '    try:',
    '        s.connect(address); print(s.recv(10).decode().strip())',
    '    except OSError as e:',
    '        print(type(e).__name__)',
  ].join('\n');

t.test('--net none (the default when jailed): only lo, up; the host\'s listeners are out of reach; exec joins it', { skip }, async (t) => {
  const { run } = cli(t);
  const { port, abstract } = await hostListeners(t);
  const none = await run(['run', '--', 'sh', '-c', `tail -n +3 /proc/net/dev | cut -d: -f1; python3 -c '${connect(port, abstract)}'`]);
  t.equal(none.status, 0, none.stderr);
  t.equal(none.stdout, '    lo\nConnectionRefusedError\nConnectionRefusedError\n', 'only lo; the host\'s 127.0.0.1 listener and abstract socket are unreachable');
  const lo = await run(['run', '--', 'python3', '-c', 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); c = socket.create_connection(s.getsockname()); print("lo up")']);
  t.equal(lo.stdout, 'lo up\n', 'lo is up: a container talks to itself over 127.0.0.1');
  const host = await run(['run', '--net', 'host', '--', 'python3', '-c', connect(port, abstract)]);
  t.equal(host.stdout, 'hello\nhello\n', '--net host: the host\'s network');
  t.match(host.stderr, /WARNING: network "host": this jailed container shares the host's network/);

  await run(['run', '-d', '--name', 'a', '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'b', '--no-pid-isolation', '--', 'sleep', '600']);
  // NOTE: a network is shared only on one process list (userns.test.ts: refused otherwise).
  const list = (JSON.parse((await run(['ls', '--json'])).stdout) as ContainerInfo[]).find((c) => c.name === 'a')!.resources['process-list']!;
  await run(['run', '-d', '--name', 'c', '--process-list', String(list), '--net', 'container:a', '--', 'sleep', '600']);
  t.teardown(() => run(['rm', '-f', 'c', 'b', 'a']));
  const ns = async (name: string) => (await run(['exec', name, '--', 'readlink', '/proc/self/ns/net'])).stdout;
  const hostNs = execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' });
  t.not(await ns('a'), hostNs, 'exec joins the container\'s network namespace, not the host\'s');
  t.equal(await ns('a'), await ns('a'), 'the same each time');
  t.not(await ns('b'), hostNs, 'without a process list too');
  t.equal(await ns('b'), await ns('b'));
  t.not(await ns('a'), await ns('b'), 'each container its own');
  t.equal(await ns('c'), await ns('a'), '--net container:a shares a\'s');
  t.equal((await run(['exec', 'b', '--', 'sh', '-c', 'tail -n +3 /proc/net/dev | cut -d: -f1'])).stdout, '    lo\n');
});

t.test('IPC: a message queue is seen only in the namespace it was made in; containers on one process list share one', { skip: skip || (existsSync('/usr/bin/ipcmk') ? false : 'ipcmk (util-linux) is not installed') }, async (t) => {
  const { run } = cli(t);
  const made = execFileSync('ipcmk', ['-Q'], { encoding: 'utf8' }).match(/(\d+)/)![1]!;
  t.teardown(() => execFileSync('ipcrm', ['-q', made]));
  const list = (await run(['unshare', 'create', 'process-list'])).stdout.trim();
  await run(['run', '-d', '--name', 'one', '--process-list', list, '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'two', '--process-list', list, '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'other', '--', 'sleep', '600']);
  await run(['run', '-d', '--name', 'alone', '--no-pid-isolation', '--', 'sleep', '600']);
  t.teardown(() => run(['rm', '-f', 'one', 'two', 'other', 'alone']));
  const queues = async (name: string) => (await run(['exec', name, '--', 'ipcs', '-q'])).stdout.split('\n').filter((l) => /^0x/.test(l)).map((l) => l.split(/\s+/)[1]);
  t.notOk((await queues('one')).includes(made), 'the host\'s queue is invisible inside');
  const hostQueues = () => execFileSync('ipcs', ['-q'], { encoding: 'utf8' });
  const before = hostQueues();
  const inside = (await run(['exec', 'one', '--', 'ipcmk', '-Q'])).stdout.match(/(\d+)/)![1]!;
  t.equal(hostQueues(), before, 'the host does not see the container\'s queue');
  t.ok((await queues('two')).includes(inside), 'a container on the same process list sees it');
  t.notOk((await queues('other')).includes(inside), 'another container does not');
  t.notOk((await queues('alone')).includes(inside), 'nor one without a process list');
  t.same(await queues('alone'), await queues('alone'), 'exec joins the IPC namespace of a container without a list');
  const mq = await run(['exec', 'one', '--', 'grep', ' /dev/mqueue ', '/proc/self/mountinfo']);
  t.match(mq.stdout, / - mqueue /, 'POSIX message queues at /dev/mqueue');
});

t.test('--net bogus, a bad --publish: exit 1 naming the value, nothing created', { skip }, async (t) => {
  const { dir, run } = cli(t);
  for (const [args, message] of [
    [['--net', 'bogus'], '--net "bogus": not a network mode (expected none, host, private or container:NAME)'],
    [['--net', 'private', '--publish', '70000:80'], '--publish "70000:80": ports are 1 to 65535'],
    [['--net', 'private', '--publish', '80'], '--publish "80": expected HOST_PORT:CONTAINER_PORT, optionally followed by /udp or /tcp'],
    [['--publish', '8080:80'], '--publish needs --net private'],
  ] as const) {
    const r = await run(['run', ...args, '--', 'true']);
    t.same([r.status, r.stderr], [1, `fusejail: ${message}\n`], args.join(' '));
  }
  t.same(mountsUnder(dir), []);
  t.notOk(existsSync(join(dir, 'supervisor.pid')), 'no supervisor was even started');
});

t.test('--net private: the host\'s loopback through pasta\'s gateway mapping, --publish reaches a server inside; pasta ends with the container', { skip: skip || (existsSync(PASTA) ? false : `pasta is not installed (${PASTA}, Debian package passt)`) }, async (t) => {
  const { dir, run } = cli(t);
  // NOTE: loopback addresses only: the host's server listens on 127.0.0.1, the published port is fetched there.
  const server = createHttpServer((_, res) => res.end('from the host\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const gateway = 'import socket, struct\nfor line in open("/proc/net/route").read().splitlines()[1:]:\n    f = line.split()\n    if f[1] == "00000000": gw = socket.inet_ntoa(struct.pack("<L", int(f[2], 16)))';
  const fetch = `${gateway}\nimport urllib.request\nprint(urllib.request.urlopen(f"http://{gw}:${port}/", timeout=5).read().decode().strip())`;
  const out = await run(['run', '--net', 'private', '--', 'python3', '-c', fetch]);
  t.same([out.status, out.stdout], [0, 'from the host\n'], out.stderr);
  const free = createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const published = (free.address() as AddressInfo).port;
  await new Promise((r) => free.close(r));
  await run(['run', '-d', '--name', 'web', '--net', 'private', '--publish', `${published}:8000`, '--', 'python3', '-m', 'http.server', '8000', '--bind', '0.0.0.0', '--directory', '/etc']);
  t.teardown(() => run(['rm', '-f', 'web']));
  const pasta = Number(readFileSync(join(dir, 'ns', 'net-web.pasta.pid'), 'utf8'));
  let body = '';
  t.ok(await until(async () => {
    body = await new Promise<string>((resolve) => {
      httpGet(`http://127.0.0.1:${published}/hostname`, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      }).on('error', () => resolve(''));
    });
    return body !== '';
  }, 10000), 'the published port answers');
  t.equal(body, readFileSync('/etc/hostname', 'utf8'), 'with the server inside');
  t.equal((JSON.parse((await run(['ls', '--json'])).stdout) as ContainerInfo[])[0]!.publish?.[0], `${published}:8000/tcp`);
  await run(['rm', '-f', 'web']);
  t.ok(await until(() => !/^State:\s+[^Z]/m.test(statusOf(pasta))), 'pasta ended with the container');
  t.same(mountsUnder(dir), [], 'and the namespace pin is gone');
});

const statusOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
};

t.test('ps, ls and resources name each container\'s namespaces and limits', { skip }, async (t) => {
  const { run } = cli(t);
  await run(['run', '-d', '--name', 'n', '--memory', '64M', '--cpus', '0.5', '--', 'sleep', '600']);
  t.teardown(() => run(['rm', '-f', 'n']));
  const inside = (await run(['exec', 'n', '--', 'sh', '-c', 'readlink /proc/self/ns/net /proc/self/ns/ipc'])).stdout.trim().split('\n');
  const ps = JSON.parse((await run(['ps', 'n', '--json'])).stdout) as ProcessInfo[];
  const sleeper = ps.find((p) => p.command === 'sleep 600')!;
  t.same([sleeper.namespaces?.net, sleeper.namespaces?.ipc], inside, 'ps --json: each process\'s namespaces');
  t.same(sleeper.limits, { maxProcesses: 4096, memory: 64 * 2 ** 20, cpus: 0.5 }, 'and its container\'s limits');
  const text = (await run(['ps', 'n'])).stdout;
  t.match(text, /^limits: 4096 processes, 64 MiB of memory, 0.5 CPUs$/m);
  t.ok(text.includes(`${inside[0]}  ${inside[1]}  sleep 600`), 'ps: the NET and IPC columns');
  const ls = (JSON.parse((await run(['ls', '--json'])).stdout) as ContainerInfo[])[0]!;
  t.same([ls.network, ls.namespaces.net, ls.namespaces.ipc, ls.limits], ['none', ...inside, { maxProcesses: 4096, memory: 64 * 2 ** 20, cpus: 0.5 }]);
  const list = (JSON.parse((await run(['resources', '--json'])).stdout) as ResourceInfo[]).find((r) => r.type === 'process-list')!;
  t.same([list.detail.net, list.detail.ipc], inside, 'resources --json: the namespaces a process list owns');
  t.match((await run(['ls'])).stdout, /n\s+running\s+none\s+4096 processes, 64 MiB of memory, 0.5 CPUs\s+sleep 600/);
});
