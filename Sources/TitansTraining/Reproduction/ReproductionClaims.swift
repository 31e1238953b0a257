import Foundation
import TitansEval

/// The paper's claims that our studies can test (its §5; the numbers are the paper's), each judged on our results in
/// one line: agrees, disagrees or cannot tell, and why. A claim is judged on the mean accuracy over a study's tasks
/// and seeds; a difference counts when it is larger than 5 points (at 20–50 examples a task, less is noise).
///
/// ```swift
/// for line in ReproductionClaims.judged(results, scale: .full) { print(line.claim, line.verdict, line.reason) }
/// ```
public enum ReproductionClaims {
    public enum Verdict: String, Sendable { case agrees, disagrees, cannotTell = "cannot tell" }

    public struct Line: Sendable {
        public var claim: String
        public var verdict: Verdict
        public var reason: String
    }

    /// The smallest difference in accuracy (a fraction) that counts.
    static let margin = 0.05

    /// The mean accuracy of `model` in `study` at each tested length (nil where a length is missing).
    static func curve(_ study: ReproductionStudy, _ model: String, _ results: ReproductionResults,
                      _ scale: ReproductionScale) -> [Double]? {
        let report = ReproductionReport(study: study, scale: scale, results: results)
        guard let measured = report.measured.first(where: { $0.cell.modelName == model }) else { return nil }
        let lengths = scale.lengthMultiples.map { $0 * study.trainingLength }
        let curve = lengths.map { length -> Double? in
            let values = measured.results.compactMap { report.average($0, length) }
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        return curve.contains { $0 == nil } ? nil : curve.compactMap { $0 }
    }

    static func percent(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }

    /// Every claim with its verdict on `results`.
    public static func judged(_ results: ReproductionResults, scale: ReproductionScale) -> [Line] {
        let needles = ReproductionStudy.needles
        func mean(_ c: [Double]) -> Double { c.reduce(0, +) / Double(max(1, c.count)) }
        func beyond(_ c: [Double]) -> Double { mean(Array(c.dropFirst())) }  // lengths past training
        var lines: [Line] = []

        // Claim 8: the LMM alone beats TTT, Mamba2 and DeltaNet on single-needle retrieval and degrades gracefully.
        let recurrent = ["delta-net", "gated-delta-net", "ttt-mlp", "linear-attention", "gated-linear-attention"]
        let claim8 = "The LMM alone beats the recurrent baselines (TTT, DeltaNet, …) on S-NIAH, more so at longer lengths (Table 2)"
        if let lmm = curve(needles, "lmm", results, scale) {
            let others = recurrent.compactMap { name in curve(needles, name, results, scale).map { (name, $0) } }
            if let best = others.max(by: { beyond($0.1) < beyond($1.1) }) {
                let gap = beyond(lmm) - beyond(best.1)
                lines.append(Line(claim: claim8, verdict: gap > margin ? .agrees : gap < -margin ? .disagrees : .cannotTell,
                                  reason: "beyond the training length LMM averages \(percent(beyond(lmm))), the best recurrent baseline "
                                      + "(\(best.0)) \(percent(beyond(best.1)))"))
            } else {
                lines.append(Line(claim: claim8, verdict: .cannotTell, reason: "no recurrent baseline was run"))
            }
        } else {
            lines.append(Line(claim: claim8, verdict: .cannotTell, reason: "the LMM was not run"))
        }

        // Claim 9: the hybrids beat the LMM alone, and MAC is best on long context.
        let claim9 = "The hybrids (MAC, MAG, MAL) beat the LMM alone on long context, and MAC is the best (Tables 2 and 5)"
        let titans = ["mac", "mag", "mal", "lmm"].compactMap { name in curve(needles, name, results, scale).map { (name, mean($0)) } }
        if titans.count == 4, let lmm = titans.first(where: { $0.0 == "lmm" })?.1, let mac = titans.first(where: { $0.0 == "mac" })?.1 {
            let hybrids = titans.filter { $0.0 != "lmm" }
            let macBeaten = titans.contains { $0.0 != "mac" && $0.1 > mac + margin }
            let verdict: Verdict
            if hybrids.allSatisfy({ $0.1 > lmm + margin }) && !macBeaten {
                verdict = .agrees
            } else if hybrids.allSatisfy({ $0.1 < lmm - margin }) || macBeaten {
                verdict = .disagrees
            } else {
                verdict = .cannotTell
            }
            lines.append(Line(claim: claim9, verdict: verdict,
                              reason: "mean S-NIAH accuracy over all lengths: " + titans.map { "\($0.0.uppercased()) \(percent($0.1))" }.joined(separator: ", ")))
        } else {
            lines.append(Line(claim: claim9, verdict: .cannotTell, reason: "not every Titans variant was run"))
        }

        // Claims 3, 6 and 7: each part of the LMM helps long-context accuracy (Table 5's long-context column).
        let ablations = ReproductionStudy.ablations
        let lmm = curve(ablations, "lmm", results, scale).map(mean)
        for (part, claim) in [("linear-memory", "A deep memory beats a linear (matrix) memory (Table 5: 92.68 vs 85.34 long context; Fig. 7)"),
                              ("no-momentum", "Momentum helps (Table 5: 87.12 long context without it)"),
                              ("no-convolution", "The short convolution helps (Table 5: 90.28 long context without it)"),
                              ("no-persistent", "Persistent tokens help slightly (Table 5: 92.49 long context without them)")] {
            guard let lmm, let without = curve(ablations, "lmm/\(part)", results, scale).map(mean) else {
                lines.append(Line(claim: claim, verdict: .cannotTell, reason: "the ablation was not run"))
                continue
            }
            let gap = lmm - without
            lines.append(Line(claim: claim, verdict: gap > margin ? .agrees : gap < -margin ? .disagrees : .cannotTell,
                              reason: "mean S-NIAH accuracy: LMM \(percent(lmm)), \(ReproductionStudy.label("lmm/\(part)")) \(percent(without))"))
        }

        // Claim 5: the forget gate matters most.
        let claim5 = "Forgetting (weight decay) matters more than momentum, convolution and persistent memory (Table 5: 85.60 long "
            + "context without it, against 87.12, 90.28 and 92.49)"
        let ablated = ReproductionScale.ablations.keys.sorted().compactMap { part in
            curve(ablations, "lmm/\(part)", results, scale).map { (part, mean($0)) }
        }
        if let forgetting = ablated.first(where: { $0.0 == "no-forgetting" })?.1, ablated.count == ReproductionScale.ablations.count {
            let others = ablated.filter { $0.0 != "no-forgetting" && $0.0 != "linear-memory" }
            let verdict: Verdict = others.allSatisfy { $0.1 > forgetting + margin } ? .agrees
                : others.contains { $0.1 < forgetting - margin } ? .disagrees : .cannotTell
            lines.append(Line(claim: claim5, verdict: verdict,
                              reason: "mean S-NIAH accuracy without each part: " + ablated.map { "\($0.0) \(percent($0.1))" }.joined(separator: ", ")))
        } else {
            lines.append(Line(claim: claim5, verdict: .cannotTell, reason: "not every ablation was run"))
        }

        // Claim 13: accuracy holds beyond the training length, where attention fails.
        let claim13 = "Trained at length L, Titans stays accurate at 4L–16L, where attention cannot reach (Fig. 6, Table 2)"
        let attention = ["sliding-window", "transformer"].compactMap { name in curve(needles, name, results, scale).map { (name, $0) } }
        let memory = ["lmm", "mag", "mal", "mac"].compactMap { name in curve(needles, name, results, scale).map { (name, $0) } }
        if let bestMemory = memory.max(by: { beyond($0.1) < beyond($1.1) }),
           let bestAttention = attention.max(by: { beyond($0.1) < beyond($1.1) }) {
            let gap = beyond(bestMemory.1) - beyond(bestAttention.1)
            lines.append(Line(claim: claim13, verdict: gap > margin ? .agrees : gap < -margin ? .disagrees : .cannotTell,
                              reason: "beyond the training length the best Titans variant (\(bestMemory.0)) averages "
                                  + "\(percent(beyond(bestMemory.1))) (\(percent(bestMemory.1.last ?? 0)) at 16L), the best attention model "
                                  + "(\(bestAttention.0)) \(percent(beyond(bestAttention.1)))"))
        } else {
            lines.append(Line(claim: claim13, verdict: .cannotTell, reason: "needs a Titans variant and an attention model in the needles study"))
        }
        return lines
    }

    /// The claims as a Markdown table.
    public static func markdown(_ results: ReproductionResults, scale: ReproductionScale) -> String {
        var table = MarkdownTable(headers: ["claim (paper)", "here", "why"])
        for line in judged(results, scale: scale) { table.append([line.claim, line.verdict.rawValue, line.reason]) }
        return "## The paper's claims, judged at this scale\n\nA difference counts when it exceeds \(Int(margin * 100)) points "
            + "of mean accuracy (long context only: the language-modelling and reasoning columns are not measured yet); claims "
            + "the studies so far cannot test (depth, language modelling, speed) are left out.\n\n"
            + table.render() + "\n"
    }
}
