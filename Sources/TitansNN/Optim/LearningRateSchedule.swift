import Foundation

/// Linear warm-up from 0 to `peak` over `warmupSteps`, then cosine decay from `peak` to `minimum` at
/// `totalSteps`, constant at `minimum` afterwards:
///
///     lr(s) = peak · s / warmupSteps                                     for s < warmupSteps
///     lr(s) = minimum + (peak − minimum) · ½(1 + cos(π · (s − warmupSteps) / (totalSteps − warmupSteps)))
///                                                                        for warmupSteps ≤ s < totalSteps
///     lr(s) = minimum                                                    for s ≥ totalSteps
///
/// `lr(0)` is 0 when there is a warm-up, so pass the 1-based number of the update about to be made
/// (`schedule(step + 1)` after `step` updates) to make the first update count.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    /// The learning rate at the end of warm-up.
    public var peak: Double
    /// The learning rate from `totalSteps` on.
    public var minimum: Double
    /// Steps of linear warm-up (0 for none).
    public var warmupSteps: Int
    /// The step at which the cosine decay reaches `minimum`.
    public var totalSteps: Int

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, minimum: Double = 0) {
        precondition(warmupSteps >= 0, "LearningRateSchedule: warmupSteps (\(warmupSteps)) must not be negative")
        precondition(totalSteps >= warmupSteps,
                     "LearningRateSchedule: totalSteps (\(totalSteps)) must be at least warmupSteps (\(warmupSteps))")
        precondition(peak >= 0 && minimum >= 0, "LearningRateSchedule: peak and minimum must not be negative")
        self.peak = peak
        self.minimum = minimum
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate at `step` (negative steps count as 0).
    public func learningRate(at step: Int) -> Double {
        let s = max(step, 0)
        if s < warmupSteps { return peak * Double(s) / Double(warmupSteps) }
        if s >= totalSteps { return minimum }
        let progress = Double(s - warmupSteps) / Double(totalSteps - warmupSteps)
        return minimum + (peak - minimum) * 0.5 * (1 + cos(Double.pi * progress))
    }

    /// The learning rate at `step`; `schedule(step)` reads as ``learningRate(at:)``.
    public func callAsFunction(_ step: Int) -> Double { learningRate(at: step) }
}
