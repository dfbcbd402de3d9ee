// The shared path-resolution vectors (test/vectors/path-resolution.json) against the C server:
// the mount serving each path is the one the TypeScript model names.
import { mkdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { TableOp } from '../../../src/context-server/table.js';
import { contextServerUnavailable, startContext } from '../../helpers/context-server.js';

const skip = contextServerUnavailable();

const vectors = JSON.parse(readFileSync(new URL('../../vectors/path-resolution.json', import.meta.url), 'utf8')) as {
  targets: string[];
  cases: { path: string; mount: string; inner: string }[];
};

t.test('each path is served by the mount the vectors name (told apart by their sizes)', { skip }, async (t) => {
  // NOTE: each target gets a RAMFS of its own size, so statfs of a path names the mount holding it.
  const size = (i: number) => (i + 1) * 4 * 1024 * 1024;
  const table: TableOp[] = vectors.targets.map((target, i) => ({ op: 'mount', mount: { type: 'ramfs', target, readOnly: false, size: size(i), mode: 0o755 } }));
  const c = await startContext(t, table);
  for (const v of vectors.cases) {
    const here = join(c.root, v.path);
    mkdirSync(here, { recursive: true });
    const { blocks, bsize } = statfsSync(here);
    t.equal(blocks * bsize, size(vectors.targets.indexOf(v.mount)), `${v.path} is served by ${v.mount}`);
  }
});
