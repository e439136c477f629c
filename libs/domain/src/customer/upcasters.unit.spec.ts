import { schemaVersions, upcast } from '../events';
import type { LogInteraction } from './commands';
import { decideLogInteraction } from './decider';
import { InteractionTypes } from './events';

describe('InteractionLogged upcaster (1 → 2)', () => {
  const command = (type: LogInteraction['data']['type']): LogInteraction => ({
    type: 'LogInteraction',
    data: { customerId: 'c-1', interactionId: 'i-1', type, direction: 'inbound', subject: 'Hello', durationMinutes: 5 },
    occurredAt: '2024-03-04T10:00:00.000Z',
  });

  it('is the current version', () => expect(schemaVersions.InteractionLogged).toBe(2));

  it.each(InteractionTypes)('turns a stored version 1 %s into exactly what logging it writes today', (type) => {
    // Version 1 is what the decider wrote before the channel: the command's data as it came.
    const v1 = { ...command(type).data };
    const [written] = decideLogInteraction(command(type), true);
    expect(upcast('InteractionLogged', 1, v1)).toEqual({ data: written.data, schemaVersion: 2 });
  });

  it('keeps sealed personal fields as they are (upcasting runs on events as stored)', () => {
    const sealed = { subject: 'customer-c-1', fields: ['subject'], data: 'ciphertext' };
    const stored = { customerId: 'c-1', interactionId: 'i-1', type: 'call', direction: 'outbound', sealed };
    expect(upcast('InteractionLogged', 1, stored)).toEqual({
      data: { ...stored, channel: { medium: 'voice', live: true } },
      schemaVersion: 2,
    });
  });

  it('gives a type it does not know the channel `other` instead of failing the read', () => {
    expect(upcast('InteractionLogged', 1, { type: 'carrier-pigeon' }).data).toEqual({
      type: 'carrier-pigeon',
      channel: { medium: 'other', live: false },
    });
  });

  it('leaves a version 2 event as it is', () => {
    const v2 = { type: 'email', channel: { medium: 'email', live: false } };
    expect(upcast('InteractionLogged', 2, v2)).toEqual({ data: v2, schemaVersion: 2 });
  });
});
