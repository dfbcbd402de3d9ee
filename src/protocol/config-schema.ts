// JSON Schema of a container config: SerenityOS runc's keys plus fusejail's optional extensions.

const absolutePath = { type: 'string', minLength: 1 } as const;

/** fs_type names: fusejail's, then SerenityOS's kernel names for the same filesystems. */
export const FS_TYPE_NAMES = { ProcFS: 'proc', SysFS: 'sys', RAMFS: 'ramfs', DevPTS: 'devpts', bind: 'bind' } as const;
export const SERENITY_FS_TYPE_NAMES = { proc: 'proc', sys: 'sys', ram: 'ramfs', DevPtsFS: 'devpts', devpts: 'devpts' } as const;
export const fsKind = (name: string) =>
  FS_TYPE_NAMES[name as keyof typeof FS_TYPE_NAMES] ?? SERENITY_FS_TYPE_NAMES[name as keyof typeof SERENITY_FS_TYPE_NAMES];

/** A mount's `source`: a host path for bind, otherwise ignored (SerenityOS writes "none" or null). */
const source = { type: ['string', 'null'] } as const;

const entry = (type: string, properties: Record<string, unknown>, required: string[]) =>
  ({
    type: 'object',
    properties: { type: { const: type }, ...properties },
    required: ['type', ...required],
    additionalProperties: false,
  }) as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://fusejail.invalid/config.schema.json',
  title: 'fusejail container config (SerenityOS runc format)',
  type: 'object',
  properties: {
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
          {
            type: 'object',
            properties: {
              type: { const: 'root_mount' },
              fs_type: { enum: ['RAMFS', 'ram'] },
              source: { type: ['string', 'null'], minLength: 1 },
              read_only: { type: 'boolean' },
            },
            required: ['type'],
            additionalProperties: false,
          },
          entry('directory', { target: absolutePath, mode: { type: 'string', pattern: '^0?[0-7]{3,4}$' } }, ['target']),
          // SerenityOS's read-write bind mount of a host path.
          entry('bindmount', { source: absolutePath, target: absolutePath }, ['source', 'target']),
          entry('copy_custom', { source: absolutePath, target: absolutePath }, ['source', 'target']),
          entry('copy_original', { sources: { type: 'array', items: absolutePath, minItems: 1 } }, ['sources']),
          entry('symlink', { path: absolutePath, target: { type: 'string', minLength: 1 } }, ['path', 'target']),
          // Extension: a path that does not exist in the container, whatever its mount holds.
          entry('hide', { path: absolutePath }, ['path']),
          entry(
            'mount',
            {
              source,
              target: absolutePath,
              fs_type: { enum: [...Object.keys(FS_TYPE_NAMES), ...Object.keys(SERENITY_FS_TYPE_NAMES)] },
              read_only: { type: 'boolean' },
            },
            ['target', 'fs_type'],
          ),
        ],
      },
    },
    env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extension: environment variables.' },
    cwd: { type: 'string', description: 'Extension: working directory inside the container.' },
    user: { type: 'string', pattern: '^[0-9]+(:[0-9]+)?$', description: 'Extension: UID[:GID] to run as.' },
    max_processes: { type: 'integer', minimum: 1, description: 'Extension: pids limit of the process list.' },
    exec_allow: { type: 'array', items: absolutePath, description: 'Extension: when jailed, the only paths that may be executed.' },
  },
  required: ['jail', 'pid-isolation', 'hostname', 'layout'],
  additionalProperties: false,
} as const;
