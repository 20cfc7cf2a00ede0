/**
 * The previous release against the new schema (issue 16.5): during a rolling deploy the
 * migrations run first and old nodes keep serving, so the last release's backend must work on a
 * database migrated by this checkout. It starts from git, as it was, with /health and one signed
 * delivery confirmed with EMP and applied.
 *
 * The previous release is the newest commit whose migrations/ differ from this checkout's: with
 * uncommitted migration changes it is HEAD; otherwise it is the first parent of the newest commit
 * on the first-parent line that changed migrations/ (a merge's first parent is main as it was).
 * It runs from source under tsx with this checkout's installed packages; a release whose
 * dependencies differ would need its own `npm ci`. It needs the repository's history (a full
 * `git clone`; a shallow one fails with a line saying so).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHealthyAndOneDelivery, startNodeProcess, startNodeSurroundings, type NodeProcess, type NodeSurroundings } from './support/node-process';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const git = (...args: string[]) => execFileSync('git', args, { cwd: REPOSITORY, encoding: 'utf8' }).trim();
const gitSucceeds = (...args: string[]) => {
  try {
    execFileSync('git', args, { cwd: REPOSITORY, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** The commit of the previous release, as defined above. */
function previousRelease(): string {
  if (!gitSucceeds('rev-parse', '--verify', 'HEAD')) throw new Error('previous-release test: not a git checkout with commits (clone the repository with git)');
  if (!gitSucceeds('diff', '--quiet', 'HEAD', '--', 'migrations/')) return git('rev-parse', 'HEAD');
  const newest = git('log', '--first-parent', '-1', '--format=%H', '--', 'migrations/');
  const parent = newest && gitSucceeds('rev-parse', '--verify', '--quiet', `${newest}^1`) ? git('rev-parse', `${newest}^1`) : undefined;
  if (!parent || git('rev-parse', '--is-shallow-repository') === 'true' && !gitSucceeds('cat-file', '-e', `${parent}^{tree}`)) {
    throw new Error('previous-release test: the repository\'s history is missing (a shallow clone?); run `git fetch --unshallow` or clone it whole');
  }
  return parent;
}

let folder: string;
let release: string;
let surroundings: NodeSurroundings;
let node: NodeProcess | undefined;

beforeAll(async () => {
  release = previousRelease();
  folder = mkdtempSync(join(tmpdir(), 'tether-previous-release-'));
  execFileSync('sh', ['-c', `git archive --format=tar ${release} package.json backend shared migrations | tar -x -C "${folder}"`], { cwd: REPOSITORY });
  for (const modules of ['node_modules', 'backend/node_modules', 'shared/node_modules']) {
    if (existsSync(join(REPOSITORY, modules))) symlinkSync(join(REPOSITORY, modules), join(folder, modules));
  }
  surroundings = await startNodeSurroundings();
});
afterAll(async () => {
  await node?.stop();
  await surroundings?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('the previous release on the new schema', () => {
  it('answers /health and applies one signed delivery on a database this checkout migrated', async () => {
    // An older schema than this checkout's, or the test proves nothing.
    expect(gitSucceeds('diff', '--quiet', release, '--', 'migrations/')).toBe(false);
    console.log(`previous release: ${git('log', '-1', '--format=%h %s', release).slice(0, 100)}`);
    node = await startNodeProcess([process.execPath, '--import', 'tsx', 'backend/src/main.ts'], { cwd: folder, env: surroundings.environment });
    await expectHealthyAndOneDelivery(node, surroundings);
  }, 180_000);
});
