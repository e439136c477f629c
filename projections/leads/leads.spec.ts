import fc from 'fast-check';
import { InvalidInput } from '@chronicle/domain';
import type { RecordedEvent } from '@chronicle/event-store';
import { appendAndProject } from '../testing/append';
import { project, Projected, ScenarioEvent } from '../testing/harness';
import { historyArbitrary } from '../testing/random-history';
import { leadsProjection } from './projection';
import { getLead, LeadView, listLeads, ListLeadsParams } from './query';

const leadId = (n: number) => `10000000-0000-4000-8000-00000000000${n}`;
const K1 = 'k1000000-0000-4000-8000-000000000001';
const lead = (n: number, type: string, occurredAt: string, data: Record<string, unknown> = {}): ScenarioEvent => ({
  streamId: `lead-${leadId(n)}`,
  type,
  data: { leadId: leadId(n), ...data },
  occurredAt,
});

describe('leads projection', () => {
  let p: Projected;
  afterEach(() => p?.close());

  it('follows a lead from capture through scoring and assignment to conversion', async () => {
    p = await project(
      [
        lead(1, 'LeadCaptured', '2024-01-01T00:00:00.000Z', {
          name: 'Grace',
          email: 'grace@navy.mil',
          source: 'events',
          campaignId: K1,
          attributes: { booth: 7 },
        }),
      ],
      [leadsProjection],
    );
    const captured: LeadView = {
      id: leadId(1),
      name: 'Grace',
      email: 'grace@navy.mil',
      source: 'events',
      campaignId: K1,
      attributes: { booth: 7 },
      ownerId: null,
      score: null,
      scoreReasons: [],
      status: 'new',
      capturedAt: '2024-01-01T00:00:00.000Z',
      qualifiedAt: null,
      disqualifiedAt: null,
      disqualifyReason: null,
      convertedAt: null,
      convertedCustomerId: null,
      updatedAt: '2024-01-01T00:00:00.000Z',
      archived: false,
      archivedAt: null,
    };
    expect(await getLead(p.readModels, leadId(1))).toEqual(captured);
    await appendAndProject(p, [
      lead(1, 'LeadScored', '2024-01-02T00:00:00.000Z', { score: 40, reasons: ['title'] }),
      lead(1, 'LeadScored', '2024-01-03T00:00:00.000Z', { score: 85, reasons: ['title', 'visited pricing'] }),
      lead(1, 'LeadAssigned', '2024-01-03T01:00:00.000Z', { ownerId: 'u3', strategy: 'round-robin' }),
      lead(1, 'LeadQualified', '2024-01-04T00:00:00.000Z'),
    ]);
    const qualified = {
      ...captured,
      score: 85,
      scoreReasons: ['title', 'visited pricing'],
      ownerId: 'u3',
      status: 'qualified' as const,
      qualifiedAt: '2024-01-04T00:00:00.000Z',
      updatedAt: '2024-01-04T00:00:00.000Z',
    };
    expect(await getLead(p.readModels, leadId(1))).toEqual(qualified);
    await appendAndProject(p, [lead(1, 'LeadConverted', '2024-01-05T00:00:00.000Z', { customerId: 'c-77', source: 'events' })]);
    expect(await getLead(p.readModels, leadId(1))).toEqual({
      ...qualified,
      status: 'converted',
      convertedAt: '2024-01-05T00:00:00.000Z',
      convertedCustomerId: 'c-77',
      updatedAt: '2024-01-05T00:00:00.000Z',
    });

    await appendAndProject(p, [
      lead(2, 'LeadCaptured', '2024-01-06T00:00:00.000Z', { name: 'Linus', source: 'web' }),
      lead(2, 'LeadDisqualified', '2024-01-07T00:00:00.000Z', { reason: 'student' }),
    ]);
    expect(await getLead(p.readModels, leadId(2))).toMatchObject({
      status: 'disqualified',
      disqualifiedAt: '2024-01-07T00:00:00.000Z',
      disqualifyReason: 'student',
      email: null,
      campaignId: null,
    });
    expect(await getLead(p.readModels, 'no-such-lead')).toBeNull();
  });

  it('lists with filters, sorts (score included) and pagination', async () => {
    p = await project(
      [
        lead(1, 'LeadCaptured', '2024-01-01T00:00:00.000Z', { name: 'A', source: 'web', campaignId: K1 }),
        lead(2, 'LeadCaptured', '2024-01-02T00:00:00.000Z', { name: 'B', source: 'ads' }),
        lead(3, 'LeadCaptured', '2024-01-03T00:00:00.000Z', { name: 'C', source: 'web', campaignId: K1 }),
        lead(4, 'LeadCaptured', '2024-01-04T00:00:00.000Z', { name: 'D', source: 'web' }),
        lead(5, 'LeadCaptured', '2024-01-05T00:00:00.000Z', { name: 'E', source: 'referral' }),
        lead(1, 'LeadScored', '2024-01-06T00:00:00.000Z', { score: 30, reasons: [] }),
        lead(3, 'LeadScored', '2024-01-06T00:00:00.000Z', { score: 90, reasons: [] }),
        lead(4, 'LeadScored', '2024-01-06T00:00:00.000Z', { score: 30, reasons: [] }),
        lead(2, 'LeadAssigned', '2024-01-07T00:00:00.000Z', { ownerId: 'u1' }),
        lead(3, 'LeadAssigned', '2024-01-07T00:00:00.000Z', { ownerId: 'u1' }),
        lead(3, 'LeadQualified', '2024-01-08T00:00:00.000Z'),
        lead(4, 'LeadDisqualified', '2024-01-08T00:00:00.000Z', { reason: 'spam' }),
      ],
      [leadsProjection],
    );
    const list = async (params: ListLeadsParams) => {
      const page = await listLeads(p.readModels, params);
      return { ids: page.items.map((l) => Number(l.id.slice(-1))), total: page.total, limit: page.limit, offset: page.offset };
    };
    expect(await list({})).toEqual({ ids: [5, 4, 3, 2, 1], total: 5, limit: 50, offset: 0 });
    expect(await list({ sort: '-score' })).toEqual({ ids: [3, 1, 4, 2, 5], total: 5, limit: 50, offset: 0 }); // unscored last, ties by id
    expect(await list({ sort: 'score', limit: 2, offset: 2 })).toEqual({ ids: [1, 4], total: 5, limit: 2, offset: 2 });
    expect(await list({ source: 'web', sort: 'capturedAt' })).toEqual({ ids: [1, 3, 4], total: 3, limit: 50, offset: 0 });
    expect(await list({ campaignId: K1, sort: '-score' })).toEqual({ ids: [3, 1], total: 2, limit: 50, offset: 0 });
    expect(await list({ status: 'new' })).toEqual({ ids: [5, 2, 1], total: 3, limit: 50, offset: 0 });
    expect(await list({ ownerId: 'u1', status: 'qualified' })).toEqual({ ids: [3], total: 1, limit: 50, offset: 0 });
    expect(await list({ status: 'disqualified', source: 'ads' })).toEqual({ ids: [], total: 0, limit: 50, offset: 0 });
    for (const bad of [{ status: 'open' }, { sort: 'name' }, { limit: -1 }]) {
      await expect(listLeads(p.readModels, bad)).rejects.toBeInstanceOf(InvalidInput);
    }
  });
});

/** Random histories never score or assign leads: add both, right after some captures. */
function withScoresAndOwners(scenario: ScenarioEvent[]): ScenarioEvent[] {
  return scenario.flatMap((e, i) => {
    if (e.type !== 'LeadCaptured') return [e];
    const id = e.data.leadId as string;
    const extra: ScenarioEvent[] = [];
    if (i % 3 !== 0) extra.push({ ...e, type: 'LeadScored', data: { leadId: id, score: (i * 37) % 7, reasons: ['r'] } });
    if (i % 2 === 0) extra.push({ ...e, type: 'LeadAssigned', data: { leadId: id, ownerId: `u${i % 3}` } });
    return [e, ...extra];
  });
}

function foldLeads(events: RecordedEvent[]): LeadView[] {
  const leads = new Map<string, LeadView>();
  for (const e of events) {
    const d = e.data as Record<string, any>;
    const l = leads.get(d.leadId);
    if (e.type !== 'LeadCaptured' && l) l.updatedAt = e.occurredAt;
    switch (e.type) {
      case 'LeadCaptured':
        leads.set(d.leadId, {
          id: d.leadId,
          name: d.name,
          email: d.email ?? null,
          source: d.source,
          campaignId: d.campaignId ?? null,
          attributes: d.attributes ?? null,
          ownerId: null,
          score: null,
          scoreReasons: [],
          status: 'new',
          capturedAt: e.occurredAt,
          qualifiedAt: null,
          disqualifiedAt: null,
          disqualifyReason: null,
          convertedAt: null,
          convertedCustomerId: null,
          updatedAt: e.occurredAt,
          archived: false,
          archivedAt: null,
        });
        break;
      case 'LeadScored':
        Object.assign(l!, { score: d.score, scoreReasons: d.reasons });
        break;
      case 'LeadAssigned':
        l!.ownerId = d.ownerId;
        break;
      case 'LeadQualified':
        Object.assign(l!, { status: 'qualified', qualifiedAt: e.occurredAt });
        break;
      case 'LeadDisqualified':
        Object.assign(l!, { status: 'disqualified', disqualifiedAt: e.occurredAt, disqualifyReason: d.reason });
        break;
      case 'LeadConverted':
        Object.assign(l!, { status: 'converted', convertedAt: e.occurredAt, convertedCustomerId: d.customerId });
        break;
    }
  }
  return [...leads.values()];
}

describe('leads list = a fold of the raw events (property)', () => {
  it('matches for random histories and several filter, sort and page combinations', async () => {
    const combos: ListLeadsParams[] = [
      {},
      { sort: '-score' },
      { status: 'new', limit: 3, offset: 2 },
      { status: 'converted', source: 'ads' },
      { status: 'converted', sort: 'capturedAt' },
      { status: 'new', source: 'web', sort: 'score', limit: 3, offset: 1 },
      { ownerId: 'u0', sort: '-score' },
      { source: 'referral', status: 'qualified' },
    ];
    await fc.assert(
      fc.asyncProperty(historyArbitrary({ minSteps: 120, maxSteps: 200 }), async (history) => {
        const p = await project(withScoresAndOwners(history), [leadsProjection]);
        try {
          const leads = foldLeads(p.events);
          const campaigns = [...new Set(leads.flatMap((l) => (l.campaignId ? [l.campaignId] : [])))].slice(0, 2);
          for (const params of [...combos, ...campaigns.map((campaignId): ListLeadsParams => ({ campaignId, sort: '-score' }))]) {
            const sort = params.sort ?? '-capturedAt';
            const field = sort.replace('-', '') as 'capturedAt' | 'score';
            const dir = sort.startsWith('-') ? -1 : 1;
            const cmp = (a: LeadView, b: LeadView) => {
              const [x, y] = [a[field], b[field]];
              const c = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
              return c !== 0 ? c * dir : a.id < b.id ? -1 : 1;
            };
            const matching = leads
              .filter((l) => (!params.status || l.status === params.status) && (!params.source || l.source === params.source))
              .filter(
                (l) => (!params.ownerId || l.ownerId === params.ownerId) && (!params.campaignId || l.campaignId === params.campaignId),
              )
              .sort(cmp);
            const page = await listLeads(p.readModels, params);
            const offset = params.offset ?? 0;
            expect(page.total).toBe(matching.length);
            expect(page.items).toEqual(matching.slice(offset, offset + (params.limit ?? 50)));
          }
        } finally {
          await p.close();
        }
      }),
      { numRuns: 20, seed: 5 },
    );
  });
});
