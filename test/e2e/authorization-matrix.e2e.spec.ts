import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Roles } from '@chronicle/shared';
import { Access, accessByRole } from '../../apps/api/src/auth/access';
import { expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

// The authorization matrix, generated from the roles table (apps/api/src/auth/access.ts) and the
// routes the API itself publishes in its OpenAPI document (each operation carries the access it
// needs as `x-required-access`): every role × every route. A role without the route's access
// gets a 403 and nothing is appended; a role with it never gets a 403 (nor a 5xx); no key is a 401.
let t: TestApp;

interface Operation {
  'x-required-access'?: Access;
}

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const PARAMS: Record<string, () => string> = {
  id: () => randomUUID(),
  streamId: () => `customer-${randomUUID()}`,
  name: () => 'pipeline',
  subject: () => `customer-${randomUUID()}`,
};

function concrete(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = PARAMS[name];
    if (!value) throw new Error(`no test value for path parameter {${name}} of ${path}`);
    return value();
  });
}

async function routes(): Promise<Array<{ method: string; path: string; access?: Access }>> {
  const res = await request(t.http).get('/docs-json');
  expect(res.status).toBe(200);
  const paths = res.body.paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ method, path, access: operation['x-required-access'] })),
  );
}

it('every route but /health declares the access it needs', async () => {
  const all = await routes();
  expect(all.length).toBeGreaterThanOrEqual(37);
  const undeclared = all.filter((r) => !r.access).map((r) => `${r.method.toUpperCase()} ${r.path}`);
  expect(undeclared).toEqual(['GET /health']);
});

it('role × route: 403 (nothing appended) without the access, never 403 or 5xx with it, 401 without a key', async () => {
  const checked: string[] = [];
  for (const { method, path, access } of await routes()) {
    if (!access) continue;
    for (const role of Roles) {
      const url = concrete(path).replace('/projections/pipeline/', '/projections/customers/');
      const send = () => {
        const r = (request(t.http) as unknown as Record<string, (url: string) => request.Test>)[method](url).set(t.as(role));
        return method === 'get' ? r : r.send({});
      };
      if (accessByRole[role].includes(access)) {
        const res = await send();
        expect([role, method, path, res.status === 403 || res.status >= 500 ? res.status : 'ok']).toEqual([role, method, path, 'ok']);
      } else {
        const res = await expectNothingAppended(t, send);
        expect([role, method, path, res.status]).toEqual([role, method, path, 403]);
        expect(res.body.message).toContain(role);
      }
      checked.push(`${role} ${method} ${path}`);
    }
    const anonymous = await (request(t.http) as unknown as Record<string, (url: string) => request.Test>)[method](concrete(path));
    expect([method, path, anonymous.status]).toEqual([method, path, 401]);
  }
  expect(checked.length).toBeGreaterThanOrEqual(36 * Roles.length);
});
