/**
 * Debtor search: a whole IBAN (spaces and case ignored) finds its debtors through the IBAN index;
 * anything else is looked for in the names, as written in the file and as transliterated.
 */
import { and, count, desc, eq, ilike, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { billingAttempts, debtors } from '../../db/schema';
import { ibanSearchTerm } from './iban-query';
import { PAGE_SIZE } from './paging';

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

export async function searchDebtors(db: Database, query: string, before?: number) {
  const term = query.trim();
  const iban = ibanSearchTerm(term);
  const conditions: SQL[] = [];
  if (iban) conditions.push(eq(debtors.iban, iban));
  else if (term) conditions.push(or(ilike(debtors.name, `%${escapeLike(term)}%`), ilike(debtors.nameOriginal, `%${escapeLike(term)}%`))!);
  if (before !== undefined) conditions.push(lt(debtors.id, before));
  const attempts = db
    .select({ debtorId: billingAttempts.debtorId, attempts: count().as('attempts') })
    .from(billingAttempts)
    .groupBy(billingAttempts.debtorId)
    .as('attempt_counts');
  return db
    .select({
      id: debtors.id,
      name: debtors.nameOriginal,
      iban: debtors.iban,
      bic: debtors.bic,
      mandateReference: debtors.mandateReference,
      externalReference: debtors.externalReference,
      uploadId: debtors.uploadId,
      createdAt: debtors.createdAt,
      attempts: sql<number>`coalesce(${attempts.attempts}, 0)`.mapWith(Number),
    })
    .from(debtors)
    .leftJoin(attempts, eq(attempts.debtorId, debtors.id))
    .where(and(...conditions))
    .orderBy(desc(debtors.id))
    .limit(PAGE_SIZE);
}
