import { z } from 'zod';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * `z.record(z.string(), value)` for data whose keys are names from the outside world (file paths,
 * metric names, config keys): every own key is kept and validated, including `__proto__`,
 * `constructor` and `prototype`, which z.record and z.object's catchall silently drop or confuse.
 * The result is built with Object.fromEntries, which defines `__proto__` as an ordinary own key.
 * Use Object.hasOwn (or a Map) to look values up in it.
 */
export function ownRecord<V extends z.ZodType>(value: V) {
  return z
    .custom<Record<string, z.input<V>>>(isPlainObject, { error: 'expected an object' })
    .transform((obj, ctx): Record<string, z.output<V>> => {
      const entries: Array<[string, z.output<V>]> = [];
      for (const [key, item] of Object.entries(obj)) {
        const parsed = value.safeParse(item);
        if (parsed.success) entries.push([key, parsed.data]);
        else
          for (const issue of parsed.error.issues)
            ctx.addIssue({ code: 'custom', message: issue.message, path: [key, ...issue.path], input: item });
      }
      return Object.fromEntries(entries);
    });
}
