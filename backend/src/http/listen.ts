/**
 * Starts a web-standard fetch handler on Node and hands back its URL and a way to stop it.
 * A backend node and every stand-in in dev/ listen through this, so tests can start any
 * of them on an ephemeral port (port 0) and close them again.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';

export interface RunningServer {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  /**
   * Stops listening. By default open connections are cut at once (tests, stand-ins). With
   * `drainMs`, requests in flight may finish for up to that long, as a node stopping behind a
   * load balancer must let them (an EMP event half applied would be retried, but a billing
   * request cut mid-way leaves an outcome to reconcile).
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export function listen(fetch: FetchHandler, options: { port?: number; host?: string } = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onError = (error: Error) => reject(error);
    server = serve({ fetch, port: options.port ?? 0, hostname: host }, (info: AddressInfo) => {
      server.off('error', onError);
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
        port: info.port,
        close: ({ drainMs = 0 } = {}) =>
          new Promise<void>((done) => {
            if (!('closeAllConnections' in server)) return server.close(() => done());
            const http = server;
            if (drainMs === 0) {
              http.close(() => done());
              return http.closeAllConnections();
            }
            // A keep-alive connection whose request has finished would hold close() open:
            // connections are closed as they fall idle, and all of them at the deadline.
            const sweep = setInterval(() => http.closeIdleConnections(), 50);
            const deadline = setTimeout(() => http.closeAllConnections(), drainMs);
            http.close(() => {
              clearInterval(sweep);
              clearTimeout(deadline);
              done();
            });
            http.closeIdleConnections();
          }),
      });
    });
    server.once('error', onError);
    // Idle keep-alive connections outlive a load balancer's (60 s) and a client's reuse of them:
    // with Node's 5 s default, a client reusing a connection as the server drops it gets
    // "other side closed" (seen under load in the test suite).
    if ('keepAliveTimeout' in server) {
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
    }
  });
}
