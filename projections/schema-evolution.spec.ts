import { decideLogInteraction, LogInteraction, schemaVersions } from '@chronicle/domain';
import { readFixtureHistory } from '../test/support/fixture-history';
import { dumpReadModels } from '../test/support/read-model-dump';
import { activityReport } from './activity/query';
import { customerTimeline } from './customer-timeline/query';
import { projections } from './index';
import { project, Projected, ScenarioEvent } from './testing/harness';
import { reportParams } from './testing/report-params';

/**
 * A history written by schema version 1 of InteractionLogged (test/fixtures/histories), read by
 * today's projections: they see version 2 (docs/schema-evolution.md), and every read model is the
 * one the same requests produce today.
 */
describe('a stored version 1 history, read by the projections', () => {
  const history = readFixtureHistory('v1-interactions');
  const customerId = history[0].data.customerId as string;
  const scenario = (today: boolean): ScenarioEvent[] =>
    history.map((e) => ({
      streamId: e.streamId,
      eventId: e.eventId,
      type: e.type,
      occurredAt: e.occurredAt,
      actor: e.actor,
      // As stored by version 1, or as logging the same interaction writes it today (not by upcasting: that is under test).
      ...(today && e.type === 'InteractionLogged'
        ? { data: written(e.data as LogInteraction['data'], e.occurredAt), schemaVersion: schemaVersions.InteractionLogged }
        : { data: e.data, schemaVersion: e.schemaVersion }),
    }));
  const written = (data: LogInteraction['data'], occurredAt: string) =>
    decideLogInteraction({ type: 'LogInteraction', data, occurredAt }, true)[0].data as unknown as Record<string, unknown>;

  let stored: Projected;
  let today: Projected;
  beforeAll(async () => {
    expect(history.filter((e) => e.type === 'InteractionLogged').map((e) => e.schemaVersion)).toEqual([1, 1, 1, 1, 1]);
    stored = await project(scenario(false), projections);
    today = await project(scenario(true), projections);
  });
  afterAll(async () => {
    await stored?.close();
    await today?.close();
  });

  it('projections receive version 2: the timeline shows each interaction with its channel', async () => {
    const interactions = stored.events.filter((e) => e.type === 'InteractionLogged');
    expect(interactions.map((e) => [e.schemaVersion, e.storedSchemaVersion])).toEqual(Array(5).fill([2, 1]));
    const timeline = await customerTimeline(stored.readModels, customerId);
    expect(timeline.items.filter((e) => e.type === 'InteractionLogged').map((e) => [e.details.interactionType, e.details.channel])).toEqual(
      [
        ['web-visit', { medium: 'web', live: false }],
        ['note', { medium: 'internal', live: false }],
        ['meeting', { medium: 'meeting', live: true }],
        ['email', { medium: 'email', live: false }],
        ['call', { medium: 'voice', live: true }],
      ],
    );
  });

  it('every read model equals the one the same requests build today, so every report figure stays the same', async () => {
    expect(await dumpReadModels(stored.readStore, stored.eventStore, projections)).toEqual(
      await dumpReadModels(today.readStore, today.eventStore, projections),
    );
    const params = reportParams({ from: '2024-03-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' });
    const activity = await activityReport.run(params, stored.context);
    expect(activity.totals.interactions).toBe(5);
    expect(activity).toEqual(await activityReport.run(params, today.context));
  });
});
