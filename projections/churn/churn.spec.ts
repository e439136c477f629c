import fc from 'fast-check';
import { Intervals } from '../common/periods';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { withProfileChanges } from '../testing/profile-changes';
import { historyArbitrary } from '../testing/random-history';
import { churnProjection } from './projection';
import { buildChurnReport, churnReport } from './query';
import { referenceChurn } from './reference';

const DAY = 86_400_000;
const event = (customerId: string, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `customer-${customerId}`,
  type,
  data: { customerId, ...data },
  occurredAt,
});
const registered = (id: string, at: string, source: string, region: string, ownerId: string) =>
  event(id, 'CustomerRegistered', at, { name: id, source, region, ownerId });
const acquired = (id: string, at: string, channel: string) =>
  event(id, 'CustomerAcquired', at, { channel, trigger: { type: 'PurchaseRecorded', purchaseId: `p-${id}` } });
const churned = (id: string, at: string) => event(id, 'CustomerChurned', at, { reason: 'price' });
const reactivated = (id: string, at: string) => event(id, 'CustomerReactivated', at);

const MONTHS = ['2023-11-01', '2023-12-01', '2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01'];
/** Periods Nov 2023 … Mar 2024 from rows [atStart, new, reactivated, churned, atEnd, churnRate]. */
const months = (rows: [number, number, number, number, number, number | null][]) =>
  rows.map(([customersAtStart, newCustomers, reactivated, churned, customersAtEnd, churnRate], i) => ({
    start: `${MONTHS[i]}T00:00:00.000Z`,
    end: `${MONTHS[i + 1]}T00:00:00.000Z`,
    customersAtStart,
    newCustomers,
    reactivated,
    churned,
    customersAtEnd,
    churnRate,
  }));

describe('churn report', () => {
  let p: Projected | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('hand-computed: active customers, churn and reactivation per month, overall and per group, with boundary events', async () => {
    p = await project(
      [
        registered('f', '2023-10-01T00:00:00.000Z', 'web', 'amer', 'u1'),
        registered('g', '2023-10-01T00:00:00.000Z', 'ads', 'emea', 'u2'),
        acquired('f', '2023-10-02T00:00:00.000Z', 'web'),
        acquired('g', '2023-10-03T00:00:00.000Z', 'ads'),
        registered('e', '2023-11-01T00:00:00.000Z', 'web', 'apac', 'u2'),
        acquired('e', '2023-11-05T00:00:00.000Z', 'web'),
        registered('a', '2023-12-01T00:00:00.000Z', 'web', 'emea', 'u1'),
        acquired('a', '2023-12-15T00:00:00.000Z', 'web'),
        churned('e', '2023-12-20T00:00:00.000Z'),
        registered('c', '2024-01-02T00:00:00.000Z', 'web', 'emea', 'u1'),
        registered('b', '2024-01-05T00:00:00.000Z', 'ads', 'amer', 'u2'),
        acquired('b', '2024-01-10T00:00:00.000Z', 'ads'),
        churned('b', '2024-01-31T23:59:59.999Z'), // January's last instant
        churned('a', '2024-02-01T00:00:00.000Z'), // February: a is still active at its start
        acquired('c', '2024-02-01T00:00:00.000Z', 'web'), // February: not yet active at its start
        registered('d', '2024-03-01T00:00:00.000Z', 'referral', 'apac', 'u1'), // a prospect: never counted
        event('c', 'CustomerProfileUpdated', '2024-03-05T00:00:00.000Z', { region: 'apac' }), // c's whole history moves to apac
        reactivated('a', '2024-03-10T00:00:00.000Z'),
        event('a', 'CustomerOwnerAssigned', '2024-03-20T00:00:00.000Z', { ownerId: 'u2', previousOwnerId: 'u1' }), // a's whole history moves to u2
        reactivated('e', '2024-03-31T23:59:59.999Z'),
      ],
      [churnProjection],
    );
    // `from` mid-November is truncated to November 1; `to` mid-March makes March the last (whole) period.
    const params = {
      from: '2023-11-15T00:00:00.000Z',
      to: '2024-03-15T00:00:00.000Z',
      interval: 'month' as const,
      asOf: '2024-04-01T00:00:00.000Z',
      limit: 10,
    };
    // Overall — active: f, g since October.
    const overall = months([
      [2, 1, 0, 0, 3, 0], //      Nov: + e; 0 / 2
      [3, 1, 0, 1, 3, 0.3333], // Dec: + a, − e; 1 / 3 = 0.33333… → 0.3333
      [3, 1, 0, 1, 3, 0.3333], // Jan: + b, − b (23:59:59.999)
      [3, 1, 0, 1, 3, 0.3333], // Feb: + c (Feb 1 00:00), − a (Feb 1 00:00; active at the start)
      [3, 0, 2, 0, 5, 0], //      Mar: a and e reactivated (e at the last instant)
    ]);
    expect(await churnReport.run(params, p.context)).toEqual({ interval: 'month', periods: overall });

    // By acquisition channel: web = f, e, a, c; ads = g, b.
    expect(await buildChurnReport({ ...params, groupBy: 'channel' }, p.context)).toEqual({
      interval: 'month',
      periods: overall,
      groupBy: 'channel',
      groups: [
        {
          key: 'ads',
          periods: months([
            [1, 0, 0, 0, 1, 0],
            [1, 0, 0, 0, 1, 0],
            [1, 1, 0, 1, 1, 1],
            [1, 0, 0, 0, 1, 0],
            [1, 0, 0, 0, 1, 0],
          ]),
        }, // Jan: 1 / 1
        {
          key: 'web',
          periods: months([
            [1, 1, 0, 0, 2, 0],
            [2, 1, 0, 1, 2, 0.5],
            [2, 0, 0, 0, 2, 0],
            [2, 1, 0, 1, 2, 0.5],
            [2, 0, 2, 0, 4, 0],
          ]),
        }, // 1 / 2
      ],
    });
    // By current owner: u1 = f, c (a moved to u2, d never acquired); u2 = g, e, a, b.
    expect((await buildChurnReport({ ...params, groupBy: 'owner' }, p.context)).groups).toEqual([
      {
        key: 'u1',
        periods: months([
          [1, 0, 0, 0, 1, 0],
          [1, 0, 0, 0, 1, 0],
          [1, 0, 0, 0, 1, 0],
          [1, 1, 0, 0, 2, 0],
          [2, 0, 0, 0, 2, 0],
        ]),
      },
      {
        key: 'u2',
        periods: months([
          [1, 1, 0, 0, 2, 0],
          [2, 1, 0, 1, 2, 0.5],
          [2, 1, 0, 1, 2, 0.5],
          [2, 0, 0, 1, 1, 0.5],
          [1, 0, 2, 0, 3, 0],
        ]),
      },
    ]);
    // By current region: amer = f, b; apac = e, c (moved from emea); emea = g, a.
    expect((await buildChurnReport({ ...params, groupBy: 'region' }, p.context)).groups).toEqual([
      {
        key: 'amer',
        periods: months([
          [1, 0, 0, 0, 1, 0],
          [1, 0, 0, 0, 1, 0],
          [1, 1, 0, 1, 1, 1],
          [1, 0, 0, 0, 1, 0],
          [1, 0, 0, 0, 1, 0],
        ]),
      },
      // nobody active at the start of Nov, Jan and Feb: churnRate has a zero denominator → null
      {
        key: 'apac',
        periods: months([
          [0, 1, 0, 0, 1, null],
          [1, 0, 0, 1, 0, 1],
          [0, 0, 0, 0, 0, null],
          [0, 1, 0, 0, 1, null],
          [1, 0, 1, 0, 2, 0],
        ]),
      },
      {
        key: 'emea',
        periods: months([
          [1, 0, 0, 0, 1, 0],
          [1, 1, 0, 0, 2, 0],
          [2, 0, 0, 0, 2, 0],
          [2, 0, 0, 1, 1, 0.5],
          [1, 0, 1, 0, 2, 0],
        ]),
      },
    ]);

    // Days around the February boundary: a churns and c is acquired at Feb 1 00:00.
    expect(
      (await buildChurnReport({ from: '2024-01-31T00:00:00.000Z', to: '2024-02-02T00:00:00.000Z', interval: 'day' }, p.context)).periods,
    ).toEqual([
      {
        start: '2024-01-31T00:00:00.000Z',
        end: '2024-02-01T00:00:00.000Z',
        customersAtStart: 4,
        newCustomers: 0,
        reactivated: 0,
        churned: 1,
        customersAtEnd: 3,
        churnRate: 0.25,
      }, // f g a b; − b: 1 / 4
      {
        start: '2024-02-01T00:00:00.000Z',
        end: '2024-02-02T00:00:00.000Z',
        customersAtStart: 3,
        newCustomers: 1,
        reactivated: 0,
        churned: 1,
        customersAtEnd: 3,
        churnRate: 0.3333,
      },
    ]);
    // Before anyone was acquired: zeros, and a null rate.
    expect(
      await buildChurnReport(
        { from: '2023-09-01T00:00:00.000Z', to: '2023-10-01T00:00:00.000Z', interval: 'month', groupBy: 'owner' },
        p.context,
      ),
    ).toEqual({
      interval: 'month',
      periods: [
        {
          start: '2023-09-01T00:00:00.000Z',
          end: '2023-10-01T00:00:00.000Z',
          customersAtStart: 0,
          newCustomers: 0,
          reactivated: 0,
          churned: 0,
          customersAtEnd: 0,
          churnRate: null,
        },
      ],
      groupBy: 'owner',
      groups: [],
    });
  });

  it('property: served through the projector, equals the reference fold over the raw events', async () => {
    await fc.assert(
      fc.asyncProperty(
        withProfileChanges(historyArbitrary({ minSteps: 80, maxSteps: 160 })),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (history, x, y) => {
          const projected = await project(history, [churnProjection]);
          try {
            const times = projected.events.map((e) => Date.parse(e.occurredAt));
            const first = Math.min(...times);
            const last = Math.max(...times);
            const at = (r: number) => Math.round(first - 10 * DAY + r * (last - first + 20 * DAY));
            const [a, b] = [at(x), at(y)].sort((u, v) => u - v);
            for (const interval of Intervals) {
              // Day and week periods over a bounded span keep the reference fold quick.
              const short = interval === 'day' || interval === 'week';
              const ranges = short
                ? [[a, Math.min(b, a + 100 * DAY) + 1]]
                : [
                    [first, last + 1],
                    [a, b + 1],
                  ];
              for (const [from, to] of ranges) {
                for (const groupBy of [undefined, 'channel', 'region', 'owner'] as const) {
                  const fromIso = new Date(from).toISOString();
                  const toIso = new Date(to).toISOString();
                  expect(await buildChurnReport({ from: fromIso, to: toIso, interval, groupBy }, projected.context)).toEqual(
                    referenceChurn(projected.events, fromIso, toIso, interval, groupBy),
                  );
                }
              }
            }
          } finally {
            await projected.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);
});
