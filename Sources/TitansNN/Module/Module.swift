/// A neural-network building block that owns named parameters and child modules.
///
/// Parameters are the stored `Tensor` properties of a module (found by reflection), children its stored
/// `Module` properties and arrays of modules (arrays of tensors are parameters `name.0`, `name.1`, …); their dotted names (`"layers.0.attention.query.weight"`) key
/// checkpoints and optimisers. Parameters are updated in place (`Tensor.assign(_:)`), so a module's
/// structure never changes after it is built.
///
/// ```swift
/// final class TwoLayers: Module {
///     let first: Linear, second: Linear
///     init(generator: inout RandomGenerator) {
///         first = Linear(64, 256, generator: &generator)
///         second = Linear(256, 64, generator: &generator)
///     }
///     func callAsFunction(_ x: Tensor) -> Tensor { second(first(x).silu()) }
/// }
/// // namedParameters(): first.weight, first.bias, second.weight, second.bias
/// ```
open class Module {
    public init() {}

    /// Every parameter of this module and its descendants with its dotted name, in declaration order.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var result: [(String, Tensor)] = []
        collect(prefix: "", into: &result)
        return result
    }

    /// The parameters without their names.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Labels of child modules whose parameters are named as this module's own (no `label.` in their names).
    open var inlinedChildren: Set<String> { [] }

    /// The number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    private func collect(prefix: String, into result: inout [(String, Tensor)]) {
        var mirror: Mirror? = Mirror(reflecting: self)
        var children: [(String, Any)] = []
        // Superclass properties first, so names follow the order of declaration from the base class down.
        var chain: [Mirror] = []
        while let m = mirror {
            chain.append(m)
            mirror = m.superclassMirror
        }
        for m in chain.reversed() {
            for child in m.children { if let label = child.label { children.append((label, child.value)) } }
        }
        for (label, value) in children {
            let name = prefix + label
            switch value {
            // Numbers are never parameters; casting such an array to [Tensor] below would box every element through
            // Foundation's bridging (80% of a DLinear training step, whose moving average is a [Double] of 9,216).
            case is [Double], is [Float], is [Int]: break
            case let tensor as Tensor: result.append((name, tensor))
            case let tensor as Tensor?: if let tensor { result.append((name, tensor)) }
            case let tensors as [Tensor]:
                for (i, tensor) in tensors.enumerated() { result.append(("\(name).\(i)", tensor)) }
            case let module as Module: module.collect(prefix: inlinedChildren.contains(label) ? prefix : name + ".", into: &result)
            case let module as Module?: module?.collect(prefix: name + ".", into: &result)
            case let modules as [Module]:
                for (i, module) in modules.enumerated() { module.collect(prefix: "\(name).\(i).", into: &result) }
            default: break
            }
        }
    }
}
