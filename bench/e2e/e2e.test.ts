/**
 * The short end-to-end run in `npm test`: scenarios 1 and 3 and the forgery at small counts on the whole stack
 * (wrangler dev, HAProxy, two backend processes, every stand-in). `npm run e2e` is the long one.
 * The report goes to bench/results/e2e-short.{md,json}.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeReport } from './report';
import { runSuite, SHORT_SCENARIOS } from './suite';

const results = fileURLToPath(new URL('../results/', import.meta.url));

describe('end to end, short: upload → bill → notify, faults, forgery', () => {
  it('ends every scenario in the state the checks demand', async () => {
    const run = await runSuite({ mode: 'short', scenarios: SHORT_SCENARIOS, logDirectory: `${results}tmp/e2e` });
    await writeReport(run, results);
    expect(run.scenarios.map((scenario) => scenario.name)).toEqual([
      'upload, bill, notify',
      'faults during the storm',
      'fault: 10 % of sales time out',
      'fault: a node killed mid-run',
      'fault: upload node killed mid-file',
      'forgery',
    ]);
    for (const scenario of run.scenarios) {
      const failed = scenario.checks.filter((check) => !check.passed).map((check) => `${check.name}: ${check.detail}`);
      expect.soft(failed, `${scenario.name} (logs under bench/results/tmp/e2e/short)`).toEqual([]);
    }
  });
});
