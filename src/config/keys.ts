/**
 * The keys repro-gate.yml knows at each place, read from the zod schema itself (so a new setting
 * gets its "did you mean" without a second list to keep in step), and the nearest one to a typo.
 */
import type { z } from 'zod';

type Def = z.core.$ZodTypeDef & Record<string, unknown>;

function defOf(schema: z.core.$ZodType): Def {
  return schema._zod.def as Def;
}

/** The schemas a value at this place is validated by, looking through optional, default, pipes, unions, … */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return unwrap(def.innerType as z.core.$ZodType);
    case 'pipe':
      return unwrap(def.in as z.core.$ZodType);
    case 'union':
      return (def.options as z.core.$ZodType[]).flatMap(unwrap);
    default:
      return [schema];
  }
}

/** The schemas of the value at `key` inside a value validated by `schema`. */
function child(schema: z.core.$ZodType, key: string): z.core.$ZodType[] {
  const def = defOf(schema);
  if (def.type === 'object') {
    const shape = def.shape as Record<string, z.core.$ZodType>;
    if (Object.hasOwn(shape, key)) return unwrap(shape[key] as z.core.$ZodType);
    const catchall = def.catchall as z.core.$ZodType | undefined;
    return catchall && defOf(catchall).type !== 'never' ? unwrap(catchall) : [];
  }
  if (def.type === 'array') return /^\d+$/.test(key) ? unwrap(def.element as z.core.$ZodType) : [];
  if (def.type === 'record') return unwrap(def.valueType as z.core.$ZodType);
  return [];
}

function objectsAt(schema: z.core.$ZodType, keyPath: readonly string[]): z.core.$ZodType[] {
  let here = unwrap(schema);
  for (const key of keyPath) here = here.flatMap((s) => child(s, key));
  return here.filter((s) => defOf(s).type === 'object');
}

export interface KeysAt {
  /** The keys named in the schema at this place (its objects' shapes). */
  known: string[];
  /** Any other key is allowed too (a catchall, such as metric names under metrics:). */
  open: boolean;
  /** The schema of a known key's value, to test whether a value fits it. */
  schemaOf: (key: string) => z.core.$ZodType | undefined;
}

/** What is known about keys of the mapping at `keyPath` in a value validated by `schema`. */
export function keysAt(schema: z.core.$ZodType, keyPath: readonly string[]): KeysAt {
  const objects = objectsAt(schema, keyPath);
  const shapes = objects.map((o) => defOf(o).shape as Record<string, z.core.$ZodType>);
  return {
    known: [...new Set(shapes.flatMap((s) => Object.keys(s)))],
    open: objects.some((o) => {
      const catchall = defOf(o).catchall as z.core.$ZodType | undefined;
      return catchall !== undefined && defOf(catchall).type !== 'never';
    }),
    schemaOf: (key) => shapes.find((s) => Object.hasOwn(s, key))?.[key],
  };
}

/** The known key within edit distance 2, for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Levenshtein distance over UTF-16 code units, one row of the table at a time. */
function editDistance(a: string, b: string): number {
  // prev[j]: the distance from the first i characters of a to the first j of b.
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let distance = b.length;
  for (const [i, ca] of a.split('').entries()) {
    let diag = i; // prev[j − 1]
    let left = i + 1; // cur[j − 1]
    const cur = [left];
    for (const [k, up] of prev.slice(1).entries()) {
      left = Math.min(up + 1, left + 1, diag + (ca === b[k] ? 0 : 1));
      diag = up;
      cur.push(left);
    }
    prev = cur;
    distance = left;
  }
  return distance;
}
