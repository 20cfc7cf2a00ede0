/**
 * One XML POST to Genesis over node:http(s), with the two timeouts Tether needs. fetch has only
 * one deadline, and an undici Agent would be a dependency for one option; here the connect
 * timeout covers TCP and TLS, the total timeout covers everything up to the last byte of the
 * answer, and we know whether the request could have reached EMP when it fails.
 *
 * `beforeWrite` runs once the connection is ready and before any byte of the request is
 * written: a sale waits there for its rate slot, so that opening a connection (a TLS handshake
 * to EMP) happens before the slot rather than after it. If it throws, nothing was sent; the
 * total timeout then starts when the request is written.
 */
import http from 'node:http';
import https from 'node:https';
import { GenesisNetworkError, GenesisResponseError, GenesisTimeoutError } from './errors';

export interface XmlPostOptions {
  agent: http.Agent;
  headers: Record<string, string>;
  connectTimeoutMs: number;
  timeoutMs: number;
  beforeWrite?: () => Promise<void>;
}

export interface XmlAnswer {
  status: number;
  body: string;
}

/** Far above any real answer (a by-date page of 100 transactions is ~100 KB). */
const MAX_ANSWER_BYTES = 10 * 1024 * 1024;

export function createAgent(url: URL): http.Agent {
  const options = { keepAlive: true, maxSockets: 64 };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}

export function postXml(url: URL, body: string, options: XmlPostOptions): Promise<XmlAnswer> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    // Once a byte of the request is written, EMP may have received it.
    let written = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      finish();
    };
    const fail = (error: Error) =>
      settle(() => {
        request.destroy();
        reject(error);
      });
    const startTotalTimer = () =>
      timers.push(setTimeout(() => fail(new GenesisTimeoutError(written ? 'response' : 'connect', options.timeoutMs)), options.timeoutMs));

    const request = (secure ? https : http).request(url, {
      method: 'POST',
      agent: options.agent,
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(body)) },
    });
    startTotalTimer();

    const write = () => {
      written = true;
      request.end(body);
    };
    const connectionReady = () => {
      if (!options.beforeWrite) return write();
      for (const timer of timers.splice(0)) clearTimeout(timer);
      options.beforeWrite().then(
        () => {
          // The connection may have failed meanwhile: then there is nothing to time or write.
          if (settled) return;
          startTotalTimer();
          write();
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    };

    request.on('socket', (socket) => {
      if (!socket.connecting) return connectionReady(); // a kept-alive socket
      const connectTimer = setTimeout(
        () => fail(new GenesisTimeoutError('connect', options.connectTimeoutMs)),
        options.connectTimeoutMs,
      );
      timers.push(connectTimer);
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(connectTimer);
        connectionReady();
      });
    });
    request.on('error', (error) => fail(new GenesisNetworkError(written ? 'unknown' : 'not_sent', error)));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) fail(new GenesisResponseError('answer too large', response.statusCode));
        else chunks.push(chunk);
      });
      response.on('end', () =>
        settle(() => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })),
      );
      response.on('error', (error) => fail(new GenesisNetworkError('unknown', error)));
    });
  });
}
