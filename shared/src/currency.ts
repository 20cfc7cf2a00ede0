/**
 * ISO 4217 minor units: how many decimals a currency's amounts have. Genesis sends transaction
 * amounts as integers in minor units, but the Chargeback API reports what the issuer reported,
 * as decimals in major units (chargeback_amount 300.0 = EUR 300.00): both meet here.
 */

/** Currencies whose minor unit is not the cent (ISO 4217); every other has two decimals. */
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

export function currencyExponent(currency: string | undefined): number {
  return EXPONENTS[(currency ?? '').trim().toUpperCase()] ?? 2;
}

const DECIMAL = /^(-?)(\d{1,15})(?:\.(\d{1,6}))?$/;

/**
 * "148.5" EUR → 14850; "-14625" with exponent 0 → -14625. Undefined when the text is not a
 * decimal or has more decimals than the currency can hold (a fraction of a cent is not money).
 */
export function majorToMinorUnits(text: string, currency: string | undefined): number | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const [, sign, whole, fraction = ''] = match;
  const exponent = currencyExponent(currency);
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) return undefined;
  const minor = Number(whole) * 10 ** exponent + Number(significant.padEnd(exponent, '0') || '0');
  if (!Number.isSafeInteger(minor)) return undefined;
  return sign === '-' && minor !== 0 ? -minor : minor;
}

/** 14850 EUR → "148.5", as the Chargeback API writes major-unit decimals (at least one decimal). */
export function minorToMajorUnits(minor: number, currency: string | undefined): string {
  const exponent = currencyExponent(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : digits.slice(-exponent).replace(/0+$/, '');
  return `${sign}${whole}.${fraction || '0'}`;
}

/** 14850 EUR → "148.50": every decimal the currency has, as accounting exports write money. */
export function minorUnitsAsDecimal(minor: number, currency: string | undefined): string {
  const exponent = currencyExponent(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  return exponent === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
