/** Runs the Genesis simulator until interrupted: `npx tsx dev/genesis/main.ts`. */
import { startGenesisSimulator } from './server';

const env = process.env;
const simulator = await startGenesisSimulator({
  terminals: [
    {
      token: env.EMP_TERMINAL_TOKEN ?? 'dev-terminal',
      login: env.EMP_API_LOGIN ?? 'dev-login',
      password: env.EMP_API_PASSWORD ?? 'dev-password',
      notificationUrl: env.GENESIS_SIM_NOTIFICATION_URL ?? 'http://127.0.0.1:8787/emp/notifications',
    },
  ],
  port: Number(env.GENESIS_SIM_PORT ?? 8076),
  seed: env.GENESIS_SIM_SEED ? Number(env.GENESIS_SIM_SEED) : undefined,
  log: (event, details) => console.log(JSON.stringify({ time: new Date().toISOString(), event, ...details })),
});

console.log(`Genesis simulator: ${simulator.url} (admin API under ${simulator.url}/__sim)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void simulator.close().then(() => process.exit(0));
  });
}
