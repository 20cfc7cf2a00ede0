import { describe, expect, it } from 'vitest';
import { toSepaText } from '../src/sepa-text';

describe('toSepaText', () => {
  it('keeps text already in the SEPA set, whitespace collapsed', () => {
    expect(toSepaText("  O'Brien-Smith  (Ltd.)\t")).toEqual({ ok: true, text: "O'Brien-Smith (Ltd.)" });
  });

  it('transliterates German and other Latin letters as banks do', () => {
    expect(toSepaText('Jürgen Groß & Söhne')).toEqual({ ok: true, text: 'Juergen Gross + Soehne' });
    expect(toSepaText('Zoë Łukasz Ørsted Ñúñez Dvořák')).toEqual({ ok: true, text: 'Zoe Lukasz Orsted Nunez Dvorak' });
    expect(toSepaText('Anne “Nan” O’Neil – Café')).toEqual({ ok: true, text: "Anne 'Nan' O'Neil - Cafe" });
  });

  it('keeps the case of the word a letter expands in', () => {
    expect(toSepaText('Öberg ÖBERG Æsop Þór')).toEqual({ ok: true, text: 'Oeberg OEBERG Aesop Thor' });
  });

  it('handles decomposed input like composed', () => {
    expect(toSepaText('Mu\u0308ller')).toEqual({ ok: true, text: 'Mueller' });
  });

  it('reports characters that have no mapping instead of dropping them', () => {
    expect(toSepaText('Иван Petrov')).toEqual({ ok: false, unmappable: ['И', 'в', 'а', 'н'] });
    expect(toSepaText('Ann @ Home #1')).toEqual({ ok: false, unmappable: ['@', '#'] });
  });
});
