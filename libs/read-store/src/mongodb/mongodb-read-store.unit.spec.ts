import { databaseFromUrl } from './mongodb-read-store';

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
