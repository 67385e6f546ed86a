/**
 * Student-t distribution: CDF, survival function and quantile, accurate to ~1e-14 relative.
 *
 * Why not jstat: its ibeta stops at 3e-7 relative, its gammaln is a 6-term Lanczos (~1e-10),
 * and studentt.cdf returns NaN at t = ±∞ and huge df. Everything here is computed on the small
 * tail directly (never 1 - big), so tiny p-values keep full relative precision.
 *
 * Tail identity: P(T > |t|) = ½·I_x(ν/2, ½) with x = ν/(ν+t²), 1-x = t²/(ν+t²).
 */

const EPS = 2.220446049250313e-16;
const TINY = 1e-300;
const MAX_ITER = 100_000;

/** S(a) = Γ(a+½) / (Γ(a)·√a). Large-a series avoids cancelling lgamma(a+½) - lgamma(a) (~a·log a). */
function gammaRatioHalf(a: number): number {
  if (a >= 20) {
    // log S(a) = Σ (B_{n+1}(½) - B_{n+1}) / (n(n+1) aⁿ); error < 1e-17 for a ≥ 20.
    const i = 1 / a;
    const i2 = i * i;
    return Math.exp(i * (-1 / 8 + i2 * (1 / 192 + i2 * (-1 / 640 + i2 * (17 / 14336 - i2 * (31 / 18432))))));
  }
  // Shift up: R(a) = Γ(a+½)/Γ(a) satisfies R(a) = R(a+1)·a/(a+½).
  const n = Math.ceil(20 - a);
  let prod = 1;
  for (let k = 0; k < n; k++) prod *= (a + k) / (a + k + 0.5);
  return gammaRatioHalf(a + n) * Math.sqrt((a + n) / a) * prod;
}

/** Continued fraction for I_x(a, b) (modified Lentz); I = x^a (1-x)^b / (a·B(a,b)) · betacf. */
function betacf(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return h;
  }
  throw new Error(`t distribution: continued fraction did not converge (a=${a}, b=${b}, x=${x})`);
}

/**
 * Q(½, z)·√π/(e^{-z}√z) and P(½, z) for z ≥ 0 (incomplete gamma at a = ½; Q(½, s²/2) = 2·P(Z > s)).
 * Returned scaled so callers can fold e^{-z} into their own prefactor without underflow.
 */
function gammaHalf(z: number): { qScaled: number; p: number } {
  if (z < 1.5) {
    // P(½, z) = e^{-z}√z/Γ(3/2) · Σ zⁿ/((3/2)(5/2)…(n+½)); positive terms, no cancellation.
    let term = 1;
    let sum = 1;
    for (let ap = 1.5; term > sum * EPS; ap++) {
      term *= z / ap;
      sum += term;
    }
    const p = (2 * Math.exp(-z + 0.5 * Math.log(z)) * sum) / Math.sqrt(Math.PI);
    return { qScaled: ((1 - p) * Math.sqrt(Math.PI)) / Math.exp(-z + 0.5 * Math.log(z)), p };
  }
  // Legendre continued fraction for Q(½, z), modified Lentz.
  let b = z + 0.5;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITER; i++) {
    const an = -i * (i - 0.5);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return { qScaled: h, p: NaN };
  }
  throw new Error(`normal tail: continued fraction did not converge (z=${z})`);
}

/** Normal tails [P(Z > s), P(Z <= s)], s ≥ 0. */
function normalTails(s: number): [number, number] {
  const z = (s * s) / 2;
  if (z > 800) return [0, 1]; // below the smallest double
  const g = gammaHalf(z);
  if (z < 1.5) return [0.5 * (1 - g.p), 0.5 * (1 + g.p)];
  const small = (0.5 * Math.exp(-z + 0.5 * Math.log(z)) * g.qScaled) / Math.sqrt(Math.PI);
  return [small, 1 - small];
}

// (2k+1)! for the BGRAT coefficients.
const ODD_FACT: number[] = [1];
for (let k = 1; k < 40; k++) ODD_FACT.push(ODD_FACT[k - 1]! * (2 * k) * (2 * k + 1));

/**
 * I_x(a, ½) for large a by DiDonato & Morris' BGRAT expansion (ACM TOMS 708, eq. 9), with
 * ln x = log1p(-y). The Lentz continued fraction needs x itself, which cannot represent
 * 1 - y to better than eps/y: at df = 1e8 that costs 1e-8 relative. BGRAT only sees y.
 */
function ibetaLargeA(a: number, y: number): number {
  const b = 0.5;
  const T = a + (b - 1) / 2;
  const lx = Math.log1p(-y);
  const u = -T * lx;
  // prefix = u^b e^{-u}/Γ(b) · Γ(a+b)/Γ(a) / T^b
  const prefix = (Math.exp(-u + b * Math.log(u)) / Math.sqrt(Math.PI)) * gammaRatioHalf(a) * Math.sqrt(a / T);
  if (prefix === 0) return 0;
  let j = gammaHalf(u).qScaled; // J₀ = Q(b, u)/h
  const p: number[] = [1];
  let sum = j;
  const lx2 = (lx / 2) * (lx / 2);
  let lxp = 1;
  const t4 = 4 * T * T;
  let b2n = b;
  for (let n = 1; n < 30; n++) {
    let pn = 0;
    for (let m = 1; m < n; m++) pn += ((m * b - n) * p[n - m]!) / ODD_FACT[m]!;
    pn = pn / n + (b - 1) / ODD_FACT[n]!;
    p.push(pn);
    j = (b2n * (b2n + 1) * j + (u + b2n + 1) * lxp) / t4;
    lxp *= lx2;
    b2n += 2;
    const r = pn * j;
    sum += r;
    if (Math.abs(r) <= EPS * Math.abs(sum)) break;
  }
  return prefix * sum;
}

/** [P(T > s), P(T <= s)] for s ≥ 0, each computed without cancellation where it is the small one. */
function tails(s: number, df: number): [number, number] {
  if (s === 0) return [0.5, 0.5];
  if (s === Infinity) return [0, 1];
  // Beyond 1e25 the t and normal tails agree to < 1e-16 wherever P > 1e-300 (error ~ t⁴/ν).
  if (df > 1e25) return normalTails(s);
  const a = df / 2;
  const lr = ratioLogs(s, df);
  if (lr.y === 0) return [0.5, 0.5]; // t²/ν underflowed: P(0 < T < t) is far below 1e-16
  if (a >= 15 && lr.y < 0.3) {
    const small = 0.5 * ibetaLargeA(a, lr.y);
    return [small, 1 - small];
  }
  if (lr.y > 1.5 / (a + 2.5)) {
    // Small tail directly: ½·I_x(a, ½).
    const small = ((0.5 * prefactor(a, lr)) / a) * betacf(a, 0.5, lr.x);
    return [small, 1 - small];
  }
  const central = 2 * prefactor(a, lr) * betacf(0.5, a, lr.y); // I_y(½, a) = P(|T| <= s)
  return [0.5 * (1 - central), 0.5 * (1 + central)];
}

interface RatioLogs {
  x: number; // ν/(ν+t²)
  y: number; // t²/(ν+t²), computed directly, never as 1 - x
  logX: number;
  logY: number;
}

/** x, y and their logs from r² = t²/ν, via logs so that huge t or tiny ν cannot overflow. */
function ratioLogs(s: number, df: number): RatioLogs {
  const logR2 = 2 * Math.log(s) - Math.log(df);
  if (logR2 > 0) {
    const inv = Math.exp(-logR2); // ν/t² < 1
    return { x: inv / (1 + inv), y: 1 / (1 + inv), logX: -(logR2 + Math.log1p(inv)), logY: -Math.log1p(inv) };
  }
  const r2 = (s * s) / df;
  return { x: 1 / (1 + r2), y: r2 / (1 + r2), logX: -Math.log1p(r2), logY: logR2 - Math.log1p(r2) };
}

/** x^a (1-x)^½ / B(a, ½), with 1/B(a,½) = Γ(a+½)/(Γ(a)√π) = S(a)·√a/√π. */
function prefactor(a: number, lr: RatioLogs): number {
  return Math.exp(a * lr.logX + 0.5 * lr.logY) * gammaRatioHalf(a) * Math.sqrt(a / Math.PI);
}

function checkDf(df: number): void {
  if (Number.isNaN(df) || !(df > 0)) throw new RangeError(`t distribution: df must be > 0, got ${df}`);
}

function checkT(t: number): void {
  if (Number.isNaN(t)) throw new RangeError('t distribution: t is NaN');
}

/** P(T <= t) for T ~ Student-t(df); df may be fractional or Infinity (standard normal). */
export function tCdf(t: number, df: number): number {
  checkT(t);
  checkDf(df);
  const [small, big] = tails(Math.abs(t), df);
  return t < 0 ? small : big;
}

/** P(T >= t) (survival function), accurate for tiny upper tails. */
export function tSf(t: number, df: number): number {
  checkT(t);
  checkDf(df);
  const [small, big] = tails(Math.abs(t), df);
  return t > 0 ? small : big;
}

/** Density, used for Newton steps. */
function tPdf(s: number, df: number): number {
  if (df > 1e25) return Math.exp(-0.5 * s * s) / Math.sqrt(2 * Math.PI);
  const a = df / 2;
  // (1 + t²/ν)^{-(a+½)} = x^{a+½}
  return gammaRatioHalf(a) * Math.sqrt(a / (Math.PI * df)) * Math.exp((a + 0.5) * ratioLogs(s, df).logX);
}

/**
 * Quantile: t with P(T <= t) = p. Solves f(u) = log P(T > e^u) - log q = 0 (q = min(p, 1-p)) by
 * Newton in u = log s: the tail is nearly a power law in s, so steps are near-exact there, and
 * f is concave, so Newton approaches from above. A bracket with log-space bisection guards it.
 */
export function tQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`t distribution: p must be in (0, 1), got ${p}`);
  if (p === 0.5) return 0;
  const q = Math.min(p, 1 - p); // 1 - p is exact for p ≥ ½
  const sign = p < 0.5 ? -1 : 1;
  // Heavy tails (df < ~1) can put the quantile beyond the largest double.
  if (tails(Number.MAX_VALUE, df)[0] > q) return sign * Infinity;
  const logQ = Math.log(q);
  let s = initialGuess(q, df);
  let lo = 0;
  let hi = Infinity;
  for (let it = 0; it < 200; it++) {
    const small = tails(s, df)[0];
    const f = Math.log(small) - logQ;
    if (f === 0) break;
    if (f > 0) lo = s;
    else hi = s;
    const slope = (-s * tPdf(s, df)) / small; // df/du
    let next = s * Math.exp(-f / slope);
    if (!(next > lo && next < hi)) {
      // Newton left the bracket: expand or bisect in log space.
      if (hi === Infinity) next = Math.min(s * 1e8, Number.MAX_VALUE);
      else if (lo === 0) next = hi * 1e-8;
      else next = lo > 1e-300 ? Math.sqrt(lo) * Math.sqrt(hi) : (lo + hi) / 2;
    }
    if (Math.abs(next - s) <= 2 * EPS * s) return sign * next;
    s = next;
  }
  return sign * s;
}

/** Starting point for the Newton iteration (only affects the number of steps). */
function initialGuess(q: number, df: number): number {
  // P(0 < T < s) <= s·pdf(0), so this is a lower bound; it is exact as q → ½.
  const sCenter = (0.5 - q) / tPdf(0, df);
  const z = Math.max(normalQuantileUpper(q), 0);
  let guess = Math.max(sCenter, z + (z * z * z + z) / (4 * df)); // first Cornish-Fisher term
  if (df < Infinity) {
    // Power-law tail: ½·x^a/(a·B(a,½)) ≈ q → x, then s = √(ν(1-x)/x).
    const a = df / 2;
    const logX = (Math.log(2 * q * a) - Math.log(gammaRatioHalf(a) * Math.sqrt(a / Math.PI))) / a;
    if (logX < 0) guess = Math.max(guess, Math.sqrt(df * Math.expm1(-logX)));
  }
  return Number.isFinite(guess) && guess > 0 ? guess : 1;
}

/** Rough upper normal quantile, z with P(Z > z) ≈ q < ½ (A&S 26.2.23, |error| < 4.5e-4). */
function normalQuantileUpper(q: number): number {
  const t = Math.sqrt(-2 * Math.log(q));
  return (
    t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
  );
}
