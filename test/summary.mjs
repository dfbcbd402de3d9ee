// Prints tap's final counts as the one plain line CI reads: "N passed, N failed, N skipped".
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2], 'utf8');
const last = [...log.matchAll(/^# \{ ([^}]*) \}$/gm)].at(-1);
if (!last) {
  console.log('0 passed, 1 failed (tap printed no summary)');
  process.exit(0);
}
const counts = Object.fromEntries(last[1].split(', ').map((kv) => kv.split(': ')).map(([k, v]) => [k, Number(v)]));
console.log(`${counts.pass ?? 0} passed, ${counts.fail ?? 0} failed, ${counts.skip ?? 0} skipped`);
