#!/usr/bin/python3
"""Independent reference values for extra TOST cases -> test/fixtures/equivalence-extra.json.

Run with the Debian interpreter that has scipy/statsmodels/mpmath (apt-get install python3-scipy
python3-statsmodels python3-mpmath):

    /usr/bin/python3 scripts/gen-equivalence-extra.py > test/fixtures/equivalence-extra.json

statsmodels gives p-values, df and the CI (ttost_ind usevar='unequal' / ttost_paired,
CompareMeans.tconfint_diff / DescrStatsW.tconfint_mean) as the independent cross-check. The
fixture's `expected` is the ground truth: exact rational means and variances of the given doubles
(fractions.Fraction), then p and the CI with mpmath at 50 digits (scipy's t.ppf is off by up to
~5e-9 relative, and numpy's float sums lose digits under a large common offset). Conventions follow test/fixtures/equivalence.json: x1 = candidate,
x2 = baseline, diff = mean(x1) - mean(x2), the verdict is read off the (1 - 2 alpha) CI, and a zero
spread sample pair (max == min on both sides) is 'degenerate' (se -> 0+ limit, CI = [d, d],
df = NaN for Welch, written as null like JSON.stringify does).
"""
import fractions
import json
import math
import sys
import warnings

import mpmath
import numpy as np
import scipy
import statsmodels
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttost_ind, ttost_paired

mpmath.mp.dps = 50

CASES = [
    dict(id="welch_n2_equiv", description="2 seeds each (the smallest Welch TOST), tight runs, +/-0.01",
         x1=[0.9121, 0.9127], x2=[0.9119, 0.9125], low=-0.01, upp=0.01, alpha=0.05, design="welch"),
    dict(id="welch_3v10_unequal_var_inconclusive", description="3 noisy candidate seeds vs 10 quiet baseline seeds (sequential first look shape)",
         x1=[0.905, 0.921, 0.897], x2=[0.9118, 0.913, 0.9125, 0.9109, 0.9122, 0.9131, 0.9116, 0.9127, 0.912, 0.9112],
         low=-0.01, upp=0.01, alpha=0.05, design="welch"),
    dict(id="paired_n6_alpha_0_025", description="paired seeds, alpha 0.025 (a 95% CI), asymmetric bounds",
         x1=[0.4012, 0.3987, 0.4105, 0.4033, 0.3961, 0.4078], x2=[0.4001, 0.3969, 0.4093, 0.4040, 0.3950, 0.4052],
         low=-0.003, upp=0.005, alpha=0.025, design="paired"),
    dict(id="welch_noninferiority_upper_inf", description="one-sided non-inferiority: upper = +inf (direction: higher)",
         x1=[0.781, 0.776, 0.788, 0.779, 0.784], x2=[0.785, 0.79, 0.782, 0.787, 0.791, 0.784],
         low=-0.02, upp=math.inf, alpha=0.05, design="welch"),
    dict(id="welch_large_offset", description="throughput-like values near 1.2e6 with sub-unit noise (cancellation check)",
         x1=[1234567.125, 1234567.5, 1234566.875, 1234567.25, 1234567.0],
         x2=[1234567.375, 1234566.75, 1234567.0, 1234567.625, 1234567.125],
         low=-1.0, upp=1.0, alpha=0.05, design="welch"),
    dict(id="welch_not_equiv_clear", description="a real regression: CI wholly below the lower bound",
         x1=[0.871, 0.874, 0.869, 0.872], x2=[0.912, 0.915, 0.911, 0.913, 0.914],
         low=-0.01, upp=0.01, alpha=0.05, design="welch"),
    dict(id="welch_degenerate_both_constant", description="deterministic training: every seed identical on both sides (policy, not statsmodels)",
         x1=[0.5, 0.5, 0.5], x2=[0.497, 0.497, 0.497], low=-0.005, upp=0.005, alpha=0.05, design="welch"),
]


def num(x):
    """JSON has no inf/nan: write them as JSON.stringify would (null)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def t_cdf(t, df):
    t = mpmath.mpf(t)
    df = mpmath.mpf(df)
    x = df / (df + t * t)
    tail = mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, x, regularized=True) / 2
    return tail if t < 0 else 1 - tail


def t_ppf(p, df):
    p = mpmath.mpf(p)
    guess = mpmath.mpf(scipy.stats.t.ppf(float(p), float(df)))
    return mpmath.findroot(lambda t: t_cdf(t, df) - p, guess, tol=mpmath.mpf(10) ** -45)


def verdict(ci, low, upp):
    lo, hi = ci
    if low < lo and hi < upp:
        return "equivalent"
    if hi <= low or lo >= upp:
        return "not-equivalent"
    return "inconclusive"


def cli_args(c):
    args = ["equivalence", "--candidate", ",".join(repr(v) for v in c["x1"]), "--baseline", ",".join(repr(v) for v in c["x2"])]
    fmt = lambda b: "inf" if b == math.inf else "-inf" if b == -math.inf else repr(b)
    args += [f"--lower={fmt(c['low'])}", f"--upper={fmt(c['upp'])}", "--alpha", repr(c["alpha"])]
    if c["design"] == "paired":
        args.append("--paired")
    return args + ["--json"]


def one(c):
    x1 = np.array(c["x1"], dtype=float)
    x2 = np.array(c["x2"], dtype=float)
    low, upp, alpha = c["low"], c["upp"], c["alpha"]
    paired = c["design"] == "paired"
    sm = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if paired:
            p, lo_res, up_res = ttost_paired(x1, x2, low, upp)
            ci = DescrStatsW(x1 - x2).tconfint_mean(alpha=2 * alpha)
            sm["call"] = "ttost_paired(x1, x2, low, upp); DescrStatsW(x1 - x2).tconfint_mean(alpha=2*alpha)"
        else:
            p, lo_res, up_res = ttost_ind(x1, x2, low, upp, usevar="unequal")
            ci = CompareMeans.from_data(x1, x2).tconfint_diff(alpha=2 * alpha, usevar="unequal")
            sm["call"] = "ttost_ind(x1, x2, low, upp, usevar='unequal'); CompareMeans.from_data(x1, x2).tconfint_diff(alpha=2*alpha, usevar='unequal')"
    sm.update(pvalue=num(p), t_lower=num(lo_res[0]), p_lower=num(lo_res[1]), t_upper=num(up_res[0]), p_upper=num(up_res[1]),
              df=num(lo_res[2]), ci_low=num(ci[0]), ci_high=num(ci[1]), warnings=[str(w.message) for w in caught])

    # Ground truth: exact rational mean/variance of the given doubles (fractions), then mpmath.
    F = fractions.Fraction
    def mean_var(xs):
        fx = [F(v) for v in xs]
        m = sum(fx) / len(fx)
        return m, sum((v - m) ** 2 for v in fx) / (len(fx) - 1)
    if paired:
        dm, dv = mean_var([a - b for a, b in zip(map(F, c["x1"]), map(F, c["x2"]))])
        diff_q = dm
        se = float(mpmath.sqrt(mpmath.mpf(dv.numerator) / dv.denominator / len(x1)))
        df = float(len(x1) - 1)
        constant = dv == 0
    else:
        m1, v1 = mean_var(c["x1"])
        m2, v2 = mean_var(c["x2"])
        diff_q = m1 - m2
        a1, a2 = v1 / len(x1), v2 / len(x2)
        se = float(mpmath.sqrt(mpmath.mpf(a1.numerator) / a1.denominator + mpmath.mpf(a2.numerator) / a2.denominator))
        constant = v1 == 0 and v2 == 0
        df = float(mpmath.mpf(((a1 + a2) ** 2).numerator) / ((a1 + a2) ** 2).denominator
                   / (mpmath.mpf((a1 ** 2 / (len(x1) - 1) + a2 ** 2 / (len(x2) - 1)).numerator) / (a1 ** 2 / (len(x1) - 1) + a2 ** 2 / (len(x2) - 1)).denominator)) if not constant else math.nan
    diff = float(diff_q)
    if constant:
        se = 0.0  # max == min: the spread is exactly 0 (numpy's var can leave ~1e-33 of round-off)
        p_lower = 0.0 if diff > low else 1.0
        p_upper = 0.0 if diff < upp else 1.0
        ci_ref = [diff, diff]
    else:
        d_mp = mpmath.mpf(diff_q.numerator) / diff_q.denominator
        se_mp = mpmath.mpf(se)
        p_lower = 0.0 if low == -math.inf else float(1 - t_cdf((d_mp - mpmath.mpf(low)) / se_mp, df))
        p_upper = 0.0 if upp == math.inf else float(t_cdf((d_mp - mpmath.mpf(upp)) / se_mp, df))
        tc = t_ppf(1 - mpmath.mpf(alpha), df)
        ci_ref = [float(d_mp - tc * se_mp), float(d_mp + tc * se_mp)]
    expected = dict(pLower=p_lower, pUpper=p_upper, p=max(p_lower, p_upper), df=num(df), se=se, ci=ci_ref, ciLevel=1 - 2 * alpha,
                    verdict=verdict(ci_ref, low, upp), degenerate=bool(constant), diff=diff,
                    lower=num(low), upper=num(upp), alpha=alpha, design="paired" if paired else "welch")
    return dict(id=c["id"], description=c["description"], design=c["design"],
                inputs=dict(x1=c["x1"], x2=c["x2"], low=num(low), upp=num(upp), alpha=alpha),
                argv=cli_args(c), exitCode=0 if expected["verdict"] == "equivalent" else 1,
                expected=expected, statsmodels=sm)


def main():
    out = dict(
        schema="repro-gate/stats-vectors-extra/v1",
        generator=dict(command="/usr/bin/python3 scripts/gen-equivalence-extra.py > test/fixtures/equivalence-extra.json",
                       python=sys.version.split()[0], numpy=np.__version__, scipy=scipy.__version__,
                       statsmodels=statsmodels.__version__, mpmath=mpmath.__version__),
        conventions=dict(
            x1="candidate runs", x2="baseline runs", diff="mean(x1) - mean(x2) (paired: mean(x1 - x2))",
            expected="what `repro-gate <argv>` prints as JSON: p-values, df and the CI recomputed with mpmath (50 digits) from the textbook se/df; "
                     "statsmodels.* is the independent cross-check (agrees to ~1e-8; on degenerate cases it returns round-off artefacts or NaN, and expected holds the se->0+ policy instead)",
            non_finite="null (as JSON.stringify writes NaN and +-Infinity); low/upp null = unbounded on that side",
            tolerance="1e-5 relative for p-values, df, se and CI ends; exact for verdict, degenerate, design",
            exitCode="0 when equivalent, 1 otherwise",
        ),
        cases=[one(c) for c in CASES],
    )
    json.dump(out, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
