import request from 'supertest';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Operations routes: the OpenAPI document and /health.
 */

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('operations', () => {
  it('serves an OpenAPI document listing every write route', async () => {
    const res = await request(t.http).get('/docs-json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const writes: Array<[string, string]> = [
      ['post', '/customers'],
      ['patch', '/customers/{id}'],
      ['post', '/customers/{id}/churn'],
      ['post', '/customers/{id}/reactivate'],
      ['post', '/customers/{id}/purchases'],
      ['post', '/customers/{id}/interactions'],
      ['post', '/leads'],
      ['post', '/leads/{id}/qualify'],
      ['post', '/leads/{id}/disqualify'],
      ['post', '/leads/{id}/convert'],
      ['post', '/leads/{id}/assign'],
      ['post', '/deals'],
      ['post', '/deals/{id}/stage'],
      ['patch', '/deals/{id}'],
      ['post', '/deals/{id}/win'],
      ['post', '/deals/{id}/lose'],
      ['post', '/campaigns'],
      ['post', '/spend'],
      ['post', '/tasks'],
      ['post', '/tasks/{id}/complete'],
      ['patch', '/tasks/{id}'],
      ['post', '/tasks/{id}/cancel'],
      ['post', '/tasks/{id}/owner'],
      ['post', '/customers/{id}/archive'],
      ['post', '/customers/{id}/restore'],
      ['post', '/leads/{id}/archive'],
      ['post', '/leads/{id}/restore'],
      ['post', '/deals/{id}/archive'],
      ['post', '/deals/{id}/restore'],
      ['post', '/deals/{id}/reopen'],
      ['post', '/customers/{id}/merge'],
      ['post', '/customers/{id}/unmerge'],
    ];
    for (const [method, path] of writes) {
      expect([method, path, res.body.paths?.[path]?.[method] !== undefined]).toEqual([method, path, true]);
    }
    expect(res.body.paths['/streams/{streamId}/events']?.get).toBeDefined();
  });

  it('answers /health without a key', async () => {
    const res = await request(t.http).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { eventStore: { status: 'up', headPosition: expect.any(Number) } } });
  });
});
