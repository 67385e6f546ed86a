/**
 * A data entry's full per-file manifest, stored outside the baseline by its root
 * (`.repro-gate/manifests/<root>.json.gz`): the (path, size, sha256) list the root was computed over.
 */
import { z } from 'zod';

export const MANIFEST_FORMAT = 1;

export const manifestSchema = z
  .object({
    'repro-gate-manifest': z.literal(MANIFEST_FORMAT),
    /** The entry's key in the baseline's `summaries`. */
    entry: z.string(),
    /** Sorted by path bytes; the root is computed over exactly this order. */
    files: z.array(z.tuple([z.string(), z.number().int().nonnegative(), z.string().regex(/^[0-9a-f]{64}$/)])),
  })
  .strict();
