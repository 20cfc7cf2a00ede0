/**
 * Debtor files for the benchmark, written to disk the way an operator's export looks: German
 * headers, semicolons, decimal commas, umlauts in some names, a few broken rows (1 in 200: bad
 * IBAN checksum, bad amount) and a few repeated rows (1 in 500). Accounts start at `firstAccount`
 * so the files of one run never share an IBAN.
 */
import ExcelJS from 'exceljs';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { germanIban } from '../../dev/testing/iban';

const SURNAMES = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Groß'];
const GIVEN = ['Anna', 'Jürgen', 'Lena', 'Max', 'Sophie', 'Lukas', 'Zoë', 'Felix', 'Marie', 'Jonas'];
const BANKS = ['37040044', '50010517', '10070000', '20050550', '76026000'];

/** A valid German IBAN at one of a few real banks, by account number. */
const benchIban = (account: number) => germanIban(account, BANKS[account % BANKS.length]);

export interface DebtorRecord {
  name: string;
  iban: string;
  amount: string;
  reference: string;
  mandateReference: string;
  mandateDate: string;
  email: string;
}

export const HEADER = ['Kontoinhaber', 'IBAN', 'Betrag', 'Kundennummer', 'Mandatsreferenz', 'Mandatsdatum', 'E-Mail'];

export function debtorRecord(index: number, firstAccount: number): DebtorRecord {
  const account = firstAccount + index;
  const broken = index % 200 === 199;
  const iban = benchIban(account);
  return {
    name: `${GIVEN[index % GIVEN.length]} ${SURNAMES[Math.floor(index / GIVEN.length) % SURNAMES.length]}`,
    iban: broken && index % 400 === 199 ? `${iban.slice(0, 2)}00${iban.slice(4)}` : iban,
    amount: broken && index % 400 !== 199 ? '12,345' : `${(index % 300) + 1},${String(index % 100).padStart(2, '0')}`,
    reference: `K-${account}`,
    mandateReference: `M-${account}`,
    mandateDate: `${String((index % 28) + 1).padStart(2, '0')}.0${(index % 9) + 1}.2025`,
    email: `debtor${account}@example.com`,
  };
}

function csvLine(record: DebtorRecord): string {
  return `${record.name};${record.iban};${record.amount};${record.reference};${record.mandateReference};${record.mandateDate};${record.email}\n`;
}

export async function writeCsv(path: string, rows: number, firstAccount: number): Promise<void> {
  const out = createWriteStream(path);
  let buffer = `${HEADER.join(';')}\n`;
  let previous = '';
  for (let index = 0; index < rows; index++) {
    const line = index % 500 === 499 ? previous : csvLine(debtorRecord(index, firstAccount));
    previous = line;
    buffer += line;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

/** Streamed as Excel writes it: the sheet before the shared strings. */
export async function writeXlsx(path: string, rows: number, firstAccount: number): Promise<void> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: true, useStyles: true });
  const sheet = workbook.addWorksheet('Lastschriften');
  sheet.addRow(HEADER).commit();
  let previous: unknown[] = [];
  for (let index = 0; index < rows; index++) {
    if (index % 500 !== 499) {
      const record = debtorRecord(index, firstAccount);
      const amount = record.amount === '12,345' ? record.amount : Number(record.amount.replace(',', '.'));
      previous = [record.name, record.iban, amount, record.reference, record.mandateReference, record.mandateDate, record.email];
    }
    sheet.addRow(previous).commit();
  }
  sheet.commit();
  await workbook.commit();
}
