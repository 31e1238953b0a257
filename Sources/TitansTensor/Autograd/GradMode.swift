/// Whether ops record their history for autodiff. Run inference with ``withoutGradients(_:)``; no op inside it
/// records anything.
///
/// The mode is task-local (thread-local outside Swift concurrency): turning recording off in one task or thread
/// (as `withoutGradients`, `concatenate`, `embed`, and `gradients(createGraph: false)` do) does not affect ops
/// running concurrently elsewhere, e.g. tests run in parallel. Child tasks inherit the mode of their parent.
///
/// ```swift
/// let logits = withoutGradients { model(tokens).logits }   // nothing recorded for backward
/// let recorded = GradMode.with(enabled: true) { GradMode.isEnabled }
/// ```
public enum GradMode {
    @TaskLocal private static var enabled = true

    public static var isEnabled: Bool { enabled }

    /// Runs `body` with gradient recording set to `enabled`, restoring the previous mode afterwards.
    public static func with<R>(enabled: Bool, _ body: () throws -> R) rethrows -> R {
        try $enabled.withValue(enabled, operation: body)
    }
}

/// Runs `body` without recording any op for autodiff (inference, optimiser updates).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.with(enabled: false, body)
}
