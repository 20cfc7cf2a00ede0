/**
 * A deterministic VoP provider for tests and `npm start`: the answer follows from the name and
 * the IBAN alone, so the same debtor always gets the same result.
 *
 * - a name containing "no match" → no_match; "close match" → close_match (the bank's name is the
 *   given one without those words); "not possible" → not_possible;
 * - an IBAN from outside the euro area, where the VoP scheme is not yet mandatory → not_possible;
 * - everything else → match.
 */
import type { PayeeToVerify, VopProvider } from './provider';
import type { VopAnswer } from './result';
import { normalizePayeeName } from './payee-name';

const EURO_AREA = new Set([
  'AT', 'BE', 'BG', 'CY', 'DE', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PT', 'SI', 'SK',
]);

export const standInVopProvider: VopProvider = {
  name: 'stand-in',
  async verify({ iban, name }: PayeeToVerify): Promise<VopAnswer> {
    const normalized = normalizePayeeName(name);
    if (normalized.includes('no match')) return { result: 'no_match' };
    if (normalized.includes('close match')) {
      return { result: 'close_match', matchedName: name.replace(/close\s+match/i, '').replace(/\s+/g, ' ').trim() };
    }
    if (normalized.includes('not possible') || !EURO_AREA.has(iban.slice(0, 2).toUpperCase())) return { result: 'not_possible' };
    return { result: 'match' };
  },
};
