import { createServer, Server } from 'node:http';
import type { RoleCoordinator } from '@chronicle/cluster';

/**
 * GET /health for the processes without an API (apps/projector, apps/relay), for container health
 * checks: 200 while the last poll reached the lease store, 503 otherwise; the body names the worker
 * and the roles it holds with their tokens. Bound to HOST (127.0.0.1 unless set, 0.0.0.0 in containers).
 */
export function startHealthServer(coordinator: RoleCoordinator, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/health') {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ statusCode: 404, message: 'only GET /health is served here' }));
      return;
    }
    const ok = coordinator.storeReachable;
    const body = {
      status: ok ? 'ok' : 'lease store unreachable',
      worker: coordinator.worker.id,
      roles: Object.fromEntries(coordinator.held()),
    };
    response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
