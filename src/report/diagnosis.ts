/** Markdown for a diagnosis: verdict and cause, factor table, what differed, tensors and curves. */
import type { Diagnosis } from '../schema/diagnosis.js';
import { shortHash } from '../util/format.js';
import { renderArtifactDiffs } from './artifacts.js';
import { renderCurveChart, renderCurveDivergences } from './curves.js';
import type { Escaper } from './escape.js';

export function renderDiagnosis(d: Diagnosis, f: Escaper, heading = '###'): string {
  const out = [
    `${heading} Diagnosis: seed ${d.seed} rerun (${d.runs} training runs)`,
    '',
    d.deterministic
      ? `**Deterministic** — ${f.text(d.evidence, 1000)}`
      : `**Nondeterministic: ${d.cause}** — ${f.text(d.evidence, 1000)}`,
  ];
  if (d.factors.length) {
    out.push('', '| Changed one at a time | Deterministic with it? |', '|---|---|');
    for (const factor of d.factors) {
      const verdict =
        factor.deterministic === null
          ? `not tried${factor.note ? ` (${f.text(factor.note)})` : ''}`
          : factor.deterministic
            ? '✅ yes'
            : '❌ no';
      out.push(`| ${f.code(factor.name)} | ${verdict} |`);
    }
  }
  if (d.differences.length) {
    out.push('', '| What differed between two runs of the same seed | Run 1 | Run 2 | |', '|---|---|---|---|');
    for (const x of d.differences.slice(0, 30)) {
      const show = (v: string | number | null) =>
        x.kind === 'artifact' && typeof v === 'string' ? f.code(shortHash(v)) : f.code(v);
      out.push(`| ${x.kind} ${f.code(x.name)} | ${show(x.before)} | ${show(x.after)} | ${f.text(x.detail)} |`);
    }
  }
  if (d.artifacts.some((a) => a.status !== 'identical'))
    out.push(
      '',
      renderArtifactDiffs(d.artifacts, { heading: `${heading}# Artifacts, tensor by tensor`, escaper: f }).trimEnd(),
    );
  if (d.curves.length) {
    out.push(
      '',
      `${heading}# Training curves`,
      '',
      renderCurveDivergences(d.curves, d.curvePlot?.stepKey, f).trimEnd(),
    );
    if (d.curvePlot?.points.length)
      out.push('', renderCurveChart(d.curvePlot, { labels: ['run 1', 'run 2'], escaper: f }).trimEnd());
  }
  return out.join('\n');
}
