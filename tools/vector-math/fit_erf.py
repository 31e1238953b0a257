"""Fits the coefficients of VectorMath.erf (Sources/TitansTensor/Backend/VectorMath.swift, and its AVX2 copy in
Sources/CTitansKernels/VectorMathAVX2.c) and prints them, rounded to float32, with the relative error of each fit.

    python3 tools/vector-math/fit_erf.py      # needs numpy; the Swift package never runs it

erf(a) for a = |x| in two forms, both polynomials in a variable on which the function is smooth:
  below SPLIT:  erf(a) / a            = P(a²),         P of degree 6
  SPLIT to 4:   e^(a²) · erfc(a)      = R(1 / (1 + a)), R of degree 7
Each is a weighted least-squares fit at Chebyshev nodes, reweighted (Lawson's iteration) towards the least largest
relative error. From 4 on, erf is 1 in float32 (erfc(4) = 1.5e-8 is below half an ulp of 1).
"""
import math

import numpy as np

SPLIT = 0.921875
NODES = 4000


def fit(function, lower, upper, degree, variable):
    a = (lower + upper) / 2 + (upper - lower) / 2 * np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)
    target = np.array([function(v) for v in a])
    weight = 1 / np.abs(target)
    powers = np.vander(variable(a), degree + 1, increasing=True)
    lawson = np.full(NODES, 1 / NODES)
    for _ in range(60):
        w = weight * np.sqrt(lawson)
        coefficients, *_ = np.linalg.lstsq(powers * w[:, None], target * w, rcond=None)
        error = np.abs(powers @ coefficients - target) * weight
        lawson = lawson * error
        lawson /= lawson.sum()
    return coefficients, error.max()


def main():
    small, small_error = fit(lambda a: math.erf(a) / a, 1e-9, SPLIT, 6, lambda a: a * a)
    large, large_error = fit(lambda a: math.erfc(a) * math.exp(a * a), SPLIT, 4.0, 7, lambda a: 1 / (1 + a))
    for name, coefficients, error in (("P(a²)", small, small_error), ("R(1/(1+a))", large, large_error)):
        # Highest power first, the order Horner's rule takes them in.
        listed = ", ".join("%.9g" % np.float32(c) for c in coefficients[::-1])
        print(f"{name}: {listed}   (largest relative error {error:.2g})")


if __name__ == "__main__":
    main()
