/// The element types a tensor can hold. Float32 is the default; Float64 is used by gradient checks.
///
/// ```swift
/// let x = Tensor.zeros([2, 3], dtype: .float64)   // finite-difference checks run in float64
/// print(x.dtype.byteCount)                         // 8
/// ```
public enum DType: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case float32
    case float64

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float32: return 4
        case .float64: return 8
        }
    }

    public var description: String { rawValue }
}
