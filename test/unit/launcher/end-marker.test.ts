import t from 'tap';
import { EndMarker } from '../../../src/launcher/end-marker.js';

const markerOf = (m: EndMarker) => Buffer.from(`\x1b]fusejail-end;${m.nonce}\x07`);

t.test('output before the marker passes; the marker is cut out and noticed', async (t) => {
  const m = new EndMarker();
  let seen = false;
  void m.seen.then(() => (seen = true));
  t.equal(m.filter(Buffer.from('hello ')).toString(), 'hello ');
  t.equal(m.filter(Buffer.concat([Buffer.from('world'), markerOf(m), Buffer.from('late')])).toString(), 'worldlate');
  await new Promise((r) => setImmediate(r));
  t.ok(seen);
});

t.test('a marker split across chunks is found; the held part is never shown', async (t) => {
  const m = new EndMarker();
  const whole = Buffer.concat([Buffer.from('abc'), markerOf(m)]);
  let out = '';
  for (let i = 0; i < whole.length; i += 7) out += m.filter(whole.subarray(i, i + 7)).toString();
  t.equal(out, 'abc');
  await m.seen;
});

t.test('an escape sequence that is not the marker is held only until it proves so', async (t) => {
  const m = new EndMarker();
  t.equal(m.filter(Buffer.from('text\x1b]fusejail-')).toString(), 'text', 'a possible start is held back');
  t.equal(m.filter(Buffer.from('other\x07more')).toString(), '\x1b]fusejail-other\x07more', 'and released when it is not the marker');
  t.equal(m.filter(Buffer.from('\x1b[1mbold\x1b[0m')).toString(), '\x1b[1mbold\x1b[0m', 'ordinary escapes pass at once');
  const other = new EndMarker();
  t.equal(m.filter(markerOf(other)).toString(), markerOf(other).toString(), "another launch's marker (a guessed nonce) is not ours");
});
