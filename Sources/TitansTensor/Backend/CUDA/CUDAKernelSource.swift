/// The CUDA C++ source of every kernel ``CUDABackend`` launches, compiled at first use by NVRTC (``NVRTC``). One
/// source, each kernel instantiated for float (`_f32`) and double (`_f64`); every function mirrors the CPU kernel of
/// the same name (``ElementFunctions``, `CPUBackend+Lines.swift`), which the self-test holds it to.
///
/// Elementwise kernels walk a ``CUDALayout``: up to 8 dimensions with the strides (in elements) and offset of each of
/// up to 4 operands, operand 0 the output, passed by value as 8-byte integers. Line kernels (reductions, scans,
/// softmax, gathers) take contiguous `[outer, length, inner]` views, one thread per line.
enum CUDAKernelSource {
    /// Kernel names, without the dtype suffix.
    static let kernels = ["unary", "binary", "select_values", "multiply_add", "reduce", "argmax", "cumulative_sum",
                          "linear_scan", "softmax", "normalize_rows", "rotate_halves",
                          "index_select", "index_add", "take_values", "put_values"]

    /// Codes of the unary functions, as the kernel's `unary_value` reads them.
    static func code(_ f: UnaryFunction) -> (op: Int64, p0: Double, p1: Double) {
        switch f {
        case .negate: return (0, 0, 0)
        case .exp: return (1, 0, 0)
        case .log: return (2, 0, 0)
        case .sqrt: return (3, 0, 0)
        case .rsqrt: return (4, 0, 0)
        case .abs: return (5, 0, 0)
        case .tanh: return (6, 0, 0)
        case .sigmoid: return (7, 0, 0)
        case .silu: return (8, 0, 0)
        case .gelu: return (9, 0, 0)
        case .relu: return (10, 0, 0)
        case .softplus: return (11, 0, 0)
        case .erf: return (12, 0, 0)
        case .sign: return (13, 0, 0)
        case let .affine(scale, shift): return (14, scale, shift)
        case let .power(p):
            // As the CPU: squares, integer powers by repeated multiplication, real powers through pow.
            if p == 2 { return (15, 0, 0) }
            if p == p.rounded(), Swift.abs(p) <= 0x1p31 { return (16, p, 0) }
            return (17, p, 0)
        case let .clamp(lower, upper): return (18, lower, upper)
        }
    }

    /// The identity, for copies (a unary op code no ``UnaryFunction`` takes).
    static let identity: Int64 = 19

    /// Codes of the binary functions, as `binary_value` reads them.
    static func code(_ f: BinaryFunction) -> Int64 {
        switch f {
        case .add: return 0
        case .subtract: return 1
        case .multiply: return 2
        case .divide: return 3
        case .pow: return 4
        case .maximum: return 5
        case .minimum: return 6
        case .equal: return 7
        case .notEqual: return 8
        case .less: return 9
        case .lessOrEqual: return 10
        case .greater: return 11
        case .greaterOrEqual: return 12
        }
    }

    static func code(_ r: Reduction) -> Int64 { r == .sum ? 0 : 1 }

    static let source = #"""
    typedef long long i64;
    #define MAX_DIMS 8
    #define MAX_OPERANDS 4

    // The walk of an elementwise kernel (CUDALayout in Swift): sizes, then per operand its strides, then the offsets.
    struct Layout {
        i64 rank;
        i64 size[MAX_DIMS];
        i64 stride[MAX_OPERANDS][MAX_DIMS];
        i64 offset[MAX_OPERANDS];
    };

    __device__ __forceinline__ void locate(const Layout& L, i64 i, int operands, i64* at) {
        for (int o = 0; o < operands; ++o) at[o] = L.offset[o];
        for (int d = (int)L.rank - 1; d >= 0; --d) {
            i64 s = L.size[d], index = i % s;
            i /= s;
            for (int o = 0; o < operands; ++o) at[o] += index * L.stride[o][d];
        }
    }

    // Swift.max and Swift.min, NaN cases included, so results match the CPU's.
    template <typename T> __device__ __forceinline__ T swift_max(T a, T b) { return b >= a ? b : a; }
    template <typename T> __device__ __forceinline__ T swift_min(T a, T b) { return b < a ? b : a; }

    // +∞ in T (NVRTC has no INFINITY macro).
    template <typename T> __device__ __forceinline__ T positive_infinity() {
        return T(__longlong_as_double(0x7ff0000000000000LL));
    }

    // The body of an elementwise kernel: `statement` for every element, `at` holding each of `n` operands' index.
    #define FOR_EACH_ELEMENT(n, statement)                                                                            \
        i64 at[n];                                                                                                    \
        for (i64 i = first_index(); i < count; i += grid_stride()) {                                                  \
            locate(L, i, n, at);                                                                                      \
            statement;                                                                                                \
        }

    __device__ __forceinline__ i64 first_index() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
    __device__ __forceinline__ i64 grid_stride() { return (i64)gridDim.x * blockDim.x; }

    // x^n by repeated squaring, 1/x^|n| for n < 0, x^0 = 1 (ElementFunctions.IntegerPower).
    template <typename T> __device__ T integer_power(T x, i64 n) {
        unsigned long long m = n < 0 ? (unsigned long long)(-n) : (unsigned long long)n;
        T r = 1;
        while (m) {
            if (m & 1ull) r *= x;
            x *= x;
            m >>= 1;
        }
        return n < 0 ? T(1) / r : r;
    }

    // 1 / (1 + e^-x) without overflow for large |x| (ElementFunctions.Sigmoid).
    template <typename T> __device__ T sigmoid_value(T x) {
        T e = exp(-fabs(x));
        return x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    }

    template <typename T> __device__ T unary_value(i64 op, T x, double p0, double p1) {
        switch (op) {
        case 0: return -x;
        case 1: return exp(x);
        case 2: return log(x);
        case 3: return sqrt(x);
        case 4: return T(1) / sqrt(x);
        case 5: return fabs(x);
        case 6: return tanh(x);
        case 7: return sigmoid_value(x);
        case 8: return x * sigmoid_value(x);
        case 9: return x * (T(1) + erf(x * sqrt(T(0.5)))) / T(2);
        case 10: return x > T(0) ? x : T(0);
        case 11: return swift_max(x, T(0)) + log1p(exp(-fabs(x)));
        case 12: return erf(x);
        case 13: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
        case 14: return x * T(p0) + T(p1);
        case 15: return x * x;
        case 16: return integer_power(x, (i64)p0);
        case 17: return pow(x, T(p0));
        case 18: return swift_min(swift_max(x, T(p0)), T(p1));
        default: return x;
        }
    }

    template <typename T> __device__ T binary_value(i64 op, T a, T b) {
        switch (op) {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
        case 4: return (b == trunc(b) && fabs(b) <= T(2147483648.0)) ? integer_power(a, (i64)b) : pow(a, b);
        case 5: return swift_max(a, b);
        case 6: return swift_min(a, b);
        case 7: return a == b ? T(1) : T(0);
        case 8: return a != b ? T(1) : T(0);
        case 9: return a < b ? T(1) : T(0);
        case 10: return a <= b ? T(1) : T(0);
        case 11: return a > b ? T(1) : T(0);
        default: return a >= b ? T(1) : T(0);
        }
    }

    #define KERNELS(T, S)                                                                                             \
    extern "C" __global__ void unary_##S(Layout L, i64 count, i64 op, double p0, double p1, T* out, const T* x) {     \
        FOR_EACH_ELEMENT(2, out[at[0]] = unary_value<T>(op, x[at[1]], p0, p1));                                       \
    }                                                                                                                 \
    extern "C" __global__ void binary_##S(Layout L, i64 count, i64 op, T* out, const T* a, const T* b) {              \
        FOR_EACH_ELEMENT(3, out[at[0]] = binary_value<T>(op, a[at[1]], b[at[2]]));                                    \
    }                                                                                                                 \
    extern "C" __global__ void select_values_##S(Layout L, i64 count, T* out, const T* mask, const T* a,              \
                                                 const T* b) {                                                        \
        FOR_EACH_ELEMENT(4, out[at[0]] = mask[at[1]] != T(0) ? a[at[2]] : b[at[3]]);                                  \
    }                                                                                                                 \
    extern "C" __global__ void multiply_add_##S(Layout L, i64 count, T* out, const T* a, const T* scale,              \
                                                const T* addend) {                                                    \
        FOR_EACH_ELEMENT(4, out[at[0]] = a[at[1]] * scale[at[2]] + addend[at[3]]);                                    \
    }                                                                                                                 \
    /* One thread per line [o, :, i]; sum from 0, max from -inf propagating NaN (ReductionKernels.reduce). */         \
    extern "C" __global__ void reduce_##S(i64 op, i64 outer, i64 length, i64 inner, T* out, const T* x) {             \
        for (i64 line = first_index(); line < outer * inner; line += grid_stride()) {                                 \
            i64 o = line / inner, i = line % inner;                                                                   \
            const T* p = x + o * length * inner + i;                                                                  \
            T total = op == 0 ? T(0) : -positive_infinity<T>();                                                       \
            for (i64 t = 0; t < length; ++t) {                                                                        \
                T v = p[t * inner];                                                                                   \
                total = op == 0 ? total + v : ((total > v || total != total) ? total : v);                            \
            }                                                                                                         \
            out[line] = total;                                                                                        \
        }                                                                                                             \
    }                                                                                                                 \
    /* The first maximum; a number wins over NaN (ReductionKernels.argmax). */                                        \
    extern "C" __global__ void argmax_##S(i64 outer, i64 length, i64 inner, i64* out, const T* x) {                   \
        for (i64 line = first_index(); line < outer * inner; line += grid_stride()) {                                 \
            i64 o = line / inner, i = line % inner, best = 0;                                                         \
            const T* p = x + o * length * inner + i;                                                                  \
            T bestValue = p[0];                                                                                       \
            for (i64 t = 1; t < length; ++t) {                                                                        \
                T v = p[t * inner];                                                                                   \
                if (v > bestValue || (bestValue != bestValue && v == v)) { bestValue = v; best = t; }                 \
            }                                                                                                         \
            out[line] = best;                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    extern "C" __global__ void cumulative_sum_##S(i64 outer, i64 length, i64 inner, i64 reverse, T* out,              \
                                                  const T* x) {                                                       \
        for (i64 line = first_index(); line < outer * inner; line += grid_stride()) {                                 \
            i64 o = line / inner, i = line % inner;                                                                   \
            T total = 0;                                                                                              \
            for (i64 step = 0; step < length; ++step) {                                                               \
                i64 at = (o * length + (reverse ? length - 1 - step : step)) * inner + i;                             \
                total = step == 0 ? x[at] : total + x[at];                                                            \
                out[at] = total;                                                                                      \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* h[t] = a[t] h[t -/+ 1] + b[t] from initial [outer, 1, inner]. */                                               \
    extern "C" __global__ void linear_scan_##S(i64 outer, i64 length, i64 inner, i64 reverse, T* out, const T* a,     \
                                               const T* b, const T* initial) {                                        \
        for (i64 line = first_index(); line < outer * inner; line += grid_stride()) {                                 \
            i64 o = line / inner, i = line % inner;                                                                   \
            T h = initial[line];                                                                                      \
            for (i64 step = 0; step < length; ++step) {                                                               \
                i64 at = (o * length + (reverse ? length - 1 - step : step)) * inner + i;                             \
                h = a[at] * h + b[at];                                                                                \
                out[at] = h;                                                                                          \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* Softmax or log-softmax of each line, shifted by its maximum (0 when that is not finite). */                    \
    extern "C" __global__ void softmax_##S(i64 outer, i64 length, i64 inner, i64 take_log, T* out, const T* x) {      \
        for (i64 line = first_index(); line < outer * inner; line += grid_stride()) {                                 \
            i64 o = line / inner, i = line % inner, base = o * length * inner + i;                                    \
            T m = -positive_infinity<T>();                                                                            \
            for (i64 t = 0; t < length; ++t) m = swift_max(m, x[base + t * inner]);                                   \
            if (isinf(m) || m != m) m = 0;                                                                            \
            T total = 0;                                                                                              \
            for (i64 t = 0; t < length; ++t) {                                                                        \
                T e = exp(x[base + t * inner] - m);                                                                   \
                out[base + t * inner] = e;                                                                            \
                total += e;                                                                                           \
            }                                                                                                         \
            if (take_log) {                                                                                           \
                T logTotal = log(total);                                                                              \
                for (i64 t = 0; t < length; ++t) out[base + t * inner] = (x[base + t * inner] - m) - logTotal;        \
            } else {                                                                                                  \
                T scale = T(1) / total;                                                                               \
                for (i64 t = 0; t < length; ++t) out[base + t * inner] *= scale;                                      \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* Each row over the root of its scaled sum of squares, x / sqrt(sum x^2 / divisor + epsilon), times weight when  \
       has_weight; divisor and epsilon arrive as the bits of doubles. */                                              \
    extern "C" __global__ void normalize_rows_##S(i64 rows, i64 width, i64 has_weight, i64 divisor_bits,              \
                                                 i64 epsilon_bits, T* out, const T* x, const T* weight) {             \
        union { i64 bits; double value; } divisor, epsilon;                                                           \
        divisor.bits = divisor_bits;                                                                                  \
        epsilon.bits = epsilon_bits;                                                                                  \
        for (i64 r = first_index(); r < rows; r += grid_stride()) {                                                   \
            const T* row = x + r * width;                                                                             \
            T squares = 0;                                                                                            \
            for (i64 i = 0; i < width; ++i) squares += row[i] * row[i];                                               \
            T scale = T(1) / sqrt(squares / T(divisor.value) + T(epsilon.value));                                     \
            for (i64 i = 0; i < width; ++i) out[r * width + i] = row[i] * scale * (has_weight ? weight[i] : T(1));    \
        }                                                                                                             \
    }                                                                                                                 \
    /* Each row rotated in pairs (c, c + width/2) by the angles of its position row % positions (rotary embeddings). */\
    extern "C" __global__ void rotate_halves_##S(i64 rows, i64 positions, i64 width, T* out, const T* x,              \
                                                const T* cosines, const T* sines) {                                   \
        i64 half = width / 2;                                                                                         \
        for (i64 r = first_index(); r < rows; r += grid_stride()) {                                                   \
            const T* row = x + r * width;                                                                             \
            const T* co = cosines + (r % positions) * half;                                                           \
            const T* si = sines + (r % positions) * half;                                                             \
            for (i64 c = 0; c < half; ++c) {                                                                          \
                T a = row[c], b = row[c + half];                                                                      \
                out[r * width + c] = a * co[c] - b * si[c];                                                           \
                out[r * width + c + half] = b * co[c] + a * si[c];                                                    \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    /* out[o, j, :] = x[o, indices[j], :] */                                                                          \
    extern "C" __global__ void index_select_##S(i64 outer, i64 length, i64 inner, i64 n, T* out, const T* x,          \
                                                const i64* indices) {                                                 \
        for (i64 e = first_index(); e < outer * n * inner; e += grid_stride()) {                                      \
            i64 i = e % inner, r = e / inner, j = r % n, o = r / n;                                                   \
            out[e] = x[(o * length + indices[j]) * inner + i];                                                        \
        }                                                                                                             \
    }                                                                                                                 \
    /* out[o, indices[j], :] += x[o, j, :], atomically: repeated indices add in any order. */                         \
    extern "C" __global__ void index_add_##S(i64 outer, i64 length, i64 inner, i64 n, T* out, const T* x,             \
                                             const i64* indices) {                                                    \
        for (i64 e = first_index(); e < outer * n * inner; e += grid_stride()) {                                      \
            i64 i = e % inner, r = e / inner, j = r % n, o = r / n;                                                   \
            atomicAdd(out + (o * length + indices[j]) * inner + i, x[e]);                                             \
        }                                                                                                             \
    }                                                                                                                 \
    /* out[o, i] = x[o, indices[o * inner + i], i] */                                                                 \
    extern "C" __global__ void take_values_##S(i64 outer, i64 length, i64 inner, T* out, const T* x,                  \
                                               const i64* indices) {                                                  \
        for (i64 e = first_index(); e < outer * inner; e += grid_stride()) {                                          \
            i64 o = e / inner, i = e % inner;                                                                         \
            out[e] = x[(o * length + indices[e]) * inner + i];                                                        \
        }                                                                                                             \
    }                                                                                                                 \
    /* out[o, indices[o * inner + i], i] += x[o, i]: each output element at most once per o and i. */                 \
    extern "C" __global__ void put_values_##S(i64 outer, i64 length, i64 inner, T* out, const T* x,                   \
                                              const i64* indices) {                                                   \
        for (i64 e = first_index(); e < outer * inner; e += grid_stride()) {                                          \
            i64 o = e / inner, i = e % inner;                                                                         \
            out[(o * length + indices[e]) * inner + i] += x[e];                                                       \
        }                                                                                                             \
    }

    KERNELS(float, f32)
    KERNELS(double, f64)
    """#
}
