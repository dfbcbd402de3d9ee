// A size in bytes as people write it: digits with an optional k, M or G suffix (powers of 1024).
const UNITS: Record<string, number> = { '': 1, k: 1024, K: 1024, m: 1024 ** 2, M: 1024 ** 2, g: 1024 ** 3, G: 1024 ** 3 };

/** Bytes, or undefined when `text` is not a size (or is zero). */
export function parseSize(text: string | number): number | undefined {
  const m = /^([0-9]+)([kKmMgG]?)$/.exec(String(text));
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2]!]!;
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}
