/**
 * Where the log-in sends an operator afterwards (`next=`): a page of this site, or /dashboard.
 *
 * Browsers are lenient where a naive check is not: they drop tabs and newlines inside a URL and
 * read "\" as "/", so "/\t/evil.example" or "/\\evil.example" is "//evil.example", another host.
 * So the value must be a plain path: no control character or whitespace, raw or percent-encoded
 * (a proxy or the next hop may decode it), no backslash, no "//" start; and what the URL parser
 * makes of it against PUBLIC_URL must keep PUBLIC_URL's origin. A path whose query carries a
 * whole IBAN is refused too: the redirect would write it into the access logs.
 */
import { carriesWholeIban } from '../http/iban-in-url';

const DEFAULT_NEXT = '/dashboard';

/** Raw or percent-encoded: C0 controls, space, DEL, backslash, and any Unicode whitespace. */
const UNSAFE = /[\u0000-\u0020\u007f\\]|\s|%(?:[01][0-9a-f]|20|7f|5c)/i;

export function safeNext(value: unknown, publicUrl: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || UNSAFE.test(value)) return DEFAULT_NEXT;
  const site = new URL(publicUrl);
  let target: URL;
  try {
    target = new URL(value, site);
  } catch {
    return DEFAULT_NEXT;
  }
  if (target.origin !== site.origin) return DEFAULT_NEXT;
  const path = `${target.pathname}${target.search}${target.hash}`;
  return carriesWholeIban(path) ? DEFAULT_NEXT : path;
}
