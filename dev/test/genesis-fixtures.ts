/**
 * The quoted Genesis examples in dev/genesis/fixtures (the ones these tests use, copied from the
 * fixture collection whose README, copied along, describes every file of it), read so that the
 * simulator's documents can be compared with them: element names in document order, and the
 * shape of every value (a 32-hex id, a negative integer, a decimal, a date…), not the values
 * themselves, which are the example's.
 */
import { XMLParser } from 'fast-xml-parser';
import { readFileSync } from 'node:fs';

export function fixture(name: string): string {
  return readFileSync(new URL(`../genesis/fixtures/${name}`, import.meta.url), 'utf8');
}

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  /** Leaf text; undefined for an element with children. */
  value?: string;
  children: XmlElement[];
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
});

type OrderedNode = Record<string, unknown>;

function toElement(node: OrderedNode): XmlElement | undefined {
  const name = Object.keys(node).find((key) => key !== ':@');
  if (!name || name.startsWith('#')) return undefined; // text (the reference's "..." elisions)
  const content = node[name] as OrderedNode[];
  const children = content.map(toElement).filter((child): child is XmlElement => child !== undefined);
  const text = content.find((child) => '#text' in child)?.['#text'];
  return {
    name,
    attributes: (node[':@'] as Record<string, string> | undefined) ?? {},
    value: children.length === 0 ? String(text ?? '') : undefined,
    children,
  };
}

/** The root element of an XML document. */
export function readXml(xml: string): XmlElement {
  const [root] = (parser.parse(xml) as OrderedNode[]).map(toElement).filter((element) => element !== undefined);
  if (!root) throw new Error('no root element');
  return root;
}

export type Pairs = Array<[name: string, value: string]>;

/** A record's leaf elements as name–value pairs, in document order. */
export const pairsOf = (element: XmlElement): Pairs => element.children.map((child) => [child.name, child.value ?? '']);

/** A notification fixture: one `key=value` per line, with the `?`/`&` the reference prints, values form-encoded. */
export function readNotificationFixture(text: string): Pairs {
  return text
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .flatMap((line) => [...new URLSearchParams(line.trim().replace(/^[?&]/, ''))]);
}

/**
 * Values the merchant, the terminal's configuration or the payment scheme choose, whose shape
 * says nothing about the gateway: the reference's card examples have numeric reason codes and
 * phone numbers where SEPA has "MD06" and "+49…".
 */
const CHOSEN_ELSEWHERE = new Set([
  'transaction_id',
  'terminal_token',
  'descriptor',
  'usage',
  'customer_email',
  'customer_phone',
  'account_holder',
  'reason_code',
  'reason_description',
]);

export function valueShape(name: string, value: string): string {
  if (CHOSEN_ELSEWHERE.has(name)) return 'chosen elsewhere';
  if (/^[0-9a-f]{32}$/.test(value)) return '32 hex';
  if (/^([0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$/.test(value)) return 'hex digest';
  if (/^-\d+$/.test(value)) return 'negative integer';
  if (/^\d+$/.test(value)) return 'integer';
  if (/^-?\d+\.\d+$/.test(value)) return 'decimal';
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value)) return 'timestamp';
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'date';
  if (/^(true|false)$/.test(value)) return 'boolean';
  if (/^https?:\/\//.test(value)) return 'url';
  return 'text';
}

/** name → shape of its first value, for comparing two documents element by element. */
export function shapes(pairs: Pairs): Record<string, string> {
  const byName: Record<string, string> = {};
  for (const [name, value] of pairs) byName[name] ??= valueShape(name, value);
  return byName;
}

/** The simulator's shapes, restricted to the documented names: what must equal the documented shapes. */
export function documentedShapes(actual: Pairs, documented: Pairs): { actual: Record<string, string>; documented: Record<string, string> } {
  const expected = shapes(documented);
  const written = shapes(actual);
  return { actual: written, documented: Object.fromEntries(Object.keys(written).map((name) => [name, expected[name] ?? 'undocumented'])) };
}
