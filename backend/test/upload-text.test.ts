import { describe, expect, it } from 'vitest';
import { detectDelimiter } from '../src/uploads/csv-dialect';
import { NotTextError, TextInspector } from '../src/uploads/text-inspection';

function inspect(...chunks: Buffer[]) {
  const inspector = new TextInspector();
  for (const chunk of chunks) inspector.feed(chunk);
  return inspector.finish();
}

describe('TextInspector', () => {
  it('reads UTF-8, also when a character is split between chunks', () => {
    const bytes = Buffer.from('Name\nMüller\n');
    const split = bytes.indexOf(0xc3) + 1;
    expect(inspect(bytes.subarray(0, split), bytes.subarray(split))).toEqual({ encoding: 'utf-8', sample: 'Name\nMüller\n' });
  });

  it('falls back to Windows-1252 for bytes that are not UTF-8', () => {
    expect(inspect(Buffer.from('Name\nM\xfcller \x80\n', 'latin1'))).toEqual({ encoding: 'windows-1252', sample: 'Name\nMüller €\n' });
  });

  it('takes the encoding from a byte-order mark', () => {
    expect(inspect(Buffer.from('\ufeffa;b\n')).encoding).toBe('utf-8');
    expect(inspect(Buffer.from([0xfe, 0xff, 0x00, 0x61])).encoding).toBe('utf-16be');
    expect(inspect(Buffer.from([0xff, 0xfe, 0x61, 0x00]))).toEqual({ encoding: 'utf-16le', sample: 'a' });
  });

  it('refuses binary content and empty files', () => {
    expect(() => inspect(Buffer.from('IBAN,Name\n'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toThrow(NotTextError);
    expect(() => inspect(Buffer.from('a,b\x00c'))).toThrow(/control character 0x00/);
    expect(() => inspect(Buffer.from([0xff, 0xfe, 0x01, 0x00]))).toThrow(NotTextError);
    expect(() => inspect()).toThrow(/empty/);
  });
});

describe('detectDelimiter', () => {
  it.each([
    ['IBAN,Name,Amount\nDE1,Ada,1.00\n', ','],
    ['IBAN;Name;Betrag\nDE1;Müller, Hans;1,00\nDE2;Meier, Eva;2,00\n', ';'],
    ['IBAN\tName\tAmount\nDE1\tAda, Countess\t1,00\n', '\t'],
    ['"IBAN";"Name";"Betrag"\n"DE1";"A";"1,00"\n', ';'],
    ['IBAN,Name,Amount\nDE1,Ada,1.00\nDE2,"Cut off', ','],
  ])('finds the delimiter of %j', (sample, delimiter) => {
    expect(detectDelimiter(sample)).toBe(delimiter);
  });

  it('defaults to comma for a single column', () => {
    expect(detectDelimiter('IBAN\nDE1\n')).toBe(',');
  });
});
