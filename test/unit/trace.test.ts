import t from 'tap';
import { Stopwatch, totalMs } from '../../src/trace.js';

t.test('steps are measured back to back and add up', async (t) => {
  const w = new Stopwatch(100);
  w.mark('a', 110);
  w.add([{ step: 'remote', ms: 5 }]);
  w.mark('b', 130);
  t.same(w.steps, [{ step: 'a', ms: 10 }, { step: 'remote', ms: 5 }, { step: 'b', ms: 15 }]);
  t.equal(totalMs(w.steps), 30);
});

t.test('a step overlapped by steps measured elsewhere lasts 0 ms, never less', async (t) => {
  const w = new Stopwatch(100);
  w.add([{ step: 'release', ms: 20 }]);
  w.mark('payload', 110);
  w.mark('exit', 125);
  t.same(w.steps, [{ step: 'release', ms: 20 }, { step: 'payload', ms: 0 }, { step: 'exit', ms: 5 }]);
});
