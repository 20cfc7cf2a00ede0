/**
 * Report of an end-to-end run (see results.ts): markdown to read, the run as JSON to compare runs
 * with, and per scenario with a timeline an SVG plot of its acknowledge latency, second by second.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scenarioPassed, type Check, type RunResult, type ScenarioResult } from './results';

const MISSING = '–';
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const upToTwoDecimals = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const tickLabel = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

/** NaN counts as missing too: a percentile over no answers is as unknown as an absent one. */
const known = (value: number | undefined): value is number => value !== undefined && Number.isFinite(value);

const count = (value: number | undefined) => (known(value) ? whole.format(value) : MISSING);

/** Milliseconds and seconds: a decimal only where it still means something, under 10. */
const rounded = (value: number | undefined) =>
  known(value) ? (Math.abs(value) < 10 ? oneDecimal : whole).format(value) : MISSING;

const mark = (passed: boolean) => (passed ? '✓' : '✗');

/** A pipe would end the table cell, a line break the table. */
const cell = (text: string) => text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');

/**
 * `plots` maps a scenario to its plot's file name, relative to the markdown file; writeReport
 * passes it once the plots have names.
 */
export function renderMarkdown(run: RunResult, plots: ReadonlyMap<ScenarioResult, string> = new Map()): string {
  const { cpus, loadAverageAtStart, loadAverageAtEnd, node } = run.machine;
  const loads = (values: number[]) =>
    values.length === 0 ? MISSING : values.map((value) => (known(value) ? twoDecimals.format(value) : MISSING)).join(' / ');
  return [
    `# End-to-end run (${run.mode})`,
    '',
    `- Date: ${run.startedAt} → ${run.finishedAt}`,
    `- Mode: ${run.mode}`,
    `- Machine: ${count(cpus)} CPUs, load average (1, 5, 15 min) ${loads(loadAverageAtStart)} at start, ${loads(loadAverageAtEnd)} at end, Node ${node}`,
    `- Passed: ${run.scenarios.filter(scenarioPassed).length} of ${run.scenarios.length} scenarios`,
    '',
    '| scenario | passed | duration s | load | p50 ms | p95 ms | p99 ms | sent | unique | applied | lost | duplicated |',
    '|---|:-:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...run.scenarios.map((scenario) => {
      const { latencyMs: latency, events } = scenario;
      const row = [
        cell(scenario.name),
        mark(scenarioPassed(scenario)),
        rounded(scenario.durationSeconds),
        cell(scenario.load),
        rounded(latency?.p50),
        rounded(latency?.p95),
        rounded(latency?.p99),
        count(events?.sent),
        count(events?.unique),
        count(events?.applied),
        count(events?.lost),
        count(events?.duplicated),
      ];
      return `| ${row.join(' | ')} |`;
    }),
    ...run.scenarios.flatMap((scenario) => ['', scenarioSection(scenario, plots.get(scenario))]),
    '',
  ].join('\n');
}

function scenarioSection(scenario: ScenarioResult, plot: string | undefined): string {
  const { latencyMs: latency, events } = scenario;
  const lines = [
    `## ${scenario.name} ${mark(scenarioPassed(scenario))}`,
    '',
    scenario.description,
    '',
    `- Load: ${scenario.load}`,
    `- Duration: ${rounded(scenario.durationSeconds)} s`,
    `- Acknowledge latency: ${
      latency
        ? `p50 ${rounded(latency.p50)} ms, p95 ${rounded(latency.p95)} ms, p99 ${rounded(latency.p99)} ms, max ${rounded(latency.max)} ms over ${count(latency.count)} answers`
        : MISSING
    }`,
    `- Events: ${
      events
        ? `sent ${count(events.sent)}, unique ${count(events.unique)}, applied ${count(events.applied)}, lost ${count(events.lost)}, duplicated ${count(events.duplicated)}`
        : MISSING
    }`,
    `- Statuses: ${statuses(scenario.statuses)}`,
    ...Object.entries(scenario.figures ?? {}).map(
      ([name, value]) => `- ${name}: ${typeof value === 'string' ? value : known(value) ? upToTwoDecimals.format(value) : MISSING}`,
    ),
    '',
    '### Checks',
    '',
    ...(scenario.checks.length === 0 ? ['No checks.'] : scenario.checks.map(checkLine)),
  ];
  if (plot) lines.push('', `![Acknowledge latency per second](${plot})`);
  return lines.join('\n');
}

/** Object.entries lists integer-like keys in ascending order, so status codes come out sorted. */
function statuses(byStatus: Record<string, number> | undefined): string {
  const entries = Object.entries(byStatus ?? {});
  return entries.length === 0 ? MISSING : entries.map(([status, n]) => `${status} × ${count(n)}`).join(', ');
}

const checkLine = (check: Check) => `- ${mark(check.passed)} ${check.name}${check.detail ? ` — ${check.detail}` : ''}`;

const WIDTH = 720;
const HEIGHT = 300;
const AREA = { left: 60, right: WIDTH - 64, top: 40, bottom: HEIGHT - 44 };
/** Beyond this ratio of the worst p99 to the typical p50, a linear axis flattens the p50 line onto zero. */
const LOG_SCALE_RATIO = 20;
const COLOURS = { p50: '#1f77b4', p99: '#d62728', sent: '#dde1e6', marker: '#555' };
/** Keeps a label readable where it crosses the bars and lines. */
const HALO = 'stroke="#fff" stroke-width="3" paint-order="stroke"';

interface Scale {
  at(value: number): number;
  ticks: number[];
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].find((multiple) => multiple * magnitude >= raw)! * magnitude;
}

/** From 0 to `max` rounded up to a tick; `minimumStep` 1 keeps seconds and counts whole. */
function linearScale(max: number, from: number, to: number, tickCount: number, minimumStep = 0): Scale {
  const top = max > 0 ? max : 1;
  const step = Math.max(minimumStep, niceStep(top / tickCount));
  const end = Math.ceil(top / step) * step;
  return {
    at: (value) => from + (value / end) * (to - from),
    ticks: Array.from({ length: Math.round(end / step) + 1 }, (_, i) => i * step),
  };
}

/** Whole decades around [min, max], min > 0; values below the lowest decade sit on the axis. */
function logScale(min: number, max: number, from: number, to: number): Scale {
  const low = Math.floor(Math.log10(min));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  // 1-2-5 ticks while the decades are wide enough to label them apart.
  const multiples = high - low <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let decade = low; decade <= high; decade++) {
    for (const multiple of multiples) if (decade < high || multiple === 1) ticks.push(multiple * 10 ** decade);
  }
  return {
    at: (value) => from + ((Math.log10(Math.max(value, 10 ** low)) - low) / (high - low)) * (to - from),
    ticks,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Coordinates to a tenth of a pixel: finer only makes the file bigger. */
const px = (value: number) => Math.round(value * 10) / 10;

export function renderLatencySvg(scenario: ScenarioResult): string | undefined {
  const timeline = [...(scenario.timeline ?? [])].sort((a, b) => a.second - b.second);
  if (timeline.length === 0) return undefined;
  const markers = scenario.markers ?? [];
  const { left, right, top, bottom } = AREA;

  const x = linearScale(Math.max(...timeline.map((s) => s.second), ...markers.map((m) => m.second)), left, right, 10, 1);
  const latencies = timeline.flatMap((s) => [s.p50, s.p99]).filter(known);
  const maxLatency = Math.max(0, ...latencies);
  const logarithmic = maxLatency > LOG_SCALE_RATIO * median(timeline.map((s) => s.p50).filter(known));
  const y = logarithmic
    ? logScale(Math.min(...latencies.filter((value) => value > 0)), maxLatency, bottom, top)
    : linearScale(maxLatency, bottom, top, 5);
  const sent = linearScale(Math.max(0, ...timeline.map((s) => s.sent).filter(known)), bottom, top, 4, 1);

  const barWidth = Math.max(1, (x.at(1) - x.at(0)) * 0.8);
  const bars = timeline
    .filter((s) => known(s.sent) && s.sent > 0)
    .map((s) => {
      const from = Math.max(left, x.at(s.second) - barWidth / 2);
      const to = Math.min(right, x.at(s.second) + barWidth / 2);
      const barTop = sent.at(s.sent);
      return `<rect x="${px(from)}" y="${px(barTop)}" width="${px(to - from)}" height="${px(bottom - barTop)}" fill="${COLOURS.sent}"/>`;
    });
  const line = (field: 'p50' | 'p99') => {
    const points = timeline.filter((s) => known(s[field])).map((s) => `${px(x.at(s.second))},${px(y.at(s[field]))}`);
    return `<polyline points="${points.join(' ')}" fill="none" stroke="${COLOURS[field]}" stroke-width="1.5" stroke-linejoin="round"/>`;
  };
  const markerLines = markers.map((marker, i) => {
    const at = px(x.at(marker.second));
    // Labels of nearby markers would overlap on one row; near the right edge they go left of the line.
    const labelY = top + 12 + (i % 3) * 13;
    const leftOfLine = at > right - 120;
    return [
      `<line x1="${at}" y1="${top}" x2="${at}" y2="${bottom}" stroke="${COLOURS.marker}" stroke-dasharray="4 3"/>`,
      `<text x="${leftOfLine ? at - 4 : at + 4}" y="${labelY}" text-anchor="${leftOfLine ? 'end' : 'start'}" ${HALO}>${escapeXml(marker.label)}</text>`,
    ].join('');
  });
  const legendX = right - 190;
  const middle = (top + bottom) / 2;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" font-size="11" fill="#333">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="13" font-weight="bold">${escapeXml(scenario.name)}</text>`,
    ...bars,
    ...y.ticks.map((tick) => {
      const at = px(y.at(tick));
      return `<line x1="${left}" y1="${at}" x2="${right}" y2="${at}" stroke="#eee"/><text x="${left - 6}" y="${at + 4}" text-anchor="end">${tickLabel.format(tick)}</text>`;
    }),
    ...sent.ticks.map((tick) => `<text x="${right + 6}" y="${px(sent.at(tick)) + 4}" fill="#888">${tickLabel.format(tick)}</text>`),
    ...x.ticks.map((tick) => {
      const at = px(x.at(tick));
      return `<line x1="${at}" y1="${bottom}" x2="${at}" y2="${bottom + 4}" stroke="#333"/><text x="${at}" y="${bottom + 16}" text-anchor="middle">${tickLabel.format(tick)}</text>`;
    }),
    `<path d="M${left} ${top}V${bottom}H${right}" fill="none" stroke="#333"/>`,
    `<text x="${(left + right) / 2}" y="${HEIGHT - 8}" text-anchor="middle">seconds since the scenario started</text>`,
    `<text transform="translate(16 ${middle}) rotate(-90)" text-anchor="middle">latency ms${logarithmic ? ' (log scale)' : ''}</text>`,
    `<text transform="translate(${WIDTH - 12} ${middle}) rotate(90)" text-anchor="middle" fill="#888">sent per second</text>`,
    line('p50'),
    line('p99'),
    ...markerLines,
    `<line x1="${legendX}" y1="16" x2="${legendX + 20}" y2="16" stroke="${COLOURS.p50}" stroke-width="2"/><text x="${legendX + 24}" y="20">p50</text>`,
    `<line x1="${legendX + 60}" y1="16" x2="${legendX + 80}" y2="16" stroke="${COLOURS.p99}" stroke-width="2"/><text x="${legendX + 84}" y="20">p99</text>`,
    `<rect x="${legendX + 120}" y="10" width="12" height="12" fill="${COLOURS.sent}"/><text x="${legendX + 136}" y="20">sent</text>`,
    '</svg>',
    '',
  ].join('\n');
}

function slug(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  return ascii.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'scenario';
}

export async function writeReport(
  run: RunResult,
  directory: string,
): Promise<{ markdown: string; json: string; plots: string[] }> {
  await mkdir(directory, { recursive: true });
  const base = `e2e-${run.mode}`;
  const plotNames = new Map<ScenarioResult, string>();
  const svgByName = new Map<string, string>();
  for (const scenario of run.scenarios) {
    const svg = renderLatencySvg(scenario);
    if (!svg) continue;
    const stem = `${base}-${slug(scenario.name)}`;
    let name = `${stem}.svg`;
    // Two names can share a slug ("Node kill", "node-kill"); one plot must not overwrite the other.
    for (let n = 2; svgByName.has(name); n++) name = `${stem}-${n}.svg`;
    plotNames.set(scenario, name);
    svgByName.set(name, svg);
  }
  const markdown = join(directory, `${base}.md`);
  const json = join(directory, `${base}.json`);
  const plots = [...svgByName.keys()].map((name) => join(directory, name));
  await Promise.all([
    writeFile(markdown, renderMarkdown(run, plotNames)),
    writeFile(json, `${JSON.stringify(run, null, 2)}\n`),
    ...[...svgByName].map(([name, svg]) => writeFile(join(directory, name), svg)),
  ]);
  return { markdown, json, plots };
}
