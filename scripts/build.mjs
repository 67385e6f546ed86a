#!/usr/bin/env node
// Bundles the action (src/index.ts → dist/index.js) and the CLI (src/cli.ts → dist/cli.js) into
// single ESM files. Output is deterministic (no timestamps, no sourcemaps, paths relative to the
// repo root) so a test can compare the committed dist/ with a fresh build.
//   node scripts/build.mjs [--outdir DIR] [--metafile]   (--metafile: also DIR/<bundle>.meta.json, what each bundle holds)
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--outdir');
const outdir = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : join(root, 'dist');
const metafile = process.argv.includes('--metafile');

// Bundled CommonJS dependencies call require(); ESM has none, so give them one.
const requireShim =
  "import { createRequire as __rgCreateRequire } from 'node:module';\nconst require = __rgCreateRequire(import.meta.url);";

// src/util/version.ts imports package.json for its version: give the bundles only that field, so
// they neither carry the manifest nor change when a dependency is added.
const versionOnly = {
  name: 'package-json-version-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]package\.json$/ }, async (args) => {
      if (args.path !== join(root, 'package.json')) return undefined;
      const { version } = JSON.parse(await readFile(args.path, 'utf8'));
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

const common = {
  plugins: [versionOnly],
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
};

const entries = [
  { in: 'src/index.ts', out: 'index.js', banner: requireShim },
  { in: 'src/cli.ts', out: 'cli.js', banner: `#!/usr/bin/env node\n${requireShim}` },
];

for (const e of entries) {
  if (!existsSync(join(root, e.in))) {
    console.warn(`build: ${e.in} does not exist yet; skipping ${e.out}`);
    continue;
  }
  const result = await build({
    ...common,
    entryPoints: [e.in],
    outfile: join(outdir, e.out),
    banner: { js: e.banner },
    metafile,
  });
  if (metafile) await writeFile(join(outdir, `${e.out}.meta.json`), JSON.stringify(result.metafile));
  console.log(`build: ${e.in} → ${join(outdir, e.out)}`);
}
