// JSON Schema of a container config: SerenityOS runc's keys plus fusejail's optional extensions.

const absolutePath = { type: 'string', minLength: 1 } as const;

/** fs_type names: fusejail's, then SerenityOS's kernel names for the same filesystems. */
export const FS_TYPE_NAMES = { ProcFS: 'proc', SysFS: 'sys', RAMFS: 'ramfs', DevPTS: 'devpts', bind: 'bind' } as const;
export const SERENITY_FS_TYPE_NAMES = { proc: 'proc', sys: 'sys', ram: 'ramfs', DevPtsFS: 'devpts', devpts: 'devpts' } as const;
export const fsKind = (name: string) =>
  FS_TYPE_NAMES[name as keyof typeof FS_TYPE_NAMES] ?? SERENITY_FS_TYPE_NAMES[name as keyof typeof SERENITY_FS_TYPE_NAMES];

/** A RAMFS's size: bytes, or digits with a k, M or G suffix. */
const size = { type: ['string', 'integer'], description: 'Extension: a RAMFS\'s size in bytes (k, M, G suffixes); 1G when not given.' } as const;

/** A mount's `source`: a host path for bind, otherwise ignored (SerenityOS writes "none" or null). */
const source = { type: ['string', 'null'] } as const;

const entry = (type: string, description: string, properties: Record<string, unknown>, required: string[]) =>
  ({
    type: 'object',
    description,
    properties: { type: { const: type }, ...properties },
    required: ['type', ...required],
    additionalProperties: false,
  }) as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'fusejail container config (SerenityOS runc format)',
  type: 'object',
  properties: {
    $schema: { type: 'string', description: 'For editors: where this schema is (e.g. "../docs/config.schema.json").' },
    jail: { type: 'boolean', description: 'Jail every process of the container (no new resources, no set-uid).' },
    'pid-isolation': { type: 'boolean', description: 'Give the container its own scoped process list.' },
    command: {
      description: 'The command: a string split on spaces, or an array of arguments.',
      oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
    },
    hostname: { type: ['string', 'null'], description: 'A new hostname context with this name, or null to keep the host\'s.' },
    layout: {
      type: 'array',
      description: 'The root filesystem, built in order.',
      minItems: 1,
      items: {
        type: 'object',
        required: ['type'],
        discriminator: { propertyName: 'type' },
        oneOf: [
          entry(
            'root_mount',
            'The first entry: an empty RAMFS (fs_type "RAMFS"), or (extension) a host directory as the root (source).',
            { fs_type: { enum: ['RAMFS', 'ram'] }, source: { type: ['string', 'null'], minLength: 1 }, read_only: { type: 'boolean' }, size },
            [],
          ),
          entry('directory', 'One directory (its parent must exist), mode 0700 unless given.', { target: absolutePath, mode: { type: 'string', pattern: '^0?[0-7]{3,4}$' } }, ['target']),
          entry('bindmount', 'A host path mounted read-write at target (SerenityOS).', { source: absolutePath, target: absolutePath }, ['source', 'target']),
          entry('copy_custom', 'A private copy of a host file or tree at target, copied on first write.', { source: absolutePath, target: absolutePath }, ['source', 'target']),
          entry('copy_original', 'Private copies of host paths, each at the same path inside.', { sources: { type: 'array', items: absolutePath, minItems: 1 } }, ['sources']),
          entry('symlink', 'A symbolic link at path pointing to target (resolved inside the container).', { path: absolutePath, target: { type: 'string', minLength: 1 } }, ['path', 'target']),
          entry('hide', 'Extension: a path that does not exist in the container, whatever its mount holds.', { path: absolutePath }, ['path']),
          entry(
            'mount',
            'A kernel filesystem (ProcFS, SysFS read-only, DevPTS a new instance), a RAMFS, or a host path (bind, read_only).',
            {
              source,
              target: absolutePath,
              fs_type: { enum: [...Object.keys(FS_TYPE_NAMES), ...Object.keys(SERENITY_FS_TYPE_NAMES)] },
              read_only: { type: 'boolean' },
              size,
            },
            ['target', 'fs_type'],
          ),
        ],
      },
    },
    env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extension: environment variables.' },
    cwd: { type: 'string', description: 'Extension: working directory inside the container.' },
    user: { type: 'string', pattern: '^[0-9]+(:[0-9]+)?$', description: 'Extension: UID[:GID] to run as.' },
    max_processes: { type: 'integer', minimum: 1, description: 'Extension: at most this many processes in the container at once (a pids cgroup; default 4096).' },
    memory: { type: ['string', 'integer'], description: 'Extension: a memory limit: bytes, or a number with a k, M or G suffix ("64M"); above it the OOM killer ends the container\'s processes.' },
    cpus: { type: 'number', description: 'Extension: a CPU limit in CPUs, fractions allowed (0.5: half of one CPU\'s time).' },
    network: {
      type: 'string',
      description: 'Extension: "none" (a network namespace with only lo; the default when jailed), "host" (the host\'s; the default otherwise), "private" (a namespace of its own with user-mode NAT through pasta), or "container:NAME" (another running container\'s, on the same process list).',
    },
    publish: { type: 'array', items: { type: 'string' }, description: 'Extension: with "network": "private", host ports forwarded inside: "HOST_PORT:CONTAINER_PORT" or ".../udp".' },
    user_namespace: {
      type: 'boolean',
      description: 'Extension: a user namespace: container uids and gids 0-65535 are the host range of "fusejail" in /etc/subuid and /etc/subgid, so container root is not host root (docs/security.md).',
    },
    exec_allow: { type: 'array', items: absolutePath, description: 'Extension: when jailed, the only paths that may be executed.' },
  },
  required: ['jail', 'pid-isolation', 'hostname', 'layout'],
  additionalProperties: false,
} as const;
