// What many verbs take alike, described once so every --help says the same.
export const containerArgument = { type: 'string', demandOption: true, describe: 'a container name (or a unique prefix)' } as const;

export const jsonOption = { type: 'boolean', default: false, describe: 'print a JSON array' } as const;

export const traceOption = { type: 'boolean', describe: 'print each step and its duration on stderr (also FUSEJAIL_TRACE=1)' } as const;
