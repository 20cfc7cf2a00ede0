import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderLatencySvg, renderMarkdown, writeReport } from './report';
import type { RunResult, ScenarioResult } from './results';

const ramp: ScenarioResult = {
  name: 'Ramp',
  description: 'Notifications at a rising rate.',
  durationSeconds: 60,
  load: '100 → 1,000 notifications/s, 5 % duplicates',
  latencyMs: { count: 9_590, p50: 3.24, p95: 12.4, p99: 45.6, max: 210 },
  events: { sent: 10_000, unique: 9_500, applied: 9_500, lost: 0, duplicated: 0 },
  statuses: { '401': 90, '200': 9_500 },
  timeline: [
    { second: 0, sent: 100, p50: 3, p99: 9 },
    { second: 1, sent: 400, p50: 3.5, p99: 12 },
    { second: 2, sent: 1_000, p50: 4, p99: 45 },
  ],
  markers: [{ second: 1, label: 'node <b> killed & "restarted"' }],
  checks: [{ name: 'every acknowledged notification applied once', passed: true, detail: '9,500 of 9,500' }],
  figures: { 'peak rate /s': 1_012.345, phase: 'ramp' },
};

const charges: ScenarioResult = {
  name: 'Billing | QStash stopped',
  description: 'QStash stops for 10 s during billing.',
  durationSeconds: 4.25,
  load: '2,000 attempts',
  checks: [
    { name: 'every attempt charged', passed: true, detail: '2,000 of 2,000' },
    { name: 'no double charge', passed: false, detail: '2 attempts charged twice' },
  ],
};

const run: RunResult = {
  startedAt: '2025-06-01T10:00:00.000Z',
  finishedAt: '2025-06-01T10:02:00.000Z',
  mode: 'short',
  machine: { cpus: 2, loadAverageAtStart: [1.2, 0.85, 0.6], loadAverageAtEnd: [1.9, 1.1, 0.7], node: 'v22.23.3' },
  scenarios: [ramp, charges],
};

describe('renderMarkdown', () => {
  const markdown = renderMarkdown(run);

  it('heads the report with date, mode and machine', () => {
    expect(markdown).toContain('2025-06-01T10:00:00.000Z → 2025-06-01T10:02:00.000Z');
    expect(markdown).toContain('- Mode: short');
    expect(markdown).toContain('2 CPUs, load average (1, 5, 15 min) 1.20 / 0.85 / 0.60 at start, 1.90 / 1.10 / 0.70 at end, Node v22.23.3');
  });

  it('has one summary row per scenario, missing figures as –', () => {
    expect(markdown).toContain(
      '| Ramp | ✓ | 60 | 100 → 1,000 notifications/s, 5 % duplicates | 3.2 | 12 | 46 | 10,000 | 9,500 | 9,500 | 0 | 0 |',
    );
    expect(markdown).toContain('| Billing \\| QStash stopped | ✗ | 4.3 | 2,000 attempts | – | – | – | – | – | – | – | – |');
  });

  it('lists statuses, figures and checks per scenario', () => {
    expect(markdown).toContain('- Statuses: 200 × 9,500, 401 × 90');
    expect(markdown).toContain('- peak rate /s: 1,012.35');
    expect(markdown).toContain('- ✓ every attempt charged — 2,000 of 2,000');
    expect(markdown).toContain('- ✗ no double charge — 2 attempts charged twice');
  });
});

describe('renderLatencySvg', () => {
  const svg = renderLatencySvg(ramp)!;

  it('draws p50 and p99 as two polylines, with a marker label escaped', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('node &lt;b&gt; killed &amp; &quot;restarted&quot;');
    expect(svg).not.toContain('<b>');
    expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;)/);
  });

  it('switches to a labelled log scale when p99 exceeds 20 times the median p50', () => {
    expect(svg).not.toContain('log scale');
    const spike = { ...ramp, timeline: [...ramp.timeline!, { second: 3, sent: 1_000, p50: 5, p99: 2_500 }] };
    expect(renderLatencySvg(spike)).toContain('latency ms (log scale)');
  });

  it('draws nothing without a timeline', () => {
    expect(renderLatencySvg(charges)).toBeUndefined();
    expect(renderLatencySvg({ ...ramp, timeline: [] })).toBeUndefined();
  });
});

describe('writeReport', () => {
  const directories: string[] = [];
  afterAll(() => Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true }))));

  it('writes markdown, JSON and a plot per scenario with a timeline, into a new directory', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'tether-e2e-report-'));
    directories.push(parent);
    const directory = join(parent, 'results');

    const written = await writeReport(run, directory);

    expect(written).toEqual({
      markdown: join(directory, 'e2e-short.md'),
      json: join(directory, 'e2e-short.json'),
      plots: [join(directory, 'e2e-short-ramp.svg')],
    });
    expect((await readdir(directory)).sort()).toEqual(['e2e-short-ramp.svg', 'e2e-short.json', 'e2e-short.md']);
    expect(await readFile(written.markdown, 'utf8')).toContain('![Acknowledge latency per second](e2e-short-ramp.svg)');
    expect(JSON.parse(await readFile(written.json, 'utf8'))).toEqual(run);
    expect(await readFile(written.plots[0]!, 'utf8')).toBe(renderLatencySvg(ramp));
  });

  it('gives scenarios whose names share a slug a plot each', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tether-e2e-report-'));
    directories.push(directory);
    const { plots } = await writeReport({ ...run, mode: 'long', scenarios: [ramp, { ...ramp, name: 'ramp!' }] }, directory);
    expect(plots).toEqual([join(directory, 'e2e-long-ramp.svg'), join(directory, 'e2e-long-ramp-2.svg')]);
  });
});
