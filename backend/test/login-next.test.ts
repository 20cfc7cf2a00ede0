/**
 * Where the log-in sends an operator afterwards: a page of this site only, whatever browsers
 * make of tabs, newlines, backslashes and encodings (issue 15), and never a URL with an IBAN.
 */
import { describe, expect, it } from 'vitest';
import { safeNext } from '../src/auth/next-path';

const SITE = 'https://tether.example';

describe('safeNext', () => {
  it.each([
    ['/dashboard/blacklist', '/dashboard/blacklist'],
    ['/dashboard/attempts?status=failed&from=2026-01-01', '/dashboard/attempts?status=failed&from=2026-01-01'],
    ['/dashboard/uploads/3fa85f64-5717-4562-b3fc-2c963f66afa6', '/dashboard/uploads/3fa85f64-5717-4562-b3fc-2c963f66afa6'],
    ['/dashboard/debtors?q=M%C3%BCller', '/dashboard/debtors?q=M%C3%BCller'],
    ['/dashboard/../login', '/login'],
  ])('keeps the page of this site %j', (next, expected) => {
    expect(safeNext(next, SITE)).toBe(expected);
  });

  it.each([
    ['a tab after the slash', '/\t/evil.example'],
    ['a newline after the slash', '/\n/evil.example'],
    ['a carriage return', '/\r/evil.example'],
    ['a NUL', '/\u0000/evil.example'],
    ['a space', '/ /evil.example'],
    ['a no-break space', '/\u00a0/evil.example'],
    ['a line separator', '/\u2028/evil.example'],
    ['an encoded tab', '/%09/evil.example'],
    ['an encoded newline', '/%0a/evil.example'],
    ['an encoded upper-case newline', '/%0A/evil.example'],
    ['an encoded NUL', '/%00/evil.example'],
    ['an encoded space', '/%20/evil.example'],
    ['an encoded backslash', '/%5cevil.example'],
    ['a backslash', '/\\evil.example'],
    ['two backslashes', '\\\\evil.example'],
    ['a protocol-relative URL', '//evil.example'],
    ['three slashes', '///evil.example'],
    ['an absolute URL', 'https://evil.example/'],
    ['an absolute URL of this site', 'https://tether.example/dashboard'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a relative path', 'dashboard'],
    ['an empty value', ''],
    ['a non-string', undefined],
    ['an IBAN in the query', '/dashboard/debtors?q=DE89370400440532013000'],
    ['a spaced, lower-case IBAN', '/dashboard/blacklist?q=de89+3704+0044+0532+0130+00'],
    ['an encoded IBAN', '/dashboard/debtors?q=DE89%203704%200044%200532%200130%2000'],
  ])('falls back to /dashboard for %s', (_case, next) => {
    expect(safeNext(next, SITE)).toBe('/dashboard');
  });
});
