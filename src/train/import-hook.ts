/**
 * Which Python distributions a training actually imported, so that a package it never touches
 * (pycairo installed for another tool) is noise rather than drift. A `sitecustomize` module put
 * first on the training's PYTHONPATH (host and container alike) records, at interpreter exit, the
 * top-level modules in sys.modules, maps them to distributions with
 * importlib.metadata.packages_distributions() and adds what those require. It then steps aside:
 * it leaves sys.path as it was and runs the sitecustomize it shadows (the training's own, or the
 * interpreter's). Every Python process of the run writes its own file; the gate takes the union.
 * No file at all (not Python, Python < 3.10, killed before exit) means "unknown".
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { readConfinedFile } from '../util/files.js';

const IMPORT_HOOK_PY = String.raw`# repro-gate import hook (sitecustomize): written by repro-gate, put first on the training's
# PYTHONPATH. At exit it records the distributions this process imported (and what they require)
# into $REPRO_GATE_IMPORTS/<pid>.json, so package changes the training never touches are not drift.
import os
import sys


def _repro_gate_norm(name):
    return name.lower().replace("_", "-")


def _repro_gate_write(folder):
    try:
        import json
        import re
        from importlib import metadata

        if not hasattr(metadata, "packages_distributions"):
            return  # Python < 3.10: unknown, so every package change still counts
        stdlib = getattr(sys, "stdlib_module_names", frozenset())
        top = {name.partition(".")[0] for name in list(sys.modules)}
        top = sorted(t for t in top if t and t not in stdlib)
        mapping = metadata.packages_distributions()
        todo = [d for t in top for d in mapping.get(t, [])]
        seen = {}
        while todo:
            name = todo.pop()
            key = _repro_gate_norm(re.sub(r"[-_.]+", "-", name))
            if key in seen:
                continue
            try:
                dist = metadata.distribution(name)
            except Exception:
                continue
            seen[key] = _repro_gate_norm(dist.metadata["Name"] or name)
            for req in dist.requires or []:
                spec, _, marker = req.partition(";")
                if "extra" in marker:
                    continue  # an optional extra is installed only on request
                m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
                if m:
                    todo.append(m.group(1))
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, "%d.json" % os.getpid())
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"modules": top, "distributions": sorted(set(seen.values()))}, f)
        os.replace(target + ".tmp", target)
    except Exception:
        pass  # never break a training that is about to exit


def _repro_gate_install():
    here = os.path.dirname(os.path.abspath(__file__))
    # The training sees sys.path as it would without the hook.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    try:
        import importlib.machinery
        import importlib.util

        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            sys.modules["sitecustomize"] = module
            spec.loader.exec_module(module)
    except Exception as exc:  # as Python itself reports a failing sitecustomize, and carries on
        print("Error in sitecustomize; set PYTHONVERBOSE for traceback:\n%s: %s" % (type(exc).__name__, exc), file=sys.stderr)
    folder = os.environ.get("REPRO_GATE_IMPORTS")
    if folder:
        import atexit

        atexit.register(_repro_gate_write, folder)  # registered first, so it runs after the training's own handlers


_repro_gate_install()
`;

/** Where a run's processes write their import lists: inside {out}, the one folder a run may write. */
export const IMPORTS_FOLDER = '.repro-gate-imports';

/** Writes the hook into `dir` (a gate-owned folder the training can read), returning `dir`. */
export async function installImportHook(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'sitecustomize.py'), IMPORT_HOOK_PY);
  return dir;
}

const importsFileSchema = z.object({ distributions: z.array(z.string().max(200)).max(100_000) });

/**
 * The distributions every process of a run imported, or undefined when none recorded them; the
 * folder is removed either way, so it never counts as the training's output.
 */
export async function collectImports(outDir: string, warn: (line: string) => void): Promise<string[] | undefined> {
  const folder = path.join(outDir, IMPORTS_FOLDER);
  try {
    const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => /^\d+\.json$/.test(n));
    if (!names.length) return undefined;
    const found = new Set<string>();
    for (const name of names) {
      const text = await readConfinedFile(folder, name, 'import list', { maxBytes: 8 * 1024 * 1024 });
      const parsed = importsFileSchema.safeParse(text === null ? undefined : JSON.parse(text));
      if (!parsed.success) throw new Error(`${name} is not an import list`);
      for (const d of parsed.data.distributions) found.add(d);
    }
    return [...found].sort();
  } catch (err) {
    warn(
      `Could not read which packages the training imported (${(err as Error).message}); every package change counts.`,
    );
    return undefined;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
