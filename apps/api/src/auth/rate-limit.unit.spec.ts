import { FixedWindowStorage } from './rate-limit';

describe('FixedWindowStorage', () => {
  let now = 1_000_000;
  let storage: FixedWindowStorage;
  beforeEach(() => {
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    storage = new FixedWindowStorage();
  });
  afterEach(() => {
    storage.close();
    jest.restoreAllMocks();
  });

  it('counts hits per key in a window, blocks past the limit until the window ends, then starts afresh', async () => {
    for (let i = 1; i <= 3; i++)
      expect(await storage.increment('k', 60_000, 3, 60_000)).toMatchObject({ totalHits: i, isBlocked: false, timeToExpire: 60 });
    expect(await storage.increment('other', 60_000, 3, 60_000)).toMatchObject({ totalHits: 1, isBlocked: false });
    now += 20_000;
    expect(await storage.increment('k', 60_000, 3, 60_000)).toMatchObject({ totalHits: 4, isBlocked: true, timeToBlockExpire: 60 });
    now += 30_000;
    expect(await storage.increment('k', 60_000, 3, 60_000)).toMatchObject({ isBlocked: true, timeToBlockExpire: 30 }); // blocked hits do not count
    now += 30_001;
    expect(await storage.increment('k', 60_000, 3, 60_000)).toMatchObject({ totalHits: 1, isBlocked: false, timeToExpire: 60 });
  });
});
