import Foundation

/// Printing tensors.
extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = toArray()
        let shown = values.prefix(64).map { String(format: "%.6g", $0) }.joined(separator: ", ")
        return "Tensor(\(dtype), shape: \(shape), [\(shown)\(values.count > 64 ? ", …" : "")])"
    }
}
