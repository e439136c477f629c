import { databaseFromUrl } from './mongodb-read-store';
import { inRolesOrder } from './redo-journal';

describe('databaseFromUrl', () => {
  it.each([
    ['mongodb://127.0.0.1:27018/', undefined],
    ['mongodb://127.0.0.1:27018', undefined],
    ['mongodb://localhost:27017/chronicle', 'chronicle'],
    ['mongodb://u:p%40ss@h1:1,h2:2/crm?replicaSet=rs0', 'crm'],
    ['mongodb://h/?replicaSet=rs0', undefined],
    ['mongodb+srv://cluster.example.net/reports?retryWrites=true', 'reports'],
    ['mongodb://h/my%20db', 'my db'],
  ])('%s -> %s', (url, database) => {
    expect(databaseFromUrl(url)).toBe(database);
  });
});

describe('inRolesOrder (the order a group commit applies several roles in)', () => {
  const change = (collection: string, id: string) => ({ collection, id, doc: { _id: id } });
  const page = (projection: string) => [
    change(`${projection}.a.g1`, 'x'),
    change(`${projection}.b.g1`, 'y'),
    change('_projections', projection),
  ];

  it("writes every role's status after all of their documents, and keeps each role's own order", () => {
    const order = inRolesOrder([page('p'), page('q'), page('r')]).map((c) => `${c.collection}/${c.id}`);
    expect(order).toEqual([
      'p.a.g1/x',
      'p.b.g1/y',
      'q.a.g1/x',
      'q.b.g1/y',
      'r.a.g1/x',
      'r.b.g1/y',
      '_projections/p',
      '_projections/q',
      '_projections/r',
    ]);
  });

  it('a role with only its status (nothing else changed) still comes after the others', () => {
    const order = inRolesOrder([[change('_projections', 'p')], page('q')]).map((c) => c.collection);
    expect(order).toEqual(['q.a.g1', 'q.b.g1', '_projections', '_projections']);
  });
});
