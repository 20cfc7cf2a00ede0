/**
 * The production image without Docker (issue 16.1): `npm run build`, then the Dockerfile's last
 * stage carried out in a temporary folder (package files, `npm ci --omit=dev` for the backend
 * workspace, backend/dist/), then its CMD started with plain Node 22 and the image's ENV
 * (production, the heap cap): /health, one signed QStash delivery confirmed with EMP and
 * applied, the HEALTHCHECK's command, and the CLI from the same folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carryOutStage, readDockerfile, type CarriedOutStage } from './support/dockerfile';
import { expectHealthyAndOneDelivery, startNodeProcess, startNodeSurroundings, type NodeProcess, type NodeSurroundings } from './support/node-process';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const PATH_WITH_THIS_NODE = `${join(process.execPath, '..')}:${process.env.PATH}`;

let folder: string;
let image: CarriedOutStage;
let surroundings: NodeSurroundings;
let node: NodeProcess | undefined;

beforeAll(async () => {
  execFileSync('npm', ['run', 'build'], { cwd: REPOSITORY, stdio: ['ignore', 'ignore', 'inherit'] });
  const stages = readDockerfile(join(REPOSITORY, 'Dockerfile'));
  const build = stages.find((stage) => stage.name === 'build');
  const workdir = build?.instructions.find((instruction) => instruction.keyword === 'WORKDIR')?.argument;
  if (!workdir) throw new Error('Dockerfile: no build stage with a WORKDIR');
  folder = mkdtempSync(join(tmpdir(), 'tether-image-'));
  image = carryOutStage(stages.at(-1)!, {
    folder,
    context: REPOSITORY,
    // The build stage's WORKDIR after `npm run build` is this checkout after it.
    stageOutputs: { build: { workdir, folder: REPOSITORY } },
    path: PATH_WITH_THIS_NODE,
  });
  surroundings = await startNodeSurroundings();
});
afterAll(async () => {
  await node?.stop();
  await surroundings?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** The image's `node` is Node 22: the one running these tests (the project pins it). */
function asRunHere(command: readonly string[]): string[] {
  expect(command[0]).toBe('node');
  return [process.execPath, ...command.slice(1)];
}

describe('the production image, carried out without Docker', () => {
  it('holds the build and production dependencies only: no sources, no dev tools', () => {
    expect(process.version).toMatch(/^v22\./);
    expect(existsSync(join(folder, 'backend/dist/main.js'))).toBe(true);
    expect(existsSync(join(folder, 'backend/dist/migrations/meta/_journal.json'))).toBe(true);
    for (const absent of ['backend/src', 'shared/src', 'dev/qstash', 'node_modules/tsx', 'node_modules/vitest', 'node_modules/wrangler', 'node_modules/node', 'node_modules/playwright-core']) {
      expect(existsSync(join(folder, absent)), absent).toBe(false);
    }
    expect(image.user).toBe('node');
    expect(image.env).toMatchObject({ NODE_ENV: 'production', NODE_OPTIONS: '--max-old-space-size=192' });
  });

  it('runs the command `npm run backend` runs', () => {
    const scripts = (JSON.parse(readFileSync(join(REPOSITORY, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(image.cmd.join(' ')).toBe(scripts.backend);
  });

  it('starts a node with plain Node 22 that answers /health and applies one signed delivery', async () => {
    node = await startNodeProcess(asRunHere(image.cmd), {
      cwd: folder,
      // QStash signs the URL it delivers to, and the node checks it against PUBLIC_URL, which
      // production wants https: this QStash reaches the node over plain http, so NODE_ENV is the
      // one variable of the image's ENV not taken here (it only adds those checks; the CLI below
      // runs under all of it).
      env: (port) => ({ ...surroundings.environment(port), ...image.env, NODE_ENV: 'test' }),
    });
    await expectHealthyAndOneDelivery(node, surroundings);
  }, 120_000);

  it('has a HEALTHCHECK that passes on a running node and fails on a stopped one', async () => {
    expect(node, 'the node of the previous test').toBeDefined();
    const port = new URL(node!.url).port;
    const check = () => spawnSync(asRunHere(image.healthcheck)[0]!, asRunHere(image.healthcheck).slice(1), { env: { ...image.env, PORT: port }, timeout: 10_000 }).status;
    expect(check()).toBe(0);
    await node!.stop();
    expect(check()).toBe(1);
  }, 60_000);

  it('runs the operators\' CLI from the same folder, under the image\'s production settings', () => {
    // Production requires a key of its own for the IBANs' keyed hashes (issue 17).
    const production = { ...image.env, PERSONAL_DATA_KEY: randomBytes(32).toString('hex') };
    const listed = spawnSync(process.execPath, ['backend/dist/cli.js', 'operators:list'], {
      cwd: folder,
      env: { PATH: process.env.PATH, ...surroundings.environment(8080), ...production, PUBLIC_URL: 'https://tether.example' },
      encoding: 'utf8',
    });
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    const refused = spawnSync(process.execPath, ['backend/dist/cli.js', 'operators:list'], {
      cwd: folder,
      env: { PATH: process.env.PATH, ...surroundings.environment(8080), ...production },
      encoding: 'utf8',
    });
    expect(refused.stderr.trim()).toBe('Invalid configuration: PUBLIC_URL must be an https URL in production (session cookies are not Secure otherwise)');
    expect(refused.status).toBe(1);
  });
});
