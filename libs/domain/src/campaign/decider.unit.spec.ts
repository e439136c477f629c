import { fold } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, InvalidInput } from '../common/errors';
import { DeciderSpecification } from '../testing/decider-specification';
import type { RecordSpend } from './commands';
import { campaignDecider, spendStreamId } from './decider';
import type { CampaignLaunched } from './events';

const spec = DeciderSpecification.for(campaignDecider);

const campaignId = 'cmp-1';
const launchedAt = '2024-01-01T08:00:00.000Z';
const t1 = '2024-01-15T10:00:00.000Z';

const launched: CampaignLaunched = {
  type: 'CampaignLaunched',
  data: { campaignId, name: 'Spring webinar', channel: 'webinar', budget: 5000 },
  occurredAt: launchedAt,
};

const recordSpend = (data: Partial<RecordSpend['data']> = {}): RecordSpend => ({
  type: 'RecordSpend',
  data: { spendId: 's-1', amount: 1200, category: 'marketing', ...data },
  occurredAt: t1,
});

const invalidAmounts: Array<[string, number]> = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-1', -1],
];

describe('campaign decider', () => {
  describe('LaunchCampaign', () => {
    it('launches a campaign on a channel with a budget', () =>
      spec
        .given([])
        .when({
          type: 'LaunchCampaign',
          data: { campaignId, name: 'Spring webinar', channel: 'webinar', budget: 5000 },
          occurredAt: launchedAt,
        })
        .then([launched]));

    it('launches a campaign without a budget', () =>
      spec
        .given([])
        .when({ type: 'LaunchCampaign', data: { campaignId, name: 'Ads', channel: 'paid_search.google' }, occurredAt: launchedAt })
        .then([{ type: 'CampaignLaunched', data: { campaignId, name: 'Ads', channel: 'paid_search.google' }, occurredAt: launchedAt }]));

    it('accepts a budget of 0', () =>
      spec
        .given([])
        .when({ type: 'LaunchCampaign', data: { ...launched.data, budget: 0 }, occurredAt: launchedAt })
        .then([{ ...launched, data: { ...launched.data, budget: 0 } }]));

    it.each(invalidAmounts)('rejects a budget of %s', (_label, budget) =>
      spec
        .given([])
        .when({ type: 'LaunchCampaign', data: { ...launched.data, budget }, occurredAt: launchedAt })
        .thenThrows(InvalidInput, (e) => e.field === 'budget'),
    );

    it.each(['Paid Search', 'webinar!', '-leading-dash', ''])('rejects the channel %j (not a lower-case slug)', (channel) =>
      spec
        .given([])
        .when({ type: 'LaunchCampaign', data: { ...launched.data, channel }, occurredAt: launchedAt })
        .thenThrows(InvalidInput, (e) => e.field === 'channel'),
    );

    it('rejects an empty name', () =>
      spec
        .given([])
        .when({ type: 'LaunchCampaign', data: { ...launched.data, name: ' ' }, occurredAt: launchedAt })
        .thenThrows(InvalidInput, (e) => e.field === 'name'));

    it('rejects launching a campaign that already exists', () =>
      spec
        .given([launched])
        .when({ type: 'LaunchCampaign', data: launched.data, occurredAt: t1 })
        .thenThrows(AggregateAlreadyExists, `campaign-${campaignId} already exists`));
  });

  describe('RecordSpend', () => {
    it("records spend on a campaign under the campaign's channel", () =>
      spec
        .given([launched])
        .when(recordSpend({ campaignId, description: 'speaker fee' }))
        .then([
          {
            type: 'SpendRecorded',
            data: { spendId: 's-1', amount: 1200, category: 'marketing', channel: 'webinar', campaignId, description: 'speaker fee' },
            occurredAt: t1,
          },
        ]));

    it('keeps the channel a campaign spend names itself', () =>
      spec
        .given([launched])
        .when(recordSpend({ campaignId, channel: 'events', category: 'sales' }))
        .then([
          {
            type: 'SpendRecorded',
            data: { spendId: 's-1', amount: 1200, category: 'sales', channel: 'events', campaignId },
            occurredAt: t1,
          },
        ]));

    it('rejects spend on a campaign that does not exist', () =>
      spec
        .given([])
        .when(recordSpend({ campaignId: 'cmp-404' }))
        .thenThrows(AggregateNotFound, 'campaign-cmp-404 does not exist'));

    it('records spend without a campaign on its own channel', () =>
      spec
        .given([])
        .when(recordSpend({ channel: 'seo' }))
        .then([{ type: 'SpendRecorded', data: { spendId: 's-1', amount: 1200, category: 'marketing', channel: 'seo' }, occurredAt: t1 }]));

    it('records spend without campaign or channel as unattributed (channel null)', () =>
      spec
        .given([])
        .when(recordSpend())
        .then([{ type: 'SpendRecorded', data: { spendId: 's-1', amount: 1200, category: 'marketing', channel: null }, occurredAt: t1 }]));

    it('accepts an amount of 0', () =>
      spec
        .given([])
        .when(recordSpend({ amount: 0, channel: 'seo' }))
        .then([{ type: 'SpendRecorded', data: { spendId: 's-1', amount: 0, category: 'marketing', channel: 'seo' }, occurredAt: t1 }]));

    it.each(invalidAmounts)('rejects an amount of %s', (_label, amount) =>
      spec
        .given([launched])
        .when(recordSpend({ amount, campaignId }))
        .thenThrows(InvalidInput, (e) => e.field === 'amount'),
    );

    it('rejects a channel that is not a slug', () =>
      spec
        .given([])
        .when(recordSpend({ channel: 'Paid Search' }))
        .thenThrows(InvalidInput, (e) => e.field === 'channel' && e.message.includes('lower-case slug')));

    it('rejects an unknown category', () =>
      spec
        .given([])
        .when(recordSpend({ channel: 'seo', category: 'travel' as never }))
        .thenThrows(InvalidInput, (e) => e.field === 'category'));
  });

  describe('spendStreamId', () => {
    it("stores a campaign's spend in the campaign stream, other spend per channel", () => {
      expect(spendStreamId({ campaignId, channel: 'events' })).toBe(`campaign-${campaignId}`);
      expect(spendStreamId({ channel: 'seo' })).toBe('spend-seo');
      expect(spendStreamId({})).toBe('spend-unattributed');
    });
  });

  describe('evolve', () => {
    it('folds the launch and totals the spend', () => {
      const state = fold(campaignDecider, [
        launched,
        {
          type: 'SpendRecorded',
          data: { spendId: 's-1', amount: 1200, category: 'marketing', channel: 'webinar', campaignId },
          occurredAt: t1,
        },
        {
          type: 'SpendRecorded',
          data: { spendId: 's-2', amount: 300.25, category: 'sales', channel: 'webinar', campaignId },
          occurredAt: t1,
        },
      ]);
      expect(state).toMatchObject({
        exists: true,
        kind: 'campaign',
        channel: 'webinar',
        budget: 5000,
        launchedAt,
        spend: { count: 2, total: 1500.25 },
      });
    });

    it('treats an unlaunched stream as a channel spend stream', () => {
      expect(fold(campaignDecider, [])).toMatchObject({ exists: false, kind: 'channel', spend: { count: 0, total: 0 } });
    });
  });
});
