import { KEY_BYTES } from './cipher';
import { KeyStore, PersonalDataErasedError } from './key-store';

/** The behaviour every key-store adapter must have (run on SQLite in `npm test`, on FerretDB in the integration tier). */
export function keyStoreContract(name: string, make: () => Promise<KeyStore>): void {
  describe(`${name} key store (contract)`, () => {
    let keys: KeyStore;
    beforeEach(async () => void (keys = await make()));
    afterEach(() => keys.close());

    it('makes a 256-bit key on first use and returns the same key afterwards', async () => {
      const first = await keys.obtain('customer-a');
      expect(first).toHaveLength(KEY_BYTES);
      expect((await keys.obtain('customer-a')).equals(first)).toBe(true);
      expect((await keys.obtain('customer-b')).equals(first)).toBe(false);
    });

    it('gives the same key to concurrent first uses', async () => {
      const all = await Promise.all(Array.from({ length: 8 }, () => keys.obtain('lead-race')));
      for (const key of all) expect(key.equals(all[0])).toBe(true);
    });

    it('obtains many keys at once: the existing ones, new ones made, erased subjects said', async () => {
      const a = await keys.obtain('customer-a');
      await keys.destroy('customer-gone');
      const found = await keys.obtainMany(['customer-a', 'customer-new', 'customer-gone', 'customer-new']);
      expect((found.get('customer-a') as Buffer).equals(a)).toBe(true);
      expect(found.get('customer-new')).toHaveLength(KEY_BYTES);
      expect((found.get('customer-new') as Buffer).equals(await keys.obtain('customer-new'))).toBe(true);
      expect(found.get('customer-gone')).toBe('erased');
      expect(found.size).toBe(3);
    });

    it('finds keys, erased subjects and unknown subjects in one call', async () => {
      const a = await keys.obtain('customer-a');
      await keys.obtain('customer-b');
      await keys.destroy('customer-b');
      const found = await keys.findMany(['customer-a', 'customer-b', 'customer-never']);
      expect((found.get('customer-a') as Buffer).equals(a)).toBe(true);
      expect(found.get('customer-b')).toBe('erased');
      expect(found.get('customer-never')).toBeUndefined();
      expect(found.size).toBe(3);
    });

    it('destroys a key for good: a tombstone refuses a new key, and destroying again is fine', async () => {
      await keys.obtain('customer-gone');
      await keys.destroy('customer-gone');
      await keys.destroy('customer-gone');
      await expect(keys.obtain('customer-gone')).rejects.toBeInstanceOf(PersonalDataErasedError);
      // Erasing a subject that never had a key leaves a tombstone too.
      await keys.destroy('lead-unknown');
      await expect(keys.obtain('lead-unknown')).rejects.toThrow(/lead-unknown was erased/);
    });
  });
}
