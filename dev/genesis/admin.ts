/**
 * The admin API of the simulator, under /__sim: the control handle over HTTP, JSON in and out.
 * A local development tool: no authentication.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { GenesisSimulatorControl } from './control';
import { GATEWAY_ENDPOINTS, faultSettingsSchema, injectedFaultSchema, type GatewayEndpoint } from './faults';
import { SimulatorUsageError } from './lifecycle';
import { notificationSettingsPatchSchema } from './notifier';
import { outcomePolicySchema } from './outcomes';

const statusChangeSchema = z.object({ status: z.string().min(1), code: z.string().optional() });
const chargebackSchema = z.object({ reasonCode: z.string().min(1), amount: z.number().int().positive().optional() });
const releaseSchema = z.object({ order: z.enum(['queued', 'reversed']).optional() });
const clockSchema = z.object({ now: z.iso.datetime({ offset: true }).nullable() });

async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  return schema.parse(await c.req.json().catch(() => ({})));
}

export function adminRoutes(control: GenesisSimulatorControl): Hono {
  const app = new Hono({ strict: false });

  app.onError((error, c) => {
    if (error instanceof SimulatorUsageError) return c.json({ error: error.message }, error.status);
    if (error instanceof z.ZodError) return c.json({ error: 'invalid request', issues: error.issues }, 400);
    throw error;
  });

  app.get('/transactions', (c) =>
    c.json(control.transactions({ transactionId: c.req.query('transaction_id'), terminalToken: c.req.query('terminal_token') })),
  );
  app.get('/transactions/:uniqueId', (c) => {
    const transaction = control.transaction(c.req.param('uniqueId'));
    return transaction ? c.json(transaction) : c.json({ error: 'no such transaction' }, 404);
  });
  app.post('/transactions/:uniqueId/status', async (c) =>
    c.json(control.changeStatus(c.req.param('uniqueId'), await body(c, statusChangeSchema))),
  );
  app.post('/transactions/:uniqueId/chargeback', async (c) =>
    c.json(control.chargeback(c.req.param('uniqueId'), await body(c, chargebackSchema))),
  );
  app.get('/transactions/:uniqueId/refunds', (c) => c.json(control.refundsOf(c.req.param('uniqueId'))));
  app.post('/refunds/:uniqueId/status', async (c) =>
    c.json(control.changeRefundStatus(c.req.param('uniqueId'), await body(c, statusChangeSchema))),
  );
  app.post('/transactions/:uniqueId/notify', (c) => {
    control.renotify(c.req.param('uniqueId'));
    return c.body(null, 204);
  });

  app.get('/sales', (c) => c.json({ salesPerTransactionId: control.salesPerTransactionId(), doubleCharges: control.doubleCharges() }));
  app.get('/rate/:endpoint/arrivals', (c) => {
    const endpoint = c.req.param('endpoint');
    if (!(GATEWAY_ENDPOINTS as readonly string[]).includes(endpoint)) return c.json({ error: `unknown endpoint ${endpoint}` }, 404);
    return c.json(control.arrivals(endpoint as GatewayEndpoint));
  });
  app.get('/rate', (c) =>
    c.json({
      maxPerSecond: Object.fromEntries([
        ['all', control.maxRequestsPerSecond()],
        ...GATEWAY_ENDPOINTS.map((endpoint) => [endpoint, control.maxRequestsPerSecond(endpoint)]),
      ]),
      requests: Object.fromEntries([
        ['all', control.requestCount()],
        ...GATEWAY_ENDPOINTS.map((endpoint) => [endpoint, control.requestCount(endpoint)]),
      ]),
      eventLoopDelayMs: control.eventLoopDelay(),
    }),
  );

  app.get('/faults', (c) => c.json(control.faults()));
  app.put('/faults', async (c) => {
    control.configureFaults(await body(c, faultSettingsSchema));
    return c.json(control.faults());
  });
  app.post('/faults/inject', async (c) => {
    control.injectFault(await body(c, injectedFaultSchema));
    return c.json(control.faults());
  });

  app.get('/outcomes', (c) => c.json(control.outcomes()));
  app.put('/outcomes', async (c) => {
    control.configureOutcomes(await body(c, outcomePolicySchema));
    return c.json(control.outcomes());
  });

  app.get('/notifications', (c) => c.json(control.notifications({ uniqueId: c.req.query('unique_id') })));
  app.get('/notifications/settings', (c) => c.json(control.notificationSettings()));
  app.put('/notifications/settings', async (c) => {
    control.configureNotifications(await body(c, notificationSettingsPatchSchema));
    return c.json(control.notificationSettings());
  });
  app.post('/notifications/release', async (c) => {
    await control.releaseNotifications((await body(c, releaseSchema)).order);
    return c.body(null, 204);
  });

  app.put('/clock', async (c) => {
    const { now } = await body(c, clockSchema);
    control.setClock(now === null ? undefined : new Date(now));
    return c.body(null, 204);
  });
  app.post('/reset', (c) => {
    control.reset();
    return c.body(null, 204);
  });
  return app;
}
