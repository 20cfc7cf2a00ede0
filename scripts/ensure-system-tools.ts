/** `npm test`'s pretest (and .ci/run): installs the system tools the tests need (system-tools.ts). */
import { ensureSystemTools } from './system-tools';

try {
  ensureSystemTools();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
