/**
 * Migrations stay backward compatible for one release (expand, then contract; docs/operations.md):
 * while nodes roll, the previous release runs against the new schema, so a migration must not take
 * away what that release reads or writes. These are the changes that would:
 *
 * - DROP TABLE, or ALTER TABLE … DROP COLUMN
 * - ALTER TABLE … RENAME (a table or a column)
 * - ADD COLUMN … NOT NULL without a DEFAULT (the old release inserts rows without it)
 * - ALTER COLUMN … SET NOT NULL
 *
 * A migration may make them only as the contract step, one release after the code stopped using
 * what it removes, and says so in a comment line of its own:
 *
 *   -- tether:contract <why it is safe: which release stopped using it>
 */
export const CONTRACT_MARKER = /^--[ \t]*tether:contract[ \t]+\S.*$/m;

const RULES: ReadonlyArray<{ change: string; pattern: RegExp }> = [
  { change: 'drops a table', pattern: /^DROP\s+TABLE\b/i },
  { change: 'drops a column', pattern: /^ALTER\s+TABLE\b.*?\bDROP\s+(?!CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b|IDENTITY\b|EXPRESSION\b)(COLUMN\b|"|\w)/is },
  { change: 'renames a table or column', pattern: /^ALTER\s+TABLE\b.*?\bRENAME\b(?!\s+CONSTRAINT\b)/is },
  { change: 'adds a NOT NULL column without a default', pattern: /\bADD\s+(COLUMN\s+)?(?:(?!\bDEFAULT\b)[^,])*\bNOT\s+NULL\b(?:(?!\bDEFAULT\b)[^,])*$/is },
  { change: 'sets NOT NULL on a column', pattern: /\bALTER\s+(COLUMN\s+)?\S+\s+SET\s+NOT\s+NULL\b/i },
];

/** The SQL statements of a migration, comments removed. */
function statements(sql: string): string[] {
  return sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

/** One ALTER TABLE's clauses ("ADD COLUMN …, ALTER COLUMN …"), each with the statement's head. */
function clauses(statement: string): string[] {
  const head = /^ALTER\s+TABLE\s+(IF\s+EXISTS\s+)?(ONLY\s+)?\S+\s+/i.exec(statement)?.[0];
  if (!head) return [statement];
  return statement
    .slice(head.length)
    .split(/,\s*(?=(ADD|DROP|ALTER|RENAME)\b)/i)
    .filter((clause, index) => index % 2 === 0)
    .map((clause) => `${head}${clause}`);
}

/** What in `sql` breaks the previous release, e.g. ['drops a column: ALTER TABLE "a" DROP COLUMN "b"']; [] when it only expands or is marked as a contract. */
export function contractChanges(sql: string): string[] {
  if (CONTRACT_MARKER.test(sql)) return [];
  return statements(sql)
    .flatMap(clauses)
    .flatMap((clause) => RULES.filter(({ pattern }) => pattern.test(clause)).map(({ change }) => `${change}: ${clause}`));
}
