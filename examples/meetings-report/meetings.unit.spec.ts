import { project, Projected } from '../../projections/testing/harness';
import { reportParams } from '../../projections/testing/report-params';
import { meetingsProjection, meetingsReport } from './meetings';

const interaction = (type: string, occurredAt: string, durationMinutes?: number) => ({
  streamId: 'customer-c1',
  type: 'InteractionLogged',
  data: {
    customerId: 'c1',
    interactionId: `i-${occurredAt}`,
    type,
    direction: 'outbound',
    subject: 's',
    ...(durationMinutes === undefined ? {} : { durationMinutes }),
  },
  occurredAt,
});

let p: Projected;
afterEach(() => p?.close());

it('the README example report: meetings per month, a month boundary, an empty month (null average)', async () => {
  p = await project(
    [
      {
        streamId: 'customer-c1',
        type: 'CustomerRegistered',
        data: { customerId: 'c1', name: 'Ada', source: 'web' },
        occurredAt: '2024-01-01T00:00:00.000Z',
      },
      interaction('meeting', '2024-01-10T09:00:00.000Z', 30),
      interaction('call', '2024-01-11T09:00:00.000Z', 99), // not a meeting
      interaction('meeting', '2024-01-31T23:59:59.999Z', 45),
      interaction('meeting', '2024-02-01T00:00:00.000Z'), // first instant of February, no duration
    ],
    [meetingsProjection],
  );
  const report = await meetingsReport.run(
    reportParams({ from: '2024-01-01T00:00:00Z', to: '2024-04-01T00:00:00Z', interval: 'month' }),
    p.context,
  );
  expect(report.periods).toEqual([
    { start: '2024-01-01T00:00:00.000Z', end: '2024-02-01T00:00:00.000Z', meetings: 2, averageMinutes: 37.5 },
    { start: '2024-02-01T00:00:00.000Z', end: '2024-03-01T00:00:00.000Z', meetings: 1, averageMinutes: 0 },
    { start: '2024-03-01T00:00:00.000Z', end: '2024-04-01T00:00:00.000Z', meetings: 0, averageMinutes: null },
  ]);
});
