// The embedded default container (DESIGN §4): the host's programs read-only, its secrets hidden.
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';

// NOTE: what a container must never see of the host, though it reads the host's /etc.
const SECRETS = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/sudoers.d', '/etc/security/opasswd'];

/** The top-level program directories: mirrored as links where the host has merged /usr. */
function programDirectories(): object[] {
  return ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'].flatMap((path): object[] => {
    if (!existsSync(path)) return [];
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return [{ type: 'symlink', path, target: readlinkSync(path) }];
    return st.isDirectory() ? [{ type: 'mount', source: path, target: path, fs_type: 'bind', read_only: true }] : [];
  });
}

// NOTE: the key names ssh-keygen -A makes are always hidden, so the default is the same on every
// host (examples/default.json); a host's other private host keys are hidden as well.
const SSH_HOST_KEYS = ['dsa', 'ecdsa', 'ecdsa_sk', 'ed25519', 'ed25519_sk', 'rsa'].map((k) => `/etc/ssh/ssh_host_${k}_key`);

export function sshHostKeys(): string[] {
  let found: string[] = [];
  try {
    found = readdirSync('/etc/ssh').filter((n) => n.startsWith('ssh_host_') && !n.endsWith('.pub')).map((n) => `/etc/ssh/${n}`);
  } catch {}
  return [...SSH_HOST_KEYS, ...found.filter((k) => !SSH_HOST_KEYS.includes(k))];
}

/**
 * The default config in SerenityOS runc's format, for this host. It names no command, so the
 * command line's runs, or the shell of the user it runs as.
 */
export function defaultConfig(): Record<string, unknown> {
  return {
    jail: true,
    'pid-isolation': true,
    hostname: 'fusejail',
    network: 'none',
    layout: [
      { type: 'mount', source: '/usr', target: '/usr', fs_type: 'bind', read_only: true },
      ...programDirectories(),
      { type: 'mount', source: '/etc', target: '/etc', fs_type: 'bind', read_only: true },
      ...[...SECRETS, ...sshHostKeys()].map((path) => ({ type: 'hide', path })),
      { type: 'directory', target: '/dev', mode: '0755' },
      { type: 'mount', source: 'none', target: '/proc', fs_type: 'ProcFS' },
      { type: 'mount', target: '/tmp', fs_type: 'RAMFS' },
      { type: 'mount', target: '/root', fs_type: 'RAMFS' },
      { type: 'mount', target: '/home', fs_type: 'RAMFS' },
    ],
  };
}
