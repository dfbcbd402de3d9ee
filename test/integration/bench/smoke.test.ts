// Every benchmark script runs once at a tiny size (BENCH_SMOKE=1), so a change that breaks one fails here; no number is asserted.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { fuseUnavailable, repo } from '../../helpers/fuse.js';

const skip = fuseUnavailable() || (process.getuid?.() !== 0 ? 'the benchmarks need root' : false);

/** Each script and a line of the table it prints. */
const SCRIPTS: [string, RegExp][] = [
  ['launch.sh', /^fusejail launcher \(FUSE root, proc, dev, jail\)\s+\d/m],
  ['fuse.sh', /^operation\s+native\s+fusejail\s+ratio\s+fusejail-ro\s+ratio/m],
  ['supervisor.sh', /^fusejail run -- \/bin\/true \(warm supervisor\)\s+\d[\s\S]*time to remove all/m],
  ['examples.sh', /^fusejail run -f examples\/jailed-build.json\s+\d/m],
  ['oci.sh', /^podman run --rm IMAGE true, by runtime\s+median ms\s+ratio to runc\n(fusejail|crun|runc)\s[\s\S]*^runc\s+\d/m],
];

// NOTE: a clean environment, and without NODE_OPTIONS, which tap adds to every child it can: its
// loaders would otherwise be loaded into every fusejail the scripts start.
const CLEAN_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', BENCH_SMOKE: '1' };

for (const [script, table] of SCRIPTS) {
  t.test(`test/bench/${script} runs and prints its table`, { skip }, async (t) => {
    const r = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
      execFile('/usr/bin/env', ['-u', 'NODE_OPTIONS', join(repo, 'test/bench', script)], { env: CLEAN_ENV, timeout: 240_000 }, (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, table, 'its table');
  });
}
