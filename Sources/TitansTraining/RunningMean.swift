/// The mean of the last `window` values added: the smoothed loss of progress lines and loss curves.
///
/// ```swift
/// var mean = RunningMean(window: 20)
/// let smoothed = mean.add(4.2)   // the mean of the last 20 values added
/// ```
public struct RunningMean: Sendable {
    public let window: Int
    private var recent: [Double] = []

    public init(window: Int) {
        precondition(window >= 1, "RunningMean: window must be at least 1")
        self.window = window
    }

    /// Adds `value` and returns the mean of the last `window` values (fewer at the start).
    @discardableResult
    public mutating func add(_ value: Double) -> Double {
        recent.append(value)
        if recent.count > window { recent.removeFirst() }
        return recent.reduce(0, +) / Double(recent.count)
    }
}
