import RealModule

/// The Swift types that tensor elements can have: `Float` (``DType/float32``) and `Double` (``DType/float64``).
///
/// ```swift
/// func total<T: TensorScalar>(_ values: [T]) -> T { values.reduce(0, +) }   // Float or Double
/// ```
public protocol TensorScalar: BinaryFloatingPoint, Real, SIMDScalar, Codable, Sendable {
    static var dtype: DType { get }
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
}

extension Double: TensorScalar {
    public static var dtype: DType { .float64 }
}
