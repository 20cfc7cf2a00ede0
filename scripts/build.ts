/**
 * `npm run build`: what production runs, in backend/dist/, started with plain Node 22 (no tsx,
 * no dev dependencies):
 *
 *   backend/dist/main.js          a backend node (`npm run backend`, the Dockerfile's command)
 *   backend/dist/cli.js           the operators' CLI (`node backend/dist/cli.js <command>`)
 *   backend/dist/commands/*.js    one per CLI command, found by cli/run.ts as in the source
 *   backend/dist/chunk-*.js       code the entries share
 *   backend/dist/assets/          the dashboard's stylesheet and scripts (dashboard/assets.ts)
 *   backend/dist/migrations/      the SQL migrations, applied at start-up (db/client.ts)
 *
 * esbuild bundles the backend with the shared package (TypeScript, imported from source) and
 * leaves every npm dependency external, resolved as from the backend's source: through
 * backend/node_modules, then the root's. `npm ci --omit=dev --workspace=@tether/backend`
 * installs exactly those (the Dockerfile does, and backend/test/build.test.ts proves it).
 *
 * All code that finds files from import.meta.url must land in backend/dist/ itself (an entry or
 * a chunk, checked below), so that './assets/' and './commands/' mean there what they mean
 * beside their sources.
 */
import { build } from 'esbuild';
import { cpSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...path: string[]) => resolve(root, ...path);
const out = at('backend/dist');

/** The packages npm installs for the backend in production: its own dependencies and the shared package's. */
function productionPackages(): string[] {
  const dependenciesOf = (workspace: string) =>
    Object.keys((JSON.parse(readFileSync(at(workspace, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  return [...new Set([...dependenciesOf('backend'), ...dependenciesOf('shared')])].filter((name) => !name.startsWith('@tether/'));
}

const commandsDirectory = at('backend/src/cli/commands');
const commands = readdirSync(commandsDirectory).filter((file) => file.endsWith('.ts'));

rmSync(out, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: [
    { in: 'backend/src/main.ts', out: 'main' },
    { in: 'backend/src/cli/main.ts', out: 'cli' },
    ...commands.map((file) => ({ in: `backend/src/cli/commands/${file}`, out: `commands/${file.replace(/\.ts$/, '')}` })),
  ],
  outdir: out,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: true,
  // npm packages stay packages (installed with --omit=dev); @tether/shared is source, bundled.
  external: productionPackages().flatMap((name) => [name, `${name}/*`]),
  // From backend/dist/, where all code lands, the copied migrations are ./migrations/ (db/client.ts).
  define: { BUNDLED_MIGRATIONS_PATH: JSON.stringify('./migrations') },
  metafile: true,
  logLevel: 'warning',
});

// A node must not need the stand-ins, the benchmarks or anything else only a checkout has.
const outsideProduction = Object.keys(result.metafile.inputs).filter((input) => !/^(backend\/src|shared\/src)\//.test(input));
if (outsideProduction.length > 0) {
  throw new Error(`the backend bundle would include files outside backend/src and shared/src: ${outsideProduction.join(', ')}`);
}

// Code finding files from import.meta.url must run from backend/dist/ itself, not a command's file.
const locatingFiles = Object.keys(result.metafile.inputs).filter((input) => readFileSync(at(input), 'utf8').includes('import.meta.url'));
for (const [output, { inputs }] of Object.entries(result.metafile.outputs)) {
  const misplaced = Object.keys(inputs).filter((input) => locatingFiles.includes(input));
  if (relative(out, at(output)).includes('/') && misplaced.length > 0) {
    throw new Error(`${output} holds ${misplaced.join(', ')}, which find files from import.meta.url: they must land in backend/dist/`);
  }
}

cpSync(at('backend/src/dashboard/assets'), resolve(out, 'assets'), { recursive: true });
cpSync(at('migrations'), resolve(out, 'migrations'), { recursive: true });

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`built ${relative(root, out)}/: backend and CLI (${commands.length} commands), ${(bytes / 1024).toFixed(0)} KiB of JavaScript and source maps`);
