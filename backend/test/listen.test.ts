import { describe, expect, it } from 'vitest';
import { listen } from '../src/http/listen';

const slowHandler = async () => {
  await new Promise((resolve) => setTimeout(resolve, 400));
  return new Response('done');
};

describe('listen(): stopping a server', () => {
  it('lets a request in flight finish when asked to drain, and takes no new connection', async () => {
    const server = await listen(slowHandler);
    const inFlight = fetch(server.url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = Date.now();
    const closed = server.close({ drainMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(fetch(server.url)).rejects.toThrow();
    const response = await inFlight;
    expect(await response.text()).toBe('done');
    await closed;
    // Closed once the request was done, not at the deadline (its keep-alive connection closed as it fell idle).
    expect(Date.now() - closing).toBeLessThan(5_000);
  });

  it('cuts requests in flight without drainMs', async () => {
    const server = await listen(slowHandler);
    const inFlight = fetch(server.url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.close();
    await expect(inFlight).rejects.toThrow();
  });
});
