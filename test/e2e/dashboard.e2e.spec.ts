import request from 'supertest';
import { readFileSync } from 'node:fs';
import { startTestApp, TestApp } from '../support/test-app';

// GET /dashboard (docs/dashboard.md): the page and its whitelisted assets, open without a key,
// each with the strict CSP, its content type and revalidation headers.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

it.each([
  ['/dashboard', 'text/html; charset=utf-8'],
  ['/dashboard/assets/dashboard.js', 'text/javascript; charset=utf-8'],
  ['/dashboard/assets/dashboard.css', 'text/css; charset=utf-8'],
  ['/dashboard/assets/echarts.min.js', 'text/javascript; charset=utf-8'],
  ['/dashboard/assets/favicon.svg', 'image/svg+xml'],
])('serves %s without a key, with the CSP, %s and an ETag to revalidate', async (path, contentType) => {
  const res = await request(t.http).get(path);
  expect([res.status, res.headers['content-type'], res.headers['content-security-policy']]).toEqual([200, contentType, CSP]);
  expect(res.headers['cache-control']).toBe('no-cache');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  const again = await request(t.http).get(path).set('If-None-Match', res.headers.etag);
  expect([again.status, again.headers.etag]).toEqual([304, res.headers.etag]);
});

it('the page loads its scripts and styles from this origin only, with no inline script or style', async () => {
  const html = (await request(t.http).get('/dashboard')).text;
  expect(html).toContain('<script src="/dashboard/assets/echarts.min.js" async></script>');
  expect(html).toContain('<script type="module" src="/dashboard/assets/dashboard.js"></script>');
  expect(html).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=|https?:\/\//);
});

it('serves the npm package’s ECharts build', async () => {
  const res = await request(t.http)
    .get('/dashboard/assets/echarts.min.js')
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (chunk: Buffer) => chunks.push(chunk));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    });
  expect((res.body as Buffer).equals(readFileSync(require.resolve('echarts/dist/echarts.min.js')))).toBe(true);
});

it.each(['/dashboard/assets/unknown.js', '/dashboard/assets/..%2Fdashboard.controller.ts', '/dashboard/assets/index.html'])(
  '%s is a 404 (only the whitelisted files are served)',
  async (path) => {
    expect((await request(t.http).get(path)).status).toBe(404);
  },
);

it('is not part of the API: the OpenAPI document leaves it out', async () => {
  const paths = Object.keys((await request(t.http).get('/docs-json')).body.paths);
  expect(paths.filter((p) => p.startsWith('/dashboard'))).toEqual([]);
});
