import { validatePipeline } from '../deal/pipeline';
import { isStalled, stalledDeals } from './stall';

const DAY = 86_400_000;
const pipeline = validatePipeline({
  stages: [
    { name: 'qualification', probability: 0.1, stallAfterDays: 7 },
    { name: 'proposal', probability: 0.5 },
  ],
});

describe('stalled deals', () => {
  it('a deal longer than its stage limit is stalled; exactly at the limit it is not; a stage without a limit never stalls', () => {
    const open = [
      { dealId: 'a', stage: 'qualification', enteredAt: 0 },
      { dealId: 'b', stage: 'qualification', enteredAt: 3 * DAY },
      { dealId: 'c', stage: 'proposal', enteredAt: -100 * DAY },
    ];
    expect(isStalled(pipeline, open[0], 7 * DAY)).toBe(false);
    expect(stalledDeals(pipeline, open, 7 * DAY + 1).map((d) => d.dealId)).toEqual(['a']);
    expect(stalledDeals(pipeline, open, 10 * DAY + 1).map((d) => d.dealId)).toEqual(['a', 'b']);
  });
});
