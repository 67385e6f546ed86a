/**
 * Preview the PR comment a report turns into: report JSON → the exact comment body the action
 * posts (marker + renderMarkdown) → HTML (GitHub-flavoured Markdown via `marked`, fetched ad hoc
 * with npx, not a dependency) → one page with a few lines of GitHub-like CSS.
 *
 *   node dist/cli.js check --json --config examples/breast-cancer-logreg/repro-gate.yml > /tmp/report.json
 *   npx tsx scripts/render-comment.ts /tmp/report.json /tmp/comment.html
 *   chromium --headless --no-sandbox --disable-gpu --screenshot=/tmp/comment.png --window-size=1200,900 file:///tmp/comment.html
 *
 * Also writes the Markdown body next to the HTML (`.md`). Approximations: marked is not GitHub's
 * cmark-gfm, and GitHub's HTML sanitiser is not applied (the body only uses tags it allows:
 * code, sub, details, summary).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { commentKey, commentMarker, composeBody } from '../src/github/sticky-comment.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { reportSchema } from '../src/schema/report.js';

const MARKED = 'marked@18.2.1';

const CSS = `
body { margin: 0; background: #f6f8fa; font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Apple Color Emoji", "Noto Color Emoji"; color: #1f2328; }
.comment { max-width: 880px; margin: 24px auto; background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
.comment > header { padding: 8px 16px; background: #f6f8fa; border-bottom: 1px solid #d1d9e0; border-radius: 6px 6px 0 0; color: #59636e; }
.comment > header b { color: #1f2328; }
.markdown-body { padding: 16px; overflow-wrap: break-word; }
.markdown-body > :first-child { margin-top: 0; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d1d9e0b3; padding-bottom: .3em; margin: 24px 0 16px; font-weight: 600; }
h3 { font-size: 1.25em; margin: 24px 0 16px; font-weight: 600; }
h4 { font-size: 1em; margin: 24px 0 16px; font-weight: 600; }
p, table, ul, details, blockquote { margin: 0 0 16px; }
table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; font-variant: tabular-nums; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; }
tr:nth-child(2n) { background: #f6f8fa; }
code { font: 85%/1.45 ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; background: #818b981f; border-radius: 6px; padding: .2em .4em; }
blockquote { color: #59636e; border-left: .25em solid #d1d9e0; padding: 0 1em; }
sub { font-size: 75%; }
summary { cursor: pointer; }
`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function main(argv: string[]): void {
  const [input, output, configPath = 'repro-gate.yml'] = argv;
  if (!input || !output) {
    console.error('usage: npx tsx scripts/render-comment.ts REPORT.json OUT.html [CONFIG_PATH_FOR_THE_MARKER]');
    process.exit(2);
  }
  const report = reportSchema.parse(JSON.parse(readFileSync(input, 'utf8')));
  // What the action posts: the hidden marker, then the body rendered to fit the limit (with an example run link).
  const body = composeBody(commentMarker(commentKey(configPath)), (maxLength) =>
    renderMarkdown(report, {
      maxLength,
      accept: { via: 'action', label: 'baseline-update' },
      runUrl: 'https://github.com/acme/ml/actions/runs/4242',
    }),
  );
  writeFileSync(`${output.replace(/\.html?$/i, '')}.md`, body);
  const html = execFileSync('npx', ['--yes', MARKED, '--gfm'], { input: body, encoding: 'utf8', maxBuffer: 64 << 20 });
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(basename(input))}</title><style>${CSS}</style></head>
<body><div class="comment"><header><b>github-actions</b> <span>bot</span> commented</header>
<div class="markdown-body">
${html}</div></div></body></html>
`;
  writeFileSync(output, page);
  console.error(`wrote ${output} (${body.length} characters of Markdown)`);
}

main(process.argv.slice(2));
