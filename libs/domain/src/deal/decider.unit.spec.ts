import { fold } from '../common/decider';
import { AggregateAlreadyExists, AggregateNotFound, BusinessRuleViolation, InvalidInput } from '../common/errors';
import { DeciderSpecification } from '../testing/decider-specification';
import type { OpenDeal } from './commands';
import { dealDecider } from './decider';
import type { DealEvent, DealOpened } from './events';
import { defaultPipeline, stageNames, stageProbability, validatePipeline } from './pipeline';

const spec = DeciderSpecification.for(dealDecider(defaultPipeline));

const dealId = 'd-1';
const customerId = 'c-1';
const openedAt = '2024-01-10T09:00:00.000Z';
const t1 = '2024-01-20T10:00:00.000Z';
const t2 = '2024-02-01T11:00:00.000Z';
const t3 = '2024-02-15T12:00:00.000Z';

const openDeal = (data: Partial<OpenDeal['data']> = {}): OpenDeal => ({
  type: 'OpenDeal',
  data: {
    dealId,
    customerId,
    title: 'Annual licence',
    amount: 12000,
    ownerId: 'u-1',
    expectedCloseDate: '2024-03-31',
    source: 'referral',
    ...data,
  },
  occurredAt: openedAt,
});

const opened: DealOpened = {
  type: 'DealOpened',
  data: {
    dealId,
    customerId,
    title: 'Annual licence',
    amount: 12000,
    ownerId: 'u-1',
    expectedCloseDate: '2024-03-31',
    source: 'referral',
    stage: 'qualification',
  },
  occurredAt: openedAt,
};
const toProposal: DealEvent = { type: 'DealStageChanged', data: { dealId, from: 'qualification', to: 'proposal' }, occurredAt: t1 };
const won: DealEvent = { type: 'DealWon', data: { dealId, customerId, amount: 12000, stage: 'proposal' }, occurredAt: t2 };
const lost: DealEvent = {
  type: 'DealLost',
  data: { dealId, customerId, amount: 12000, stage: 'proposal', reason: 'competitor' },
  occurredAt: t2,
};

const invalidAmounts: Array<[string, number]> = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-1', -1],
];

describe('deal decider (default pipeline)', () => {
  describe("a deal's history is ordered in business time", () => {
    it('rejects a stage change dated before the last change', () =>
      spec
        .given([opened, toProposal])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'negotiation' }, occurredAt: openedAt })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'out-of-order'));

    it('rejects an amount change or a win dated before the opening', () => {
      spec
        .given([opened])
        .when({ type: 'UpdateDeal', data: { dealId, amount: 5 }, occurredAt: '2023-12-31T00:00:00.000Z' })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'out-of-order');
      spec
        .given([opened])
        .when({ type: 'WinDeal', data: { dealId }, occurredAt: '2023-12-31T00:00:00.000Z' })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'out-of-order');
    });

    it('accepts a change at the same instant as the last one', () =>
      spec
        .given([opened, toProposal])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'negotiation' }, occurredAt: t1 })
        .then([{ type: 'DealStageChanged', data: { dealId, from: 'proposal', to: 'negotiation' }, occurredAt: t1 }]));
  });

  describe('AssignDealOwner', () => {
    it('reassigns an open or a closed deal, naming the previous owner', () => {
      spec
        .given([opened])
        .when({ type: 'AssignDealOwner', data: { dealId, ownerId: 'u-2' }, occurredAt: t1 })
        .then([{ type: 'DealOwnerAssigned', data: { dealId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 }]);
      spec
        .given([opened, toProposal, won])
        .when({ type: 'AssignDealOwner', data: { dealId, ownerId: 'u-2' }, occurredAt: t3 })
        .then([{ type: 'DealOwnerAssigned', data: { dealId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t3 }]);
    });

    it('emits nothing for the current owner', () =>
      spec
        .given([opened])
        .when({ type: 'AssignDealOwner', data: { dealId, ownerId: 'u-1' }, occurredAt: t1 })
        .thenNothing());

    it('rejects an unknown deal, an empty owner and a time before the last change', () => {
      spec
        .given([])
        .when({ type: 'AssignDealOwner', data: { dealId, ownerId: 'u-2' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound, `deal-${dealId} does not exist`);
      spec
        .given([opened])
        .when({ type: 'AssignDealOwner', data: { dealId, ownerId: ' ' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'ownerId');
      spec
        .given([opened, toProposal])
        .when({ type: 'AssignDealOwner', data: { dealId, ownerId: 'u-2' }, occurredAt: openedAt })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'out-of-order');
    });

    it('folds the new owner', () => {
      const state = fold(dealDecider(defaultPipeline), [
        opened,
        { type: 'DealOwnerAssigned', data: { dealId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t1 },
      ]);
      expect(state).toMatchObject({ ownerId: 'u-2', status: 'open', lastOccurredAt: t1 });
    });
  });

  describe('OpenDeal', () => {
    it('opens a deal in the first stage of the pipeline by default', () => spec.given([]).when(openDeal()).then([opened]));

    it('opens a deal in a given stage', () =>
      spec
        .given([])
        .when(openDeal({ stage: 'negotiation', expectedCloseDate: undefined }))
        .then([
          {
            ...opened,
            data: { dealId, customerId, title: 'Annual licence', amount: 12000, ownerId: 'u-1', source: 'referral', stage: 'negotiation' },
          },
        ]));

    it('accepts an amount of 0', () =>
      spec
        .given([])
        .when(openDeal({ amount: 0 }))
        .then([{ ...opened, data: { ...opened.data, amount: 0 } }]));

    it.each(invalidAmounts)('rejects an amount of %s', (_label, amount) =>
      spec
        .given([])
        .when(openDeal({ amount }))
        .thenThrows(InvalidInput, (e) => e.field === 'amount'),
    );

    it('rejects a stage that is not in the pipeline', () =>
      spec
        .given([])
        .when(openDeal({ stage: 'demo' }))
        .thenThrows(BusinessRuleViolation, 'stage: "demo" is not a stage of the pipeline'));

    it.each(['won', 'lost'])('rejects opening a deal directly in the terminal stage %s', (stage) =>
      spec.given([]).when(openDeal({ stage })).thenThrows(BusinessRuleViolation, `"${stage}" is not a stage of the pipeline`),
    );

    it('rejects an expected close date that is not a date', () =>
      spec
        .given([])
        .when(openDeal({ expectedCloseDate: 'end of Q1' }))
        .thenThrows(InvalidInput, (e) => e.field === 'expectedCloseDate'));

    it('rejects an empty title', () =>
      spec
        .given([])
        .when(openDeal({ title: ' ' }))
        .thenThrows(InvalidInput, (e) => e.field === 'title'));

    it('rejects opening a deal that already exists', () =>
      spec.given([opened]).when(openDeal()).thenThrows(AggregateAlreadyExists, `deal-${dealId} already exists`));
  });

  describe('ChangeDealStage', () => {
    it('moves an open deal to another stage, naming both stages', () =>
      spec
        .given([opened])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'proposal' }, occurredAt: t1 })
        .then([toProposal]));

    it('moves from the folded current stage (backwards too)', () =>
      spec
        .given([opened, toProposal])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'needs-analysis' }, occurredAt: t2 })
        .then([{ type: 'DealStageChanged', data: { dealId, from: 'proposal', to: 'needs-analysis' }, occurredAt: t2 }]));

    it('rejects a change to the stage the deal is already in', () =>
      spec
        .given([opened, toProposal])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'proposal' }, occurredAt: t2 })
        .thenThrows(BusinessRuleViolation, `deal-${dealId} is already in stage "proposal"`));

    it('rejects a stage that is not in the pipeline', () =>
      spec
        .given([opened])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'demo' }, occurredAt: t1 })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'unknown-stage' && e.message.includes('"demo"')));

    it.each(['won', 'lost'])('rejects closing a deal as %s through a stage change', (stage) =>
      spec
        .given([opened])
        .when({ type: 'ChangeDealStage', data: { dealId, stage }, occurredAt: t1 })
        .thenThrows(BusinessRuleViolation, (e) => e.code === 'unknown-stage' && e.message.includes('use /win or /lose')),
    );

    it.each([
      ['won', won],
      ['lost', lost],
    ])('rejects a stage change on a %s deal', (status, closed) =>
      spec
        .given([opened, toProposal, closed])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'negotiation' }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, `deal-${dealId} is ${status}; a closed deal accepts no change`),
    );

    it('rejects a deal that does not exist', () =>
      spec
        .given([])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'proposal' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound, `deal-${dealId} does not exist`));
  });

  describe('UpdateDeal', () => {
    it('changes the amount, naming the old and the new one', () =>
      spec
        .given([opened])
        .when({ type: 'UpdateDeal', data: { dealId, amount: 15000.5 }, occurredAt: t1 })
        .then([{ type: 'DealAmountChanged', data: { dealId, from: 12000, to: 15000.5 }, occurredAt: t1 }]));

    it('changes the expected close date', () =>
      spec
        .given([opened])
        .when({ type: 'UpdateDeal', data: { dealId, expectedCloseDate: '2024-04-30' }, occurredAt: t1 })
        .then([{ type: 'DealExpectedCloseDateChanged', data: { dealId, from: '2024-03-31', to: '2024-04-30' }, occurredAt: t1 }]));

    it('sets a first expected close date', () =>
      spec
        .given([{ ...opened, data: { ...opened.data, expectedCloseDate: undefined } }])
        .when({ type: 'UpdateDeal', data: { dealId, expectedCloseDate: '2024-04-30' }, occurredAt: t1 })
        .then([{ type: 'DealExpectedCloseDateChanged', data: { dealId, to: '2024-04-30' }, occurredAt: t1 }]));

    it('changes both, amount first', () =>
      spec
        .given([opened])
        .when({ type: 'UpdateDeal', data: { dealId, amount: 0, expectedCloseDate: '2024-04-30' }, occurredAt: t1 })
        .then([
          { type: 'DealAmountChanged', data: { dealId, from: 12000, to: 0 }, occurredAt: t1 },
          { type: 'DealExpectedCloseDateChanged', data: { dealId, from: '2024-03-31', to: '2024-04-30' }, occurredAt: t1 },
        ]));

    it('emits nothing when nothing changes (against the folded state)', () =>
      spec
        .given([opened, { type: 'DealAmountChanged', data: { dealId, from: 12000, to: 9000 }, occurredAt: t1 }])
        .when({ type: 'UpdateDeal', data: { dealId, amount: 9000, expectedCloseDate: '2024-03-31' }, occurredAt: t2 })
        .thenNothing());

    it.each(invalidAmounts)('rejects an amount of %s', (_label, amount) =>
      spec
        .given([opened])
        .when({ type: 'UpdateDeal', data: { dealId, amount }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'amount'),
    );

    it('rejects an expected close date that is not a date', () =>
      spec
        .given([opened])
        .when({ type: 'UpdateDeal', data: { dealId, expectedCloseDate: 'soon' }, occurredAt: t1 })
        .thenThrows(InvalidInput, (e) => e.field === 'expectedCloseDate'));

    it.each([
      ['won', won],
      ['lost', lost],
    ])('rejects an amount change on a %s deal', (status, closed) =>
      spec
        .given([opened, toProposal, closed])
        .when({ type: 'UpdateDeal', data: { dealId, amount: 1 }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, `is ${status}; a closed deal accepts no change`),
    );

    it.each([
      ['won', won],
      ['lost', lost],
    ])('rejects a close-date change on a %s deal', (status, closed) =>
      spec
        .given([opened, toProposal, closed])
        .when({ type: 'UpdateDeal', data: { dealId, expectedCloseDate: '2024-12-31' }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, `is ${status}; a closed deal accepts no change`),
    );

    it('rejects a deal that does not exist', () =>
      spec
        .given([])
        .when({ type: 'UpdateDeal', data: { dealId, amount: 1 }, occurredAt: t1 })
        .thenThrows(AggregateNotFound));
  });

  describe('WinDeal', () => {
    it('wins an open deal with its customer, current amount and stage', () =>
      spec
        .given([opened, toProposal, { type: 'DealAmountChanged', data: { dealId, from: 12000, to: 14000 }, occurredAt: t1 }])
        .when({ type: 'WinDeal', data: { dealId }, occurredAt: t2 })
        .then([{ type: 'DealWon', data: { dealId, customerId, amount: 14000, stage: 'proposal' }, occurredAt: t2 }]));

    it.each([
      ['won', won],
      ['lost', lost],
    ])('rejects winning a %s deal', (status, closed) =>
      spec
        .given([opened, toProposal, closed])
        .when({ type: 'WinDeal', data: { dealId }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, `is ${status}; a closed deal accepts no change`),
    );

    it('rejects a deal that does not exist', () =>
      spec.given([]).when({ type: 'WinDeal', data: { dealId }, occurredAt: t1 }).thenThrows(AggregateNotFound));
  });

  describe('LoseDeal', () => {
    it('loses an open deal with a reason', () =>
      spec
        .given([opened, toProposal])
        .when({ type: 'LoseDeal', data: { dealId, reason: 'competitor' }, occurredAt: t2 })
        .then([lost]));

    it('rejects an empty reason', () =>
      spec
        .given([opened])
        .when({ type: 'LoseDeal', data: { dealId, reason: '' }, occurredAt: t2 })
        .thenThrows(InvalidInput, (e) => e.field === 'reason'));

    it.each([
      ['won', won],
      ['lost', lost],
    ])('rejects losing a %s deal', (status, closed) =>
      spec
        .given([opened, toProposal, closed])
        .when({ type: 'LoseDeal', data: { dealId, reason: 'late' }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, `is ${status}; a closed deal accepts no change`),
    );

    it('rejects a deal that does not exist', () =>
      spec
        .given([])
        .when({ type: 'LoseDeal', data: { dealId, reason: 'late' }, occurredAt: t1 })
        .thenThrows(AggregateNotFound));
  });

  describe('ReopenDeal', () => {
    const t4 = '2024-03-01T08:00:00.000Z';
    const reopenedWon: DealEvent = {
      type: 'DealReopened',
      data: { dealId, customerId, ownerId: 'u-1', amount: 12000, stage: 'proposal', outcome: 'won', closedAt: t2, closedStage: 'proposal' },
      occurredAt: t3,
    };

    it('reopens a won deal in the stage it closed from, naming the close it undoes', () =>
      spec.given([opened, toProposal, won]).when({ type: 'ReopenDeal', data: { dealId }, occurredAt: t3 }).then([reopenedWon]));

    it('reopens a lost deal in a stage given, with the loss reason and its own reason', () =>
      spec
        .given([opened, toProposal, lost])
        .when({ type: 'ReopenDeal', data: { dealId, stage: 'negotiation', reason: 'budget approved' }, occurredAt: t3 })
        .then([
          {
            type: 'DealReopened',
            data: {
              dealId,
              customerId,
              ownerId: 'u-1',
              amount: 12000,
              stage: 'negotiation',
              outcome: 'lost',
              closedAt: t2,
              closedStage: 'proposal',
              lostReason: 'competitor',
              reason: 'budget approved',
            },
            occurredAt: t3,
          },
        ]));

    it('names the current owner: a closed deal may be reassigned before it is reopened', () =>
      spec
        .given([
          opened,
          toProposal,
          won,
          { type: 'DealOwnerAssigned', data: { dealId, ownerId: 'u-2', previousOwnerId: 'u-1' }, occurredAt: t2 },
        ])
        .when({ type: 'ReopenDeal', data: { dealId }, occurredAt: t3 })
        .then([
          {
            type: 'DealReopened',
            data: {
              dealId,
              customerId,
              ownerId: 'u-2',
              amount: 12000,
              stage: 'proposal',
              outcome: 'won',
              closedAt: t2,
              closedStage: 'proposal',
            },
            occurredAt: t3,
          },
        ]));

    it('a reopened deal is open: it changes stage and closes again; a second reopen names the second close', () => {
      const wonAgain: DealEvent = { type: 'DealWon', data: { dealId, customerId, amount: 15000, stage: 'negotiation' }, occurredAt: t4 };
      spec
        .given([opened, toProposal, won, reopenedWon])
        .when({ type: 'ChangeDealStage', data: { dealId, stage: 'negotiation' }, occurredAt: t3 })
        .then([{ type: 'DealStageChanged', data: { dealId, from: 'proposal', to: 'negotiation' }, occurredAt: t3 }]);
      const history = [
        opened,
        toProposal,
        won,
        reopenedWon,
        { type: 'DealStageChanged', data: { dealId, from: 'proposal', to: 'negotiation' }, occurredAt: t3 } as DealEvent,
        { type: 'DealAmountChanged', data: { dealId, from: 12000, to: 15000 }, occurredAt: t3 } as DealEvent,
        wonAgain,
      ];
      spec
        .given(history)
        .when({ type: 'ReopenDeal', data: { dealId }, occurredAt: t4 })
        .then([
          {
            type: 'DealReopened',
            data: {
              dealId,
              customerId,
              ownerId: 'u-1',
              amount: 15000,
              stage: 'negotiation',
              outcome: 'won',
              closedAt: t4,
              closedStage: 'negotiation',
            },
            occurredAt: t4,
          },
        ]);
      expect(fold(dealDecider(defaultPipeline), [...history.slice(0, 4)])).toMatchObject({
        status: 'open',
        stage: 'proposal',
        stageEnteredAt: t3,
        reopens: 1,
      });
      expect(fold(dealDecider(defaultPipeline), [...history.slice(0, 4)]).closedAt).toBeUndefined();
    });

    it('rejects an open deal, a missing one, an unknown stage, an empty reason and a time before the close', () => {
      spec
        .given([opened, toProposal])
        .when({ type: 'ReopenDeal', data: { dealId }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, 'is open; only a won or lost deal can be reopened');
      spec.given([]).when({ type: 'ReopenDeal', data: { dealId }, occurredAt: t3 }).thenThrows(AggregateNotFound);
      spec
        .given([opened, won])
        .when({ type: 'ReopenDeal', data: { dealId, stage: 'won' }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, '"won" is not a stage of the pipeline');
      spec
        .given([opened, won])
        .when({ type: 'ReopenDeal', data: { dealId, reason: ' ' }, occurredAt: t3 })
        .thenThrows(InvalidInput, (e) => e.field === 'reason');
      spec
        .given([opened, won])
        .when({ type: 'ReopenDeal', data: { dealId }, occurredAt: t1 })
        .thenThrows(BusinessRuleViolation, 'is before the deal');
    });

    it('rejects an archived deal: restore it first', () =>
      spec
        .given([opened, won, { type: 'DealArchived', data: { dealId }, occurredAt: t2 }])
        .when({ type: 'ReopenDeal', data: { dealId }, occurredAt: t3 })
        .thenThrows(BusinessRuleViolation, 'is archived; restore it first'));
  });

  describe('evolve', () => {
    it('tracks stage, stage entry time, amount and close', () => {
      expect(fold(dealDecider(defaultPipeline), [opened])).toMatchObject({
        exists: true,
        status: 'open',
        stage: 'qualification',
        openedAt,
        stageEnteredAt: openedAt,
      });
      expect(fold(dealDecider(defaultPipeline), [opened, toProposal])).toMatchObject({ stage: 'proposal', stageEnteredAt: t1 });
      expect(fold(dealDecider(defaultPipeline), [opened, toProposal, won])).toMatchObject({ status: 'won', stage: 'won', closedAt: t2 });
      expect(fold(dealDecider(defaultPipeline), [opened, toProposal, lost])).toMatchObject({
        status: 'lost',
        stage: 'lost',
        closedAt: t2,
        lostReason: 'competitor',
      });
    });
  });
});

describe('deal decider (custom pipeline)', () => {
  const pipeline = validatePipeline({
    stages: [
      { name: 'discovery', probability: 0.05 },
      { name: 'demo', probability: 0.3, stallAfterDays: 14 },
      { name: 'contract', probability: 0.9 },
    ],
  });
  const custom = DeciderSpecification.for(dealDecider(pipeline));
  const openedInDiscovery: DealOpened = { ...opened, data: { ...opened.data, stage: 'discovery' } };

  it("opens a deal in the custom pipeline's first stage", () => custom.given([]).when(openDeal()).then([openedInDiscovery]));

  it('moves a deal to a custom stage', () =>
    custom
      .given([openedInDiscovery])
      .when({ type: 'ChangeDealStage', data: { dealId, stage: 'demo' }, occurredAt: t1 })
      .then([{ type: 'DealStageChanged', data: { dealId, from: 'discovery', to: 'demo' }, occurredAt: t1 }]));

  it('rejects a stage of the default pipeline that the custom one lacks', () =>
    custom
      .given([openedInDiscovery])
      .when({ type: 'ChangeDealStage', data: { dealId, stage: 'proposal' }, occurredAt: t1 })
      .thenThrows(BusinessRuleViolation, '(discovery, demo, contract)'));
});

describe('pipeline', () => {
  it('has the default stages and probabilities of the spec', () => {
    expect(defaultPipeline.stages).toEqual([
      { name: 'qualification', probability: 0.1 },
      { name: 'needs-analysis', probability: 0.2 },
      { name: 'proposal', probability: 0.5 },
      { name: 'negotiation', probability: 0.8 },
    ]);
    expect(stageNames(defaultPipeline)).toEqual(['qualification', 'needs-analysis', 'proposal', 'negotiation']);
    expect(stageProbability(defaultPipeline, 'proposal')).toBe(0.5);
    expect(stageProbability(defaultPipeline, 'won')).toBe(0);
  });

  it('accepts a valid configuration and returns a copy of it', () => {
    const config = {
      stages: [
        { name: 'intro', probability: 0 },
        { name: 'close', probability: 1, stallAfterDays: 30 },
      ],
    };
    const validated = validatePipeline(config);
    expect(validated).toEqual(config);
    expect(validated.stages[0]).not.toBe(config.stages[0]);
    expect(validatePipeline(defaultPipeline)).toEqual(defaultPipeline);
  });

  const invalid = (config: unknown, field: string) => () => {
    let error: unknown;
    try {
      validatePipeline(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInput);
    expect((error as InvalidInput).field).toBe(field);
  };

  it('rejects a missing configuration', invalid(undefined, 'pipeline.stages'));
  it('rejects a configuration without stages', invalid({}, 'pipeline.stages'));
  it('rejects an empty pipeline', invalid({ stages: [] }, 'pipeline.stages'));
  it(
    'rejects a duplicate stage',
    invalid(
      {
        stages: [
          { name: 'a', probability: 0.1 },
          { name: 'a', probability: 0.2 },
        ],
      },
      'pipeline.stages[1].name',
    ),
  );
  it.each(['won', 'lost'])('rejects configuring the terminal stage %s', (name) =>
    invalid(
      {
        stages: [
          { name: 'a', probability: 0.1 },
          { name, probability: 1 },
        ],
      },
      'pipeline.stages[1].name',
    )(),
  );
  it.each([
    ['-0.1', -0.1],
    ['1.01', 1.01],
    ['NaN', Number.NaN],
    ['a string', '0.5'],
  ])('rejects a probability of %s', (_label, probability) =>
    invalid({ stages: [{ name: 'a', probability }] }, 'pipeline.stages[0].probability')(),
  );
  it(
    'rejects a stage name that is not a slug',
    invalid({ stages: [{ name: 'Needs Analysis', probability: 0.2 }] }, 'pipeline.stages[0].name'),
  );
  it(
    'rejects a non-positive stallAfterDays',
    invalid({ stages: [{ name: 'a', probability: 0.2, stallAfterDays: 0 }] }, 'pipeline.stages[0].stallAfterDays'),
  );
});
