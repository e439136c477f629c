import { ERASED } from '@chronicle/domain';
import { duplicatesKeyFrom, DEV_DUPLICATES_KEY } from './key';
import { normaliseEmail, normaliseName, normalisePhone } from './normalise';

describe('duplicates normalisers', () => {
  it('emails: trimmed, lower-cased, a +tag dropped from the local part; not an address is null', () => {
    expect(normaliseEmail('  Ada.Lovelace@Engines.IO ')).toBe('ada.lovelace@engines.io');
    expect(normaliseEmail('ada+crm@engines.io')).toBe('ada@engines.io');
    expect(normaliseEmail('ada+a+b@engines.io')).toBe('ada@engines.io');
    // Dots are kept (only some providers ignore them), and so is a + in the domain.
    expect(normaliseEmail('a.da@gmail.com')).not.toBe(normaliseEmail('ada@gmail.com'));
    for (const bad of ['', '   ', 'ada', '@engines.io', 'ada@', '+tag@engines.io', ERASED, null, undefined, 42])
      expect([bad, normaliseEmail(bad)]).toEqual([bad, null]);
  });

  it('phones: E.164 when the country is said (+ or 00), separators and a (0) trunk prefix dropped', () => {
    expect(normalisePhone('+44 20 7946 0000')).toBe('+442079460000');
    expect(normalisePhone('0044 (0)20-7946.0000')).toBe('+442079460000');
    expect(normalisePhone('+1 (415) 555-0100')).toBe('+14155550100');
    expect(normalisePhone('+49\u00a030 1234567')).toBe('+49301234567');
  });

  it('phones: a national number stays its digits and does not match its international form', () => {
    expect(normalisePhone('020 7946 0000')).toBe('02079460000');
    expect(normalisePhone('(020) 7946-0000')).toBe('02079460000');
    expect(normalisePhone('020 7946 0000')).not.toBe(normalisePhone('+44 20 7946 0000'));
  });

  it('phones: letters, extensions, too short or too long, a country code starting with 0, erased: null', () => {
    for (const bad of [
      '',
      'call me',
      '+44 20 7946 0000 ext 12',
      '12345',
      '+1234567',
      '+1234567890123456',
      '+0 20 7946 0000',
      ERASED,
      null,
      5,
    ])
      expect([bad, normalisePhone(bad)]).toEqual([bad, null]);
  });

  it('names: accents stripped (NFKD), lower-cased, punctuation and white space collapsed', () => {
    expect(normaliseName("  Zoë  O'Brien ")).toBe('zoe o brien');
    expect(normaliseName('ZOE-O.BRIEN')).toBe('zoe o brien');
    expect(normaliseName('Ångström & Söhne GmbH')).toBe('angstrom sohne gmbh');
    expect(normaliseName('ﬁnance Ⅳ')).toBe('finance iv');
    for (const bad of ['', ' -- ', ERASED, null, undefined]) expect([bad, normaliseName(bad)]).toEqual([bad, null]);
  });
});

describe('DUPLICATES_KEY', () => {
  it('is the configured text, at least 32 characters', () => {
    expect(duplicatesKeyFrom({ DUPLICATES_KEY: ` ${'k'.repeat(32)} ` })).toEqual(Buffer.from('k'.repeat(32)));
    expect(() => duplicatesKeyFrom({ DUPLICATES_KEY: 'short' })).toThrow(/DUPLICATES_KEY must be at least 32 characters/);
  });

  it('defaults to the development key outside production only', () => {
    expect(duplicatesKeyFrom({})).toEqual(Buffer.from(DEV_DUPLICATES_KEY));
    expect(duplicatesKeyFrom({ NODE_ENV: 'test' })).toEqual(Buffer.from(DEV_DUPLICATES_KEY));
    expect(duplicatesKeyFrom({ NODE_ENV: 'production' })).toBeUndefined();
    expect(duplicatesKeyFrom({ NODE_ENV: 'production', DUPLICATES_KEY: 'p'.repeat(40) })).toEqual(Buffer.from('p'.repeat(40)));
  });
});
