/**
 * Which column of a debtor file holds which field: the operator's mapping first, then header
 * names Tether recognises in English and German. Headers are compared without case, accents,
 * spaces or punctuation, so "E-Mail", "e_mail" and "EMAIL" are one name.
 */

export const DEBTOR_FIELDS = [
  'iban',
  'bic',
  'name',
  'amount',
  'email',
  'street',
  'postal_code',
  'city',
  'country',
  'mandate_reference',
  'mandate_date',
  'external_reference',
] as const;

export type DebtorField = (typeof DEBTOR_FIELDS)[number];

export const REQUIRED_DEBTOR_FIELDS: readonly DebtorField[] = ['iban', 'name', 'amount'];

/** Field → the header of the column that holds it, as written in the file. */
export type ColumnMapping = Partial<Record<DebtorField, string>>;

/** Field → zero-based column index. */
export type ColumnIndexes = Partial<Record<DebtorField, number>>;

const KNOWN_HEADERS: Record<DebtorField, readonly string[]> = {
  iban: ['iban', 'iban number', 'account iban', 'bank account', 'konto iban', 'iban des kontoinhabers', 'kontonummer iban'],
  bic: ['bic', 'swift', 'bic swift', 'swift bic', 'bic code', 'swift code', 'bic des kreditinstituts'],
  name: [
    'name', 'full name', 'debtor', 'debtor name', 'account holder', 'account holder name', 'customer name',
    'kontoinhaber', 'name des kontoinhabers', 'zahlungspflichtiger', 'schuldner', 'vollstaendiger name',
  ],
  amount: ['amount', 'amount eur', 'sum', 'debit amount', 'betrag', 'betrag eur', 'summe', 'lastschriftbetrag', 'einzugsbetrag'],
  email: ['email', 'email address', 'mail', 'emailadresse'],
  street: ['street', 'address', 'street address', 'address line', 'strasse', 'adresse', 'anschrift', 'strasse und hausnummer'],
  postal_code: ['postal code', 'postcode', 'zip', 'zip code', 'plz', 'postleitzahl'],
  city: ['city', 'town', 'ort', 'stadt', 'wohnort'],
  country: ['country', 'country code', 'land', 'laenderkennzeichen'],
  mandate_reference: [
    'mandate reference', 'mandate id', 'mandate', 'umr', 'mandatsreferenz', 'mandats id', 'mandatsnummer',
  ],
  mandate_date: [
    'mandate date', 'mandate signature date', 'date of signature', 'signature date', 'signed on',
    'mandatsdatum', 'datum der unterschrift', 'unterschriftsdatum', 'mandat unterschrieben am',
  ],
  external_reference: [
    'reference', 'external reference', 'external id', 'customer number', 'customer id', 'customer reference',
    'referenz', 'externe referenz', 'kundennummer', 'kunden id',
  ],
};

/** "Betrag (EUR)" → "betrageur", "Straße" → "strasse". */
export function headerKey(header: string): string {
  return header
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[äöü]/g, (umlaut) => `${umlaut.normalize('NFD')[0]}e`)
    .normalize('NFD')
    .replace(/[^a-z0-9]/g, '');
}

const FIELD_BY_HEADER_KEY: ReadonlyMap<string, DebtorField> = new Map(
  DEBTOR_FIELDS.flatMap((field) => KNOWN_HEADERS[field].map((header) => [headerKey(header), field] as const)),
);

/** The field a header names, when Tether recognises it (the dashboard preselects it in the mapping). */
export function recognisedField(header: string): DebtorField | undefined {
  return FIELD_BY_HEADER_KEY.get(headerKey(header));
}

export type ColumnResolution = { ok: true; columns: ColumnIndexes } | { ok: false; message: string };

/**
 * Maps the header row to fields. A column the operator mapped is never also recognised by name,
 * and a field claimed by two columns is an error rather than a silent pick.
 */
export function resolveColumns(headers: readonly string[], mapping: ColumnMapping = {}): ColumnResolution {
  const columns: ColumnIndexes = {};
  const claimedBy = new Map<number, DebtorField>();
  const keys = headers.map(headerKey);

  for (const [field, header] of Object.entries(mapping) as [DebtorField, string][]) {
    const index = keys.indexOf(headerKey(header));
    if (index === -1) return { ok: false, message: `The mapped column "${header}" for ${field} is not in the header row` };
    const other = claimedBy.get(index);
    if (other) return { ok: false, message: `The column "${header}" is mapped to both ${other} and ${field}` };
    columns[field] = index;
    claimedBy.set(index, field);
  }

  const duplicates: string[] = [];
  keys.forEach((key, index) => {
    const field = FIELD_BY_HEADER_KEY.get(key);
    if (!field || claimedBy.has(index) || mapping[field] !== undefined) return;
    const existing = columns[field];
    if (existing !== undefined) duplicates.push(`${field} ("${headers[existing]}" and "${headers[index]}")`);
    else columns[field] = index;
  });
  if (duplicates.length > 0) {
    return { ok: false, message: `Several columns hold the same field, map one explicitly: ${duplicates.join(', ')}` };
  }

  const missing = REQUIRED_DEBTOR_FIELDS.filter((field) => columns[field] === undefined);
  if (missing.length > 0) {
    const hints = missing.map((field) => `${field} (e.g. ${KNOWN_HEADERS[field].slice(0, 3).join(', ')})`);
    return { ok: false, message: `No column found for ${hints.join('; ')}: rename the header or map the column` };
  }
  return { ok: true, columns };
}
