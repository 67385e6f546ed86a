/**
 * Markdown for the PR comment, the job summary and the terminal. Everything that comes from the
 * repository (file names, config keys and values, metric names, package names) goes through
 * `code()` or `text()`, so it can neither break a table nor inject links, images or @mentions.
 */

import {
  type BaselineChange,
  type CacheUse,
  type ConfigDrift,
  FAILING_VERDICTS,
  type MetricResult,
  type Report,
  type Verdict,
} from '../schema/report.js';
import { listSome, num, shortHash } from '../util/format.js';
import { ciStrip } from './ci-strip.js';
import { countByFolder, DATA_ROWS_SHOWN, rowsShown } from './data-summary.js';
import { renderDiagnosis } from './diagnosis.js';
import { type Escaper, GITHUB, TERMINAL } from './escape.js';
import { type AcceptVia, nextStepLines } from './next-step.js';
import { trendCharts } from './trend.js';

export interface MarkdownOptions {
  /** Longest body allowed; whole detail sections are dropped (environment first, data last) to fit, with `truncatedNote` in their place. */
  maxLength?: number;
  truncatedNote?: string;
  /** github (default): inert HTML-escaped Markdown. terminal: plain text with backtick code, for humans at a shell. */
  format?: 'github' | 'terminal';
  /** The workflow run this report came from (the action): linked in the footer. */
  runUrl?: string;
  /** How a failing report tells the reader to accept an intended change; default: re-record with the CLI. */
  accept?: AcceptVia;
}

const ICON: Record<Verdict, string> = {
  reproducible: '✅',
  equivalent: '✅',
  'no-drift': '✅',
  recorded: '📝',
  inconclusive: '⚠️',
  drift: '⚠️',
  'not-equivalent': '❌',
  mismatch: '❌',
};

const DEFAULT_TRUNCATED =
  'Some detail sections were left out to fit the size limit; the job summary has the full report.';

function signedNum(x: number): string {
  return x > 0 ? `+${num(x)}` : num(x);
}

function pValue(p: number | null): string {
  if (p === null) return '—';
  return p < 1e-4 ? '<0.0001' : p.toFixed(4);
}

function marginText(m: MetricResult, f: Escaper): string {
  if (m.margin === null) return 'exact';
  if (m.direction === 'higher') return `≥ −${f.text(m.margin)}`;
  if (m.direction === 'lower') return `≤ +${f.text(m.margin)}`;
  return `±${f.text(m.margin)}`;
}

/** Mean ± sd; the spread needs two significant digits, not four. */
function sample(s: { mean: number; sd: number }): string {
  return `${num(s.mean)} ± ${num(s.sd, 2)}`;
}

/** (1−2α) CI, or (1−2α′) at the look a sequential plan stopped at. */
function ciLabel(report: Report): string {
  const seq = report.sequential;
  const alpha = seq ? (seq.alphaPerLook[seq.stoppedAtLook - 1] ?? report.alpha) : report.alpha;
  return `${Number(((1 - 2 * alpha) * 100).toPrecision(3))}% CI`;
}

/** Failing metrics first, the clear failures before the inconclusive ones (stable: the config's order within each). */
function failingFirst(metrics: readonly MetricResult[]): MetricResult[] {
  const rank = (m: MetricResult) => (!FAILING_VERDICTS.includes(m.verdict) ? 2 : m.verdict === 'inconclusive' ? 1 : 0);
  return [...metrics].sort((a, b) => rank(a) - rank(b));
}

function metricsTable(report: Report, f: Escaper): string {
  const first = report.metrics[0];
  if (!first) return '';
  const exact = report.mode === 'exact';
  const rows = failingFirst(report.metrics).map((m) => {
    const verdict = `${ICON[m.verdict]} ${m.verdict}${m.degenerate ? ' (zero spread)' : ''}`;
    const cells = [f.code(m.name), sample(m.baseline), sample(m.candidate), signedNum(m.diff)];
    if (!exact) cells.push(m.ci ? `[${num(m.ci[0])}, ${num(m.ci[1])}]` : '—', marginText(m, f), pValue(m.p));
    return `| ${[...cells, verdict].join(' | ')} |`;
  });
  const sides = `Baseline (n=${first.baseline.n}) | This run (n=${first.candidate.n})`;
  const header = exact
    ? `| Metric | ${sides} | Difference | Verdict |\n|---|---|---|---|---|`
    : `| Metric | ${sides} | Difference | ${ciLabel(report)} | Margin | p | Verdict |\n|---|---|---|---|---|---|---|---|`;
  return [header, ...rows].join('\n');
}

/** 100000 → "100,000": counts in a large data summary. */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Per-folder counts of a large data drift, at most DATA_ROWS_SHOWN folders, the rest summed in one row. */
function folderTable(data: Report['drift']['data'], f: Escaper): string[] {
  const folders = countByFolder(data);
  const shown = folders.slice(0, DATA_ROWS_SHOWN);
  const rest = folders.slice(DATA_ROWS_SHOWN);
  const sum = (k: 'added' | 'removed' | 'modified') => count(rest.reduce((n, c) => n + c[k], 0));
  return [
    '| Folder | Added | Removed | Modified |',
    '|---|---|---|---|',
    ...shown.map((c) => `| ${f.code(c.folder)} | ${count(c.added)} | ${count(c.removed)} | ${count(c.modified)} |`),
    ...(rest.length
      ? [`| … ${count(rest.length)} more folders | ${sum('added')} | ${sum('removed')} | ${sum('modified')} |`]
      : []),
  ];
}

/** Longest metric name the strips line up after; longer ones are cut. */
const STRIP_NAME_CHARS = 32;

/**
 * Each metric's CI against its margin band (ci-strip.ts), one aligned line per metric under the
 * table — a column of its own would push the verdict off a comment's width. Monospaced: `<pre>` with
 * escaped names on GitHub, a fenced block in the terminal.
 */
function stripBlock(report: Report, f: Escaper): string | undefined {
  const lines = failingFirst(report.metrics).flatMap((m) => {
    const strip = ciStrip(m);
    return strip === undefined ? [] : [{ name: m.name, strip, verdict: `${ICON[m.verdict]} ${m.verdict}` }];
  });
  if (!lines.length) return undefined;
  const cut = (name: string) => (name.length > STRIP_NAME_CHARS ? `${name.slice(0, STRIP_NAME_CHARS - 1)}…` : name);
  const width = Math.max(...lines.map((l) => cut(l.name).length));
  // Padding is added to the plain name; escaping then changes its bytes, not its rendered width.
  const body = lines.map((l) => `${f.text(cut(l.name).padEnd(width), 1000)}  ${l.strip}  ${l.verdict}`).join('\n');
  const legend = `${ciLabel(report)} against the margin band: │ its edges, ─ inside, · outside, [■] the CI.`;
  return f === GITHUB ? `${legend}\n<pre>\n${body}\n</pre>` : `${legend}\n\`\`\`\n${body}\n\`\`\``;
}

function settingsTable(settings: ConfigDrift[], f: Escaper): string {
  return [
    '| Setting | Before | After |',
    '|---|---|---|',
    ...settings.map((c) => `| ${f.code(c.key)} | ${f.code(c.before)} | ${f.code(c.after)} |`),
  ].join('\n');
}

function baselineChangeLines(change: BaselineChange, f: Escaper): string[] {
  const lines = [`**⚠️ This change updates the ${change.changed.join(' and the ')}.** ${f.text(change.why, 1000)}`];
  if (change.verdictAgainstBase !== null) {
    const mark = (v: Verdict) => `${ICON[v]} ${v}`;
    const follows = (side: 'base' | 'change') => (change.follows === side ? ' ← decides' : '');
    lines.push(
      '',
      '| Compared with | Verdict |',
      '|---|---|',
      `| the base commit ${f.code(shortHash(change.base))} | ${mark(change.verdictAgainstBase)}${follows('base')} |`,
      `| this change's baseline and settings | ${mark(change.verdictAgainstChange)}${follows('change')} |`,
    );
  }
  if (change.settings.length) lines.push('', settingsTable(change.settings, f));
  return lines;
}

/** A file's hash is shortened; a checkpoint leaf ("float32[45,32] <sha>") keeps its type and shape. */
function mismatchValue(
  m: Report['mismatches'][number],
  v: string | number | boolean | null,
): string | number | boolean | null {
  if (m.kind !== 'artifact' || typeof v !== 'string') return v;
  if (/^[0-9a-f]{64}$/.test(v)) return shortHash(v);
  return v.replace(/ ([0-9a-f]{64})$/, (_, h: string) => ` ${shortHash(h)}`);
}

interface Section {
  body: string;
  /** Set on detail sections, which may be dropped to fit a size limit, lowest first; the headline never is. */
  dropRank?: number;
}

/** Which seeds were trained and which came from the run cache, so a hit is never read as a retraining. */
function cacheLine(cache: CacheUse): string {
  const seeds = (list: number[]) => (list.length ? list.join(', ') : 'none');
  return `Run cache (${cache.store}, key \`${cache.key}\`): trained ${seeds(cache.trained)}; reused ${seeds(cache.reused)}.`;
}

function sections(report: Report, f: Escaper, opts: MarkdownOptions): Section[] {
  const out: Section[] = [];
  const head = [`## ${ICON[report.verdict]} repro-gate: ${report.verdict}`];
  // A change to what the gate compares against comes before anything else a reviewer reads.
  if (report.baselineChange) head.push('', ...baselineChangeLines(report.baselineChange, f));
  head.push('', `**${f.text(report.summary, 1000)}**`);
  // The cause is what a reader of a red gate needs first, so it goes above the numbers.
  if (report.cause)
    head.push('', `**Most likely cause: ${report.cause}** — ${f.text(report.causeEvidence ?? '', 1000)}`);
  if (report.metrics.length) head.push('', metricsTable(report, f));
  const strips = stripBlock(report, f);
  if (strips) head.push('', strips);
  const recorded = report.recorded ?? [];
  const [firstRecorded] = recorded;
  if (firstRecorded) {
    head.push(
      '',
      `| Metric | Recorded (n=${firstRecorded.n}) |`,
      '|---|---|',
      ...recorded.map((m) => `| ${f.code(m.name)} | ${sample(m)} |`),
    );
  }
  if (report.sequential) head.push('', `Sequential seeds: ${f.text(report.sequential.reason, 1000)}`);
  if (report.cache) head.push('', cacheLine(report.cache));
  const next = nextStepLines(report, f, opts.accept ?? { via: 'cli' });
  if (next.length) head.push('', '**Next step**', ...next);
  out.push({ body: head.join('\n') });

  const { data, environment } = report.drift;
  const settings = report.drift.config.filter((c) => c.group === 'gate settings');
  const config = report.drift.config.filter((c) => c.group !== 'gate settings');
  if (report.command !== 'record') {
    if (data.length + settings.length + config.length + environment.length === 0) {
      out.push({ body: '### Drift\nNo data, config or environment drift since the baseline.' });
    } else {
      out.push({ body: '### Drift\nListed in the order to suspect it: data, then config, then environment.' });
    }
  }
  if (data.length) {
    const rows = rowsShown(data);
    const row = (d: (typeof data)[number]) =>
      `| ${f.code(d.path)} | ${d.change}${d.detail ? `: ${f.text(d.detail)}` : ''} | ${f.code(shortHash(d.before))} | ${f.code(shortHash(d.after))} |`;
    const table = ['| File | Change | Before (SHA-256) | After (SHA-256) |', '|---|---|---|---|', ...rows.map(row)];
    out.push({
      dropRank: 4,
      body: [
        `#### Data (${count(data.length)})`,
        ...(data.length > rows.length
          ? [
              ...folderTable(data, f),
              '',
              `The first ${rows.length} of ${count(data.length)} (all of them are in the JSON report, \`drift.data\`):`,
            ]
          : []),
        ...table,
      ].join('\n'),
    });
  }
  if (settings.length) {
    out.push({
      dropRank: 3,
      body: [`#### Gate settings (${settings.length}, ${f.code(settings[0]?.file)})`, settingsTable(settings, f)].join(
        '\n',
      ),
    });
  }
  if (config.length) {
    out.push({
      dropRank: 3,
      body: [
        `#### Config (${config.length})`,
        '| File | Key | Before | After |',
        '|---|---|---|---|',
        ...config.map((c) => `| ${f.code(c.file)} | ${f.code(c.key)} | ${f.code(c.before)} | ${f.code(c.after)} |`),
      ].join('\n'),
    });
  }
  if (environment.length) {
    const table = [
      '| Key | Before | After |',
      '|---|---|---|',
      ...environment.map((e) => `| ${f.code(e.key)} | ${f.code(e.before)} | ${f.code(e.after)} |`),
    ].join('\n');
    out.push({
      dropRank: 0,
      body:
        environment.length > 8
          ? `#### Environment (${environment.length})\n<details><summary>Show all ${environment.length} changes</summary>\n\n${table}\n\n</details>`
          : `#### Environment (${environment.length})\n${table}`,
    });
  }
  const noise = noiseSection(report, f);
  if (noise) out.push({ dropRank: 0, body: noise });
  if (report.mismatches.length) {
    out.push({
      dropRank: 1,
      body: [
        '### What differed',
        '| Seed | Kind | Name | Baseline | This run |',
        '|---|---|---|---|---|',
        ...report.mismatches.map(
          (m) =>
            `| ${m.seed} | ${m.kind} | ${f.code(m.name)}${m.key === undefined ? '' : ` › ${f.code(m.key)}`} | ${f.code(mismatchValue(m, m.baseline))} | ${f.code(mismatchValue(m, m.candidate))} |`,
        ),
      ].join('\n'),
    });
  }
  if (report.diagnosis) out.push({ dropRank: 2, body: renderDiagnosis(report.diagnosis, f) });
  const charts = report.history && f !== TERMINAL ? trendCharts(report.history) : [];
  if (charts.length)
    out.push({ dropRank: 0, body: [`### Trend (last ${report.history?.length} runs)`, ...charts].join('\n\n') });
  if (report.lint?.length) {
    out.push({
      dropRank: 1,
      body: ['### Determinism checklist', ...report.lint.map((l) => `- ${f.text(l, 1000)}`)].join('\n'),
    });
  }
  if (report.warnings.length) {
    out.push({
      dropRank: 2,
      body: ['### Warnings', ...report.warnings.map((w) => `- ${f.text(w.message, 1000)}`)].join('\n'),
    });
  }
  const footer = [`repro-gate ${f.text(report.tool.version)}`];
  if (report.baseline)
    footer.push(
      `baseline ${f.code(report.baseline.path)} recorded ${f.text(report.baseline.recordedAt)}${report.baseline.commit ? ` at ${f.code(shortHash(report.baseline.commit))}` : ''}`,
    );
  if (report.commit) footer.push(`this run at ${f.code(shortHash(report.commit))}`);
  if (report.seeds.length) footer.push(`seeds ${report.seeds.join(', ')}`);
  // Our own URL from the runner's environment, not repository text.
  if (opts.runUrl && f === GITHUB) footer.push(`[workflow run](${opts.runUrl})`);
  out.push({ body: f.small(footer.join(' · ')) });
  return out;
}

const NOISE_REASON: Record<NonNullable<Report['drift']['noise']>[number]['reason'], string> = {
  host: 'host noise',
  'not-imported': 'not imported by the training',
  ignored: 'drift.ignore',
};

/**
 * Environment changes that are not counted, folded: one line in the terminal, a closed <details>
 * in GitHub Markdown. They never change the verdict, so they come after everything that can.
 */
function noiseSection(report: Report, f: Escaper): string | undefined {
  const noise = report.drift.noise ?? [];
  if (!noise.length) return undefined;
  const line = noiseLine(noise.map((n) => n.key));
  if (f === TERMINAL)
    return `${line}: ${listSome(
      noise.map((n) => f.text(n.key)),
      10,
    )}`;
  const table = [
    '| Key | Before | After | Why not counted |',
    '|---|---|---|---|',
    ...noise.map((n) => `| ${f.code(n.key)} | ${f.code(n.before)} | ${f.code(n.after)} | ${NOISE_REASON[n.reason]} |`),
  ].join('\n');
  return `<details><summary>${line}</summary>\n\n${table}\n\n</details>`;
}

/** "3 host facts changed, not counted". */
function noiseLine(keys: readonly string[]): string {
  return `${keys.length} host fact${keys.length === 1 ? '' : 's'} changed, not counted`;
}

export function escaperFor(format: MarkdownOptions['format']): Escaper {
  return format === 'terminal' ? TERMINAL : GITHUB;
}

export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const all = sections(report, escaperFor(opts.format), opts);
  const join = (parts: Section[]) => `${parts.map((s) => s.body).join('\n\n')}\n`;
  let body = join(all);
  if (opts.maxLength === undefined || body.length <= opts.maxLength) return body;

  const note: Section = { body: `> ${opts.truncatedNote ?? DEFAULT_TRUNCATED}` };
  const kept = [...all];
  // Environment lists go first, data and config drift last: they usually explain the verdict.
  const droppable = all
    .flatMap((section) => (section.dropRank === undefined ? [] : [{ section, rank: section.dropRank }]))
    .sort((a, b) => a.rank - b.rank);
  for (const { section } of droppable) {
    if (body.length <= opts.maxLength) break;
    kept.splice(kept.indexOf(section), 1);
    // The note goes just before the footer.
    body = join([...kept.slice(0, -1), note, ...kept.slice(-1)]);
  }
  if (body.length <= opts.maxLength) return body;
  // Still too long (a huge metrics table): cut the rest at a line, i.e. a table row, and keep the
  // note and the footer whole.
  const footer = kept[kept.length - 1]?.body ?? '';
  const tail = `\n\n${note.body}\n\n${footer}\n`;
  const text = kept
    .slice(0, -1)
    .map((s) => s.body)
    .join('\n\n');
  const closePre = '\n</pre>';
  const room = Math.max(0, opts.maxLength - tail.length - closePre.length);
  const head = text.slice(0, Math.max(text.lastIndexOf('\n', room), 0));
  // A cut inside the CI strips' <pre> closes it, or the note and footer would show as raw text.
  return `${head}${head.lastIndexOf('<pre>') > head.lastIndexOf('</pre>') ? closePre : ''}${tail}`;
}
