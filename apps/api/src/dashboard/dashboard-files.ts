import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A file the dashboard serves: its bytes, read once, and the headers that go with them. */
export interface DashboardFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * The page's only sources are this origin's files: no inline script or style (ECharts styles its
 * elements through the CSSOM, which `style-src` does not restrict), no plugins, no framing, and
 * fetch() only to this origin's report routes.
 */
export const DASHBOARD_CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/** Revalidated on every use (the names carry no version); the ETag makes that a 304 when unchanged. */
export const DASHBOARD_CACHE_CONTROL = 'no-cache';

// Resolved from this file's folder: the sources under jest, dist/apps/api/src/dashboard once built
// (the build script copies public/ there).
const PUBLIC_DIR = join(__dirname, 'public');

/** The whitelist: asset name → file on disk. Nothing else is ever read, so no path can escape. */
const ASSETS: Record<string, { path: string; contentType: string }> = {
  'dashboard.js': { path: join(PUBLIC_DIR, 'dashboard.js'), contentType: 'text/javascript; charset=utf-8' },
  'dashboard.css': { path: join(PUBLIC_DIR, 'dashboard.css'), contentType: 'text/css; charset=utf-8' },
  // Browsers ask for an icon; without one they would ask /favicon.ico, an API route (a 401).
  'favicon.svg': { path: join(PUBLIC_DIR, 'favicon.svg'), contentType: 'image/svg+xml' },
  // The npm package's own build, served from this origin: no CDN, and it works offline.
  'echarts.min.js': { path: require.resolve('echarts/dist/echarts.min.js'), contentType: 'text/javascript; charset=utf-8' },
};
const PAGE = { path: join(PUBLIC_DIR, 'index.html'), contentType: 'text/html; charset=utf-8' };

function load({ path, contentType }: { path: string; contentType: string }): DashboardFile {
  const body = readFileSync(path);
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/** The page and its assets, read at start-up (about 1.2 MB, ECharts included): a missing file stops the process, not a user. */
export class DashboardFiles {
  readonly page = load(PAGE);
  private readonly assets = new Map(Object.entries(ASSETS).map(([name, file]) => [name, load(file)]));

  asset(name: string): DashboardFile | undefined {
    return this.assets.get(name);
  }
}
