/**
 * A stand-in for Upstash Redis's REST API that forwards every command to a real Redis, so the
 * edge's @upstash/redis client runs against genuine Redis behaviour locally and in tests.
 */
import { timingSafeEqual } from 'node:crypto';
import { Redis } from 'ioredis';
import { listen, type FetchHandler, type RunningServer } from '../running-server';
import { InvalidRequestError, parseJsonCommand, parseJsonCommandList, parsePathCommand } from './commands';
import { runCommand, runPipeline, runTransaction, type CommandOutcome } from './execute';
import { encodeReply } from './replies';

export interface UpstashRestServerOptions {
  redisUrl: string;
  token: string;
  port?: number;
  host?: string;
}

const ALLOWED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT']);

function isAuthorized(request: Request, url: URL, expected: Buffer): boolean {
  const header = request.headers.get('authorization');
  const presented = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : url.searchParams.get('_token');
  if (presented === null || presented === undefined) return false;
  const candidate = Buffer.from(presented);
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidRequestError('ERR the request body is not valid JSON');
  }
}

function encodeOutcome(outcome: CommandOutcome, base64: boolean): { result: unknown } | { error: string } {
  return 'error' in outcome ? outcome : { result: encodeReply(outcome.result, base64) };
}

export function createUpstashRestHandler(redis: Redis, token: string): FetchHandler {
  const expectedToken = Buffer.from(token);

  async function respond(request: Request, url: URL, base64: boolean): Promise<Response> {
    const body = Buffer.from(await request.arrayBuffer());
    switch (url.pathname) {
      case '/': {
        const outcome = await runCommand(redis, parseJsonCommand(parseJsonBody(body)));
        return Response.json(encodeOutcome(outcome, base64), { status: 'error' in outcome ? 400 : 200 });
      }
      case '/pipeline': {
        const outcomes = await runPipeline(redis, parseJsonCommandList(parseJsonBody(body)));
        return Response.json(outcomes.map((outcome) => encodeOutcome(outcome, base64)));
      }
      case '/multi-exec': {
        const outcomes = await runTransaction(redis, parseJsonCommandList(parseJsonBody(body)));
        if (!Array.isArray(outcomes)) return Response.json(outcomes, { status: 400 });
        return Response.json(outcomes.map((outcome) => encodeOutcome(outcome, base64)));
      }
      default: {
        const outcome = await runCommand(redis, parsePathCommand(url, body));
        return Response.json(encodeOutcome(outcome, base64), { status: 'error' in outcome ? 400 : 200 });
      }
    }
  }

  return async (request) => {
    if (!ALLOWED_METHODS.has(request.method)) {
      return Response.json({ error: 'Method not allowed' }, { status: 405 });
    }
    const url = new URL(request.url);
    if (!isAuthorized(request, url, expectedToken)) {
      return Response.json({ error: 'Unauthorized' }, { status: 401 });
    }
    const base64 = request.headers.get('upstash-encoding')?.toLowerCase() === 'base64';
    try {
      return await respond(request, url, base64);
    } catch (error) {
      if (error instanceof InvalidRequestError) return Response.json({ error: error.message }, { status: 400 });
      const message = error instanceof Error ? error.message : String(error);
      return Response.json({ error: `ERR Redis is unavailable: ${message}` }, { status: 500 });
    }
  };
}

async function connectToRedis(redisUrl: string): Promise<Redis> {
  // Few retries per command: with Redis down, callers should get an error soon, not hang.
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // Connection failures reach callers as HTTP 500 answers; without a listener ioredis would
  // also print each reconnect attempt's error.
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`Cannot reach Redis for the Upstash REST dev server: ${(error as Error).message}`);
  }
  return redis;
}

export async function startUpstashRestServer(options: UpstashRestServerOptions): Promise<RunningServer> {
  const redis = await connectToRedis(options.redisUrl);
  try {
    const server = await listen(createUpstashRestHandler(redis, options.token), options);
    return {
      ...server,
      close: async () => {
        await server.close();
        await redis.quit();
      },
    };
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}
