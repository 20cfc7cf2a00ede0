/**
 * The load balancers operators ship (issue 16.3). deploy/haproxy/haproxy.cfg runs here with a
 * node list in a second file, in front of a stand-in node that shows what reaches it: health
 * checks on /health, forwarded headers, body caps that match the nodes' own, /metrics kept
 * inside. deploy/nginx/nginx.conf is checked with `nginx -t` and its caps read against the same
 * numbers. The end-to-end suite (bench/e2e) runs the HAProxy file in front of real nodes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/running-server';
import { DEFAULT_BODY_CAP } from '../../backend/src/http/body-caps';
import { loadConfig } from '../../backend/src/config';
import { backendEnvironment, waitFor } from '../../backend/test/support/backend';
import { requireSystemTool } from '../../scripts/system-tools';

const DEPLOY = fileURLToPath(new URL('..', import.meta.url));
const HAPROXY_CONFIG = join(DEPLOY, 'haproxy/haproxy.cfg');
const NGINX_CONFIG = join(DEPLOY, 'nginx/nginx.conf');
/** The backend's default cap on a debtor file streamed through a node (UPLOAD_MAX_CSV_BYTES). */
const UPLOAD_CAP = loadConfig(backendEnvironment('postgres://unused@127.0.0.1/unused', 'http://127.0.0.1:9')).uploads.maxCsvBytes;

const work = mkdtempSync(join(tmpdir(), 'tether-load-balancers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodyBytes: number;
}

describe('deploy/haproxy/haproxy.cfg', () => {
  let haproxy: ChildProcess;
  let node: Server;
  let balancer: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    const executable = requireSystemTool('haproxy');
    node = createServer((request, response) => {
      let bodyBytes = 0;
      request.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      request.on('end', () => {
        if (request.url !== '/health') seen.push({ method: request.method!, url: request.url!, headers: request.headers, bodyBytes });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ status: 'ok' }));
      });
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    const nodes = join(work, 'tether-nodes.cfg');
    writeFileSync(nodes, `backend nodes from tether-nodes\n  server node1 127.0.0.1:${(node.address() as AddressInfo).port}\n`);
    const port = await freePort();
    balancer = `http://127.0.0.1:${port}`;
    execFileSync(executable, ['-c', '-q', '-f', HAPROXY_CONFIG, '-f', nodes], { env: { TETHER_BIND: `127.0.0.1:${port}` } });
    haproxy = spawn(executable, ['-db', '-f', HAPROXY_CONFIG, '-f', nodes], { env: { TETHER_BIND: `127.0.0.1:${port}` }, stdio: 'ignore' });
    // In service once a health check on /health has passed.
    await waitFor(() => fetch(`${balancer}/dashboard`).then((response) => response.status === 200, () => false), 10_000);
  });
  afterAll(async () => {
    haproxy?.kill();
    await new Promise((resolve) => node?.close(resolve));
  });

  it('is valid with the example node list', () => {
    execFileSync(requireSystemTool('haproxy'), ['-c', '-q', '-f', HAPROXY_CONFIG, '-f', join(DEPLOY, 'haproxy/nodes.example.cfg')]);
  });

  it('forwards the client\'s address and protocol', async () => {
    seen.length = 0;
    await fetch(`${balancer}/dashboard`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    // A client's own X-Forwarded-For is kept and the balancer's view appended: TRUSTED_PROXIES=1 takes the last.
    expect(seen[0]!.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen[0]!.headers['x-forwarded-proto']).toBe('http');
  });

  it('refuses announced bodies over the nodes\' caps before they reach a node, and passes a debtor file', async () => {
    seen.length = 0;
    const over = await fetch(`${balancer}/qstash/emp-events`, { method: 'POST', body: 'x'.repeat(DEFAULT_BODY_CAP + 1) });
    expect(over.status).toBe(413);
    const within = await fetch(`${balancer}/qstash/emp-events`, { method: 'POST', body: 'x'.repeat(DEFAULT_BODY_CAP) });
    expect(within.status).toBe(200);
    const file = await fetch(`${balancer}/uploads/3fa85f64-5717-4562-b3fc-2c963f66afa6/content`, { method: 'PUT', body: Buffer.alloc(4 * 1024 * 1024, 'a') });
    expect(file.status).toBe(200);
    const formToUpload = await fetch(`${balancer}/uploads/3fa85f64-5717-4562-b3fc-2c963f66afa6/content`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x'.repeat(DEFAULT_BODY_CAP + 1),
    });
    expect(formToUpload.status).toBe(413);
    expect(seen.map(({ method, url, bodyBytes }) => ({ method, url, bodyBytes }))).toEqual([
      { method: 'POST', url: '/qstash/emp-events', bodyBytes: DEFAULT_BODY_CAP },
      { method: 'PUT', url: '/uploads/3fa85f64-5717-4562-b3fc-2c963f66afa6/content', bodyBytes: 4 * 1024 * 1024 },
    ]);
    expect(readFileSync(HAPROXY_CONFIG, 'utf8')).toContain(`TETHER_UPLOAD_MAX_BYTES-${UPLOAD_CAP}`);
  });

  it('keeps /metrics from the public side', async () => {
    seen.length = 0;
    expect((await fetch(`${balancer}/metrics`)).status).toBe(404);
    expect(seen).toEqual([]);
  });
});

describe('deploy/nginx/nginx.conf', () => {
  it('passes `nginx -t` with the example node list, and caps bodies as the nodes do', () => {
    const executable = requireSystemTool('nginx');
    const prefix = mkdtempSync(join(work, 'nginx-'));
    copyFileSync(NGINX_CONFIG, join(prefix, 'nginx.conf'));
    copyFileSync(join(DEPLOY, 'nginx/nodes.example.conf'), join(prefix, 'tether-nodes.conf'));
    const output = execFileSync(executable, ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output).toBe('');

    const config = readFileSync(NGINX_CONFIG, 'utf8');
    const caps = [...config.matchAll(/client_max_body_size (\d+)([km]);/g)].map(([, size, unit]) => Number(size) * (unit === 'k' ? 1024 : 1024 * 1024));
    expect(caps).toEqual([DEFAULT_BODY_CAP, UPLOAD_CAP]);
  });
});
