/**
 * The SEPA character set (sepa-domain.md §6.1): a-z A-Z 0-9 / - ? : ( ) . , ' + and space.
 * Text from operators is transliterated into it the way banks do (EPC best practice: Ä → AE,
 * ß → ss, é → e); a character with no such mapping is reported, never silently dropped.
 */

const SEPA_CHARACTER = /^[A-Za-z0-9/\-?:().,'+ ]$/;
const SEPA_TEXT = /^[A-Za-z0-9/\-?:().,'+ ]*$/;

/** Letters that do not decompose into a base letter plus accents, and common punctuation. */
const TRANSLITERATIONS: Readonly<Record<string, string>> = {
  Ä: 'AE', Ö: 'OE', Ü: 'UE', ä: 'ae', ö: 'oe', ü: 'ue', ß: 'ss', ẞ: 'SS',
  Æ: 'AE', æ: 'ae', Œ: 'OE', œ: 'oe', Ø: 'O', ø: 'o', Ł: 'L', ł: 'l',
  Đ: 'D', đ: 'd', Ð: 'D', ð: 'd', Þ: 'TH', þ: 'th', ı: 'i', Ħ: 'H', ħ: 'h',
  '&': '+', '_': '-', ';': ',', '[': '(', ']': ')', '{': '(', '}': ')',
  '"': "'", '`': "'", '´': "'", '‘': "'", '’': "'", '‚': "'", '“': "'", '”': "'", '„': "'", '«': "'", '»': "'",
  '‐': '-', '‑': '-', '–': '-', '—': '-',
};

export type SepaText = { ok: true; text: string } | { ok: false; unmappable: string[] };

function transliterate(character: string): string | undefined {
  if (SEPA_CHARACTER.test(character)) return character;
  const mapped = TRANSLITERATIONS[character];
  if (mapped !== undefined) return mapped;
  // é → e + ◌́ → e; letters outside the Latin script have no base letter left and stay unmapped.
  const base = character.normalize('NFD').replace(/\p{M}/gu, '');
  return base !== character && [...base].every((part) => SEPA_CHARACTER.test(part)) ? base : undefined;
}

/** `input` in the SEPA character set, whitespace collapsed; or the characters that have no mapping. */
export function toSepaText(input: string): SepaText {
  const collapsed = input.replace(/\s+/g, ' ').trim();
  // Most names need no transliteration; this check keeps a million-row import fast.
  if (SEPA_TEXT.test(collapsed)) return { ok: true, text: collapsed };
  const unmappable = new Set<string>();
  let text = '';
  const characters = [...collapsed.normalize('NFC')];
  characters.forEach((character, index) => {
    const mapped = transliterate(character);
    if (mapped === undefined) unmappable.add(character);
    // "Öberg" becomes "Oeberg", "ÖBERG" stays "OEBERG".
    else if (mapped.length > 1 && /\p{Ll}/u.test(characters[index + 1] ?? '')) text += mapped[0] + mapped.slice(1).toLowerCase();
    else text += mapped;
  });
  return unmappable.size > 0 ? { ok: false, unmappable: [...unmappable] } : { ok: true, text };
}

export function isSepaText(input: string): boolean {
  return SEPA_TEXT.test(input);
}
