import CTitansKernels

/// Which loops a float32 kernel with a C version runs: the C one compiled for AVX2 and FMA (`CTitansKernels`), or
/// the portable Swift one beside it, its reference in the tests.
public enum CPUKernel: Sendable {
    case avx2FMA, portable

    /// The AVX2 and FMA kernels where this CPU runs them, the portable ones elsewhere.
    public static let fastest: CPUKernel = titans_has_avx2_fma() ? .avx2FMA : .portable
}
