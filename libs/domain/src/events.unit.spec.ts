import { schemaVersionOf, schemaVersions, upcast, upcasters } from './events';

describe('event schema versions and upcasting', () => {
  const registered: string[] = [];
  const register = (key: string, upcaster: (data: Record<string, unknown>) => Record<string, unknown>) => {
    upcasters[key] = upcaster;
    registered.push(key);
  };

  afterEach(() => {
    for (const key of registered.splice(0)) delete upcasters[key];
  });

  it('knows the current schema version of every event type', () => {
    expect(schemaVersions.CustomerAcquired).toBe(1);
    expect(schemaVersionOf('DealWon')).toBe(schemaVersions.DealWon);
    expect(schemaVersionOf('SomethingUnknown')).toBe(1);
  });

  it('leaves an event without upcaster unchanged', () => {
    const data = { customerId: 'c-1', reason: 'price' };
    expect(upcast('CustomerChurned', 1, data)).toEqual({ data, schemaVersion: 1 });
  });

  it('applies the registered upcaster chain from the stored version on', () => {
    register('CustomerChurned@1', (d) => ({ ...d, category: 'unknown' }));
    register('CustomerChurned@2', ({ reason, ...d }) => ({ ...d, reasons: [reason] }));

    expect(upcast('CustomerChurned', 1, { customerId: 'c-1', reason: 'price' })).toEqual({
      data: { customerId: 'c-1', category: 'unknown', reasons: ['price'] },
      schemaVersion: 3,
    });
    expect(upcast('CustomerChurned', 2, { customerId: 'c-1', reason: 'price', category: 'voluntary' })).toEqual({
      data: { customerId: 'c-1', category: 'voluntary', reasons: ['price'] },
      schemaVersion: 3,
    });
  });

  it('applies upcasters of the event type only', () => {
    register('CustomerChurned@1', (d) => ({ ...d, upcasted: true }));
    expect(upcast('CustomerReactivated', 1, { customerId: 'c-1' })).toEqual({ data: { customerId: 'c-1' }, schemaVersion: 1 });
  });

  it('leaves no upcaster behind after a test', () => {
    expect(upcasters['CustomerChurned@1']).toBeUndefined();
  });
});
