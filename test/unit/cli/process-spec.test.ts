// Who a run's process runs as: -u, else the config's user, else sudo's invoking user, else root.
import t from 'tap';
import { chooseUser } from '../../../src/cli/process-spec.js';
import { parseConfig } from '../../../src/protocol/config.js';

const asRoot = process.getuid?.() === 0 ? false : 'the sudo default applies only when running as root';

t.test('-u takes numbers or host names, and names a bad value', async (t) => {
  t.same(chooseUser('1234'), { uid: 1234, gid: 1234 });
  t.same(chooseUser('1234:99'), { uid: 1234, gid: 99 });
  t.same(chooseUser('nobody'), { uid: 65534, gid: 65534 });
  t.same(chooseUser('root:nogroup'), { uid: 0, gid: 65534 });
  t.throws(() => chooseUser('nosuchuser'), { code: 'CONFIG_INVALID', message: '-u "nosuchuser": expected UID[:GID] or a user name known on the host' });
  t.throws(() => chooseUser('1:nosuchgroup'), { code: 'CONFIG_INVALID', message: '-u "1:nosuchgroup": no group "nosuchgroup" on the host' });
  t.throws(() => chooseUser('1:2:3'), { code: 'CONFIG_INVALID' });
});

t.test('without -u: the config\'s user, else the user who ran sudo, else root', { skip: asRoot }, async (t) => {
  const saved = { uid: process.env.SUDO_UID, gid: process.env.SUDO_GID };
  t.teardown(() => {
    for (const [k, v] of [['SUDO_UID', saved.uid], ['SUDO_GID', saved.gid]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  delete process.env.SUDO_UID;
  delete process.env.SUDO_GID;
  t.same(chooseUser(undefined), { uid: 0, gid: 0 });
  process.env.SUDO_UID = '1000';
  process.env.SUDO_GID = '1001';
  t.same(chooseUser(undefined), { uid: 1000, gid: 1001 }, 'through sudo: the invoking user');
  const config = parseConfig(JSON.stringify({ jail: true, 'pid-isolation': true, hostname: null, layout: [{ type: 'root_mount' }], user: '7:8' }), 'x.json');
  t.same(chooseUser(undefined, config), { uid: 7, gid: 8 }, 'a config\'s user wins over sudo');
  t.same(chooseUser('4321', config), { uid: 4321, gid: 4321 }, 'and -u over both');
  t.same(chooseUser('5', config), { uid: 5, gid: 60 }, 'a UID the host knows gets its primary group');
});
