/**
 * Valid German IBANs for tests and benchmarks, one per account number: the check digits are
 * computed as ISO 13616 says (mod 97 of the BBAN followed by "DE00" as digits), not guessed.
 */
export function germanIban(account: number, bankCode = '37040044'): string {
  const bban = `${bankCode}${String(account).padStart(10, '0')}`;
  let remainder = 0;
  for (const digit of `${bban}131400`) remainder = (remainder * 10 + Number(digit)) % 97;
  return `DE${String(98 - remainder).padStart(2, '0')}${bban}`;
}
