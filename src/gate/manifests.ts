/**
 * Large data entries in the baseline: `record` keeps their roots and stores their per-file manifests
 * by root (baseline/merkle.ts, manifest-store.ts); drift restores a manifest to name changed files,
 * or names changed folders from the roots when the manifest is not there.
 */
import path from 'node:path';
import {
  decodeManifest,
  encodeManifest,
  groupFiles,
  type ManifestFile,
  manifestRoot,
  summariseLarge,
  summarize,
} from '../baseline/merkle.js';
import { diffFolders } from '../drift/data.js';
import { resolveEntry } from '../fingerprint/paths.js';
import type { DataFingerprint, FileEntry } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { DataDrift } from '../schema/report.js';
import { toPosix } from '../util/paths.js';
import type { Session } from './session.js';

/** The data: entries as prefixes of manifest keys (what fingerprint/data.ts keys their files by). */
function entryPrefixes(config: GateConfig): string[] {
  return config.dataEntries.map((d) =>
    d.external ? toPosix(path.resolve(d.path)) : resolveEntry(config.root, d.path, 'data').rel,
  );
}

/** What the manifests need of a session (aggregate has no session, only these). */
export type ManifestView = Pick<Session, 'config' | 'manifests' | 'log'>;

/** The baseline's form of `data`: large entries as roots, their manifests written to the store. */
export async function summariseForBaseline(s: ManifestView, data: DataFingerprint): Promise<DataFingerprint> {
  const { data: out, manifests } = summariseLarge(data, entryPrefixes(s.config));
  const store = s.manifests;
  for (const m of manifests) await store.put(m.root, encodeManifest(m.entry, m.files));
  return out;
}

/**
 * The baseline's data with every summarised entry whose manifest is in the store listed file by
 * file again (`before`), `now` without the files of the entries that stay summarised, and the
 * folder-level drift of those. A manifest that is corrupt or does not hash to its root is not used.
 */
export async function expandBaselineData(
  s: ManifestView,
  baseline: DataFingerprint,
  now: DataFingerprint,
): Promise<{ before: DataFingerprint; now: DataFingerprint; folders: DataDrift[] }> {
  const summaries = Object.entries(baseline.summaries ?? {});
  if (!summaries.length) return { before: baseline, now, folders: [] };
  const store = s.manifests;
  const prefixes = [...new Set([...entryPrefixes(s.config), ...summaries.map(([p]) => p)])];
  const nowGroups = groupFiles(now.files, prefixes);
  const restored: Array<[string, FileEntry]> = [];
  const unresolved = new Set<string>();
  const folders: DataDrift[] = [];
  const restore = (list: readonly ManifestFile[]) => {
    for (const [p, size, sha256] of list) restored.push([p, { sha256, size }]);
  };
  for (const [prefix, summary] of summaries) {
    const files: ManifestFile[] = nowGroups.get(prefix) ?? [];
    if (manifestRoot(files) === summary.root) {
      // Unchanged (the common case): the list now is the baseline's, no manifest needs reading.
      // Stored if missing, so a later change can be named file by file.
      if (!(await store.has(summary.root))) await store.put(summary.root, encodeManifest(prefix, files));
      restore(files);
      continue;
    }
    const bytes = await store.get(summary.root);
    const decoded = bytes && decodeManifest(bytes, summary.root);
    if (decoded && 'files' in decoded) {
      restore(decoded.files);
      continue;
    }
    const where = store.where(summary.root);
    if (decoded) s.log.warn(`The data manifest ${where} ${decoded.problem}; it is not used.`);
    unresolved.add(prefix);
    const changed = diffFolders(prefix, summary, summarize(prefix, files, summary.depth));
    folders.push(...changed);
    s.log.warn(
      `Data entry ${prefix || '.'}: the baseline lists it by folder roots and its per-file manifest (${where}) is not here${decoded ? ' in a usable form' : ''}, so drift names ${changed.length} changed folder(s), not files. For file-level detail, restore the manifest (the example workflows keep .repro-gate/manifests/ with actions/cache, keyed by the baseline file), or check out the baseline's commit with its data and run \`repro-gate drift\` there once: it stores the manifest.`,
    );
  }
  const hidden = new Set([...unresolved].flatMap((u) => (nowGroups.get(u) ?? []).map((f) => f[0])));
  const keepNow = hidden.size ? Object.entries(now.files).filter(([p]) => !hidden.has(p)) : undefined;
  const before = { ...baseline, files: Object.fromEntries([...Object.entries(baseline.files), ...restored]) };
  delete before.summaries;
  return { before, now: keepNow ? { ...now, files: Object.fromEntries(keepNow) } : now, folders };
}
