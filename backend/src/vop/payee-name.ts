/** A name as VoP compares it: no accents, case or punctuation, single spaces. Also the cache key's name part. */
export function normalizePayeeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
