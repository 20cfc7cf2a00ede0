/**
 * The edge Worker builds for deployment (issue 16.1): `wrangler deploy --dry-run --outdir`
 * bundles it exactly as `wrangler deploy` would upload it, without uploading. Its size is printed
 * (recorded in docs/operations.md) and held under Cloudflare's limit for a Worker on the Free
 * plan, 3 MiB after gzip; the bundle holds nothing of the Node-only entry or the stand-ins.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const FREE_PLAN_LIMIT_GZIP_BYTES = 3 * 1024 * 1024;
const outdir = mkdtempSync(join(tmpdir(), 'tether-edge-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('the edge Worker', () => {
  it('bundles with `wrangler deploy --dry-run` within the Free plan\'s size limit, without Node-only code', async () => {
    const wrangler = join(REPOSITORY, 'node_modules/wrangler/bin/wrangler.js');
    const metafile = join(outdir, 'meta.json');
    const { stdout } = await promisify(execFile)(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir, '--metafile', metafile], {
      cwd: REPOSITORY,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    });
    expect(stdout).toContain('--dry-run: exiting now.');
    const worker = join(outdir, 'worker.js');
    const bytes = statSync(worker).size;
    const gzipBytes = gzipSync(readFileSync(worker)).length;
    console.log(`edge Worker bundle: ${(bytes / 1024).toFixed(0)} KiB, ${(gzipBytes / 1024).toFixed(0)} KiB gzip (limit ${FREE_PLAN_LIMIT_GZIP_BYTES / 1024} KiB gzip on the Free plan); wrangler: ${/Total Upload: .*/.exec(stdout)?.[0]}`);
    expect(gzipBytes).toBeLessThan(FREE_PLAN_LIMIT_GZIP_BYTES);

    const inputs = Object.keys((JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
    expect(inputs).toContain('edge/src/worker.ts');
    expect(inputs.filter((input) => input === 'edge/src/node.ts' || input.startsWith('dev/') || input.includes('@hono/node-server'))).toEqual([]);
  }, 180_000);
});
