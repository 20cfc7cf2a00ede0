/** The Worker entry itself, configured from its bindings (wrangler.toml overridden by the test's). */
import { identifyNotification } from '@tether/shared/notification';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deliveries, expectedEcho, notificationRequest, sddNotification } from './support/edge';

describe('the Worker', () => {
  it('acknowledges and forwards a notification', async () => {
    const fields = await sddNotification();
    const response = await exports.default.fetch(notificationRequest(new URLSearchParams(fields).toString()));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(expectedEcho('unique_id', fields.unique_id!));
    expect(await deliveries(identifyNotification(fields).dedupKey)).toBe(1);
  });

  it('answers /health', async () => {
    const response = await exports.default.fetch(new Request('http://edge.test/health'));
    expect(response.status).toBe(200);
    expect(await response.text()).not.toContain(env.QSTASH_TOKEN);
  });
});
