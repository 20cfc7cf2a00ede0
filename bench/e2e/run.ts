/**
 * The end-to-end proof (issue 8): `npm run e2e` runs every scenario at the long scale and writes
 * bench/results/e2e-long.{md,json} plus a latency plot per scenario.
 *   npm run e2e -- --short                       scenarios 1 and 3 and the forgery, small counts (what npm test runs)
 *   npm run e2e -- --only storm,scale-out        some scenarios (report under bench/results/tmp/)
 * Needs PostgreSQL and Redis (as the tests do) and HAProxy (apt-get install haproxy).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeReport } from './report';
import { scenarioPassed } from './results';
import { runSuite, SCENARIOS, SHORT_SCENARIOS, type ScenarioName } from './suite';

const { values } = parseArgs({ options: { short: { type: 'boolean', default: false }, only: { type: 'string' } } });
const mode = values.short ? 'short' : 'long';
const scenarios = (values.only?.split(',') ?? (mode === 'short' ? SHORT_SCENARIOS : SCENARIOS)) as ScenarioName[];
const unknown = scenarios.filter((name) => !SCENARIOS.includes(name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  process.exit(2);
}

const results = fileURLToPath(new URL('../results/', import.meta.url));
const run = await runSuite({
  mode,
  scenarios,
  logDirectory: `${results}tmp/e2e`,
  onScenario: (scenario) => console.log(`${scenarioPassed(scenario) ? 'PASS' : 'FAIL'} ${scenario.name} (${scenario.durationSeconds} s)${scenario.checks.filter((check) => !check.passed).map((check) => `\n  ✗ ${check.name}: ${check.detail}`).join('')}`),
});
// A partial run must not replace the full report of its mode.
const written = await writeReport(run, values.only ? `${results}tmp/` : results);
console.log(`report: ${written.markdown}`);
process.exit(run.scenarios.every(scenarioPassed) ? 0 : 1);
