import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStateStore } from '@chronicle/cluster';
import { SqliteEventStore } from '@chronicle/event-store';
import { EmbeddedReadStore } from '@chronicle/read-store';
import { sharedRolesScenario } from './testing/shared-roles-scenario';

// The scenario on the embedded stores (one read-models.db, one state.db, shared by both
// "processes"); on MongoDB in projector-cluster.int.spec.ts.
jest.setTimeout(120_000);

describe('projectors sharing the roles of a cluster (embedded stores)', () => {
  let dir: string;
  let events: SqliteEventStore;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-projector-cluster-'));
    events = new SqliteEventStore({ filename: join(dir, 'events.db'), synchronous: 'NORMAL', pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('split the roles, survive a holder cut off mid-replay, and end identical to a clean build', async () => {
    await sharedRolesScenario({
      events,
      historyEvents: 12_000,
      batchSize: 1000,
      leaseTimeoutMs: 2000,
      open: async () => {
        const state = new SqliteStateStore(join(dir, 'state.db'));
        const reads = new EmbeddedReadStore(join(dir, 'reads.db'));
        return {
          reads,
          leases: state,
          close: async () => {
            await reads.close();
            await state.close();
          },
        };
      },
      openClean: async () => new EmbeddedReadStore(join(dir, 'clean.db')),
    });
  });
});
