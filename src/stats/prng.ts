/**
 * A small seeded PRNG for simulations (calibration of sequential plans, tests, benchmarks):
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32, 53-bit uniforms, and normals by
 * Box–Muller. Pure and deterministic: the same seed gives the same stream on every platform
 * (only integer arithmetic feeds the uniforms; normals go through Math.log/sqrt/cos/sin, which
 * V8 computes with fdlibm-derived code, so they agree to the last bit in practice).
 */

export interface Rng {
  /** Uniform on [0, 1), 53 random bits. */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** Raw 32-bit output (unsigned). */
  nextUint32(): number;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function createRng(seed: number): Rng {
  if (!Number.isInteger(seed)) throw new RangeError(`createRng: seed must be an integer, got ${seed}`);
  // splitmix32 expands the seed into a non-zero 128-bit state.
  let sm = (seed >>> 0) ^ Math.floor(seed / 4294967296);
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) | 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  const state: [number, number, number, number] = [splitmix(), splitmix(), splitmix(), splitmix()];
  if (state.every((x) => x === 0)) state[0] = 1;
  const next = xoshiro128ss(state);
  const uniform = (): number => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    const u = 1 - uniform(); // (0, 1]: log(u) is finite
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal, nextUint32: next };
}

/**
 * The raw xoshiro128** generator on a 128-bit state of four uint32 words (not all zero); returns
 * next(), which yields unsigned 32-bit outputs. Exposed for the reference-vector test.
 */
export function xoshiro128ss(state: readonly [number, number, number, number]): () => number {
  let [s0, s1, s2, s3] = state.map((x) => x | 0) as [number, number, number, number];
  return (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
}
