"""Independent high-precision BG/NBD expectations (mpmath) for the numerics tests; test-only, never imported by metrics/."""

import mpmath as mp


def expected_if_alive_reference(r, alpha, a, b, t, x=0, T=0.0, dps=50) -> float:
    """E[Y(t) | x, T, alive] from FHL eq. 9/10 evaluated literally with 50-digit arithmetic.

    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]; with x = 0, T = 0 this
    is E[X(t)] (eq. 9). The bracket is O(t), so the working precision grows by the digits of t/(α+T) below 1.
    At a = 1 exactly eq. 9 is 0/0: there the equal limit (r+x)·s·3F2(r+x+1, 1, 1; 1+b+x, 2; −s),
    s = t/(α+T), is used (term-by-term Pfaff transform of eq. 10 with the (a−1) factor divided out).
    """
    if t == 0:
        return 0.0
    dps += max(0, int(-mp.log10(mp.mpf(float(t)) / (float(alpha) + float(T)))))
    with mp.workdps(dps):
        r, alpha, a, b, t, T = (mp.mpf(float(v)) for v in (r, alpha, a, b, t, T))
        big_r, big_alpha, big_b = r + x, alpha + T, b + x
        c = a + big_b - 1
        if a == 1:
            s = t / big_alpha
            return float(big_r * s * mp.hyp3f2(big_r + 1, a, 1, a + big_b, 2, -s))
        z = t / (big_alpha + t)
        return float(c / (a - 1) * (1 - (big_alpha / (big_alpha + t)) ** big_r * mp.hyp2f1(big_r, big_b, c, z)))


def expected_if_alive_by_integration(r, alpha, a, b, t, x=0, T=0.0, dps=30) -> float:
    """The same expectation from the model itself: E_p[(1 − (1 + p·s)^−(r+x)) / p], p ~ Beta(a, b+x), s = t/(α+T).

    Given λ and p a customer alive at T makes (1 − e^(−λpt))/p further purchases in expectation; λ ~ Gamma(r+x, α+T)
    gives E_λ[e^(−λpt)] = (1 + p·s)^−(r+x); p is integrated numerically (tanh-sinh) after p = u^(1/a) on [0, 1/2]
    and 1 − p = v^(1/(b+x)) on [1/2, 1], which absorb the Beta density's endpoint powers, split at p = 10^k/s.
    """
    with mp.workdps(dps):
        r, alpha, a, b, t, T = (mp.mpf(float(v)) for v in (r, alpha, a, b, t, T))
        big_r, big_b = r + x, b + x
        s = t / (alpha + T)
        half = mp.mpf(1) / 2

        def gain(p):
            return -mp.expm1(-big_r * mp.log1p(p * s)) / p if p > 0 else big_r * s

        def left(u):  # p = u^(1/a): p^(a−1) dp = du / a
            p = u ** (1 / a)
            return gain(p) * mp.exp((big_b - 1) * mp.log1p(-p)) / a

        def right(v):  # 1 − p = v^(1/B): (1−p)^(B−1) dp = −dv / B
            p = 1 - v ** (1 / big_b)
            return gain(p) * mp.exp((a - 1) * mp.log(p)) / big_b

        cuts = [mp.mpf(10) ** k / s for k in range(-2, 30) if s > 0 and mp.mpf(10) ** k / s < half]
        total = mp.quad(left, [0, *(c**a for c in cuts), half**a]) + mp.quad(right, [0, half**big_b])
        return float(total / mp.beta(a, big_b))
