import Foundation
import TitansEval

/// The paper's claims that our studies can test (its §5; the numbers are the paper's), each judged on our results in
/// one line: agrees, disagrees or cannot tell, and why. Accuracy is the mean over a study's tasks and seeds, and a
/// difference counts when it is larger than 5 points (at 20–50 examples a task, less is noise); bits per byte count
/// when they differ by more than 0.02; speed when it differs by more than 15%.
///
/// ```swift
/// for line in ReproductionClaims.judged(results, scale: .full, corpus: nil) { print(line.claim, line.verdict, line.reason) }
/// ```
public enum ReproductionClaims {
    public enum Verdict: String, Sendable { case agrees, disagrees, cannotTell = "cannot tell" }

    public struct Line: Sendable {
        public var claim: String
        public var verdict: Verdict
        public var reason: String
    }

    /// The smallest differences that count: accuracy (a fraction), bits per byte, a speed ratio's distance from 1, and
    /// a forecasting error ratio's.
    static let margin = 0.05, bitsMargin = 0.02, speedMargin = 0.15, forecastMargin = 0.02

    static func percent(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }
    static func bits(_ x: Double) -> String { String(format: "%.3f", x) }

    /// `a` against `b` where larger is better: agrees when `a` is ahead by more than `margin`.
    static func verdict(_ a: Double, _ b: Double, margin: Double) -> Verdict {
        a - b > margin ? .agrees : b - a > margin ? .disagrees : .cannotTell
    }

    /// Every claim with its verdict on `results`.
    public static func judged(_ results: ReproductionResults, scale: ReproductionScale, corpus: ReproductionCorpus?,
                              domains: ReproductionDomainData = .init()) -> [Line] {
        func measured(_ study: ReproductionStudy) -> [String: [ReproductionResult]] {
            Dictionary(ReproductionReport(study: study, scale: scale, results: results, corpus: corpus, domains: domains).measured
                .map { ($0.cell.modelName, $0.results) },
                       uniquingKeysWith: { a, _ in a })
        }
        let needles = measured(.needles), ablations = measured(.ablations), language = measured(.language)
        let depth = measured(.depth), efficiency = measured(.efficiency)
        func curve(_ model: String) -> [Double]? { needles[model].flatMap { ReproductionReport.accuracyCurve(.needles, $0, scale) } }
        func mean(_ c: [Double]) -> Double { c.reduce(0, +) / Double(max(1, c.count)) }
        func beyond(_ c: [Double]) -> Double { mean(Array(c.dropFirst())) }  // lengths past training
        func bitsPerByte(_ model: String) -> Double? {
            language[model].flatMap { ReproductionReport.bitsPerByte($0, study: "language", ReproductionStudy.languageLength) }
        }
        /// Table 5's long-context column for an ablation model: its mean S-NIAH accuracy, as the paper's.
        func longContext(_ model: String) -> Double? {
            ablations[model].flatMap { ReproductionReport.accuracyCurve(.needles, $0, scale) }.map(mean)
        }
        var lines: [Line] = []

        // Claim 8: the LMM alone beats TTT, Mamba2 and DeltaNet on single-needle retrieval and degrades gracefully.
        let recurrent = ["delta-net", "gated-delta-net", "ttt-mlp", "linear-attention", "gated-linear-attention"]
        let claim8 = "The LMM alone beats the recurrent baselines (TTT, DeltaNet, …) on S-NIAH, more so at longer lengths (Table 2)"
        if let lmm = curve("lmm"), let best = recurrent.compactMap({ name in curve(name).map { (name, $0) } }).max(by: { beyond($0.1) < beyond($1.1) }) {
            lines.append(Line(claim: claim8, verdict: verdict(beyond(lmm), beyond(best.1), margin: margin),
                              reason: "beyond the training length LMM averages \(percent(beyond(lmm))), the best recurrent baseline "
                                  + "(\(ReproductionStudy.label(best.0))) \(percent(beyond(best.1)))"))
        } else {
            lines.append(Line(claim: claim8, verdict: .cannotTell, reason: "needs the LMM and a recurrent baseline in the needles study"))
        }

        // Claim 9: the hybrids beat the LMM alone, and MAC is best on long context.
        let claim9 = "The hybrids (MAC, MAG, MAL) beat the LMM alone on long context, and MAC is the best (Tables 2 and 5)"
        let titans = ["mac", "mag", "mal", "lmm"].compactMap { name in curve(name).map { (name, mean($0)) } }
        if titans.count == 4, let lmm = titans.first(where: { $0.0 == "lmm" })?.1, let mac = titans.first(where: { $0.0 == "mac" })?.1 {
            let hybrids = titans.filter { $0.0 != "lmm" }
            let macBeaten = titans.contains { $0.0 != "mac" && $0.1 > mac + margin }
            let v: Verdict = hybrids.allSatisfy({ $0.1 > lmm + margin }) && !macBeaten ? .agrees
                : hybrids.allSatisfy({ $0.1 < lmm - margin }) || macBeaten ? .disagrees : .cannotTell
            lines.append(Line(claim: claim9, verdict: v,
                              reason: "mean S-NIAH accuracy over all lengths: " + titans.map { "\($0.0.uppercased()) \(percent($0.1))" }.joined(separator: ", ")))
        } else {
            lines.append(Line(claim: claim9, verdict: .cannotTell, reason: "needs every Titans variant in the needles study"))
        }

        // Claims 3, 6 and 7: each part of the LMM helps (Table 5), judged on the long-context column, bits per byte beside.
        for (part, claim) in [("linear-memory", "A deep memory beats a linear (matrix) memory (Table 5: 92.68 vs 85.34 long context, 27.01 vs 28.49 ppl)"),
                              ("no-momentum", "Momentum helps (Table 5: 87.12 long context and 28.98 ppl without it)"),
                              ("no-convolution", "The short convolution helps (Table 5: 90.28 long context and 28.73 ppl without it)"),
                              ("no-persistent", "Persistent tokens help slightly (Table 5: 92.49 long context and 27.63 ppl without them)")] {
            let name = "lmm/\(part)"
            guard let lmm = longContext("lmm"), let without = longContext(name) else {
                lines.append(Line(claim: claim, verdict: .cannotTell, reason: "the ablation was not run"))
                continue
            }
            var reason = "S-NIAH mean: LMM \(percent(lmm)), \(ReproductionStudy.label(name)) \(percent(without))"
            if let a = ablations["lmm"].flatMap({ ReproductionReport.bitsPerByte($0, study: "language", ReproductionStudy.languageLength) }),
               let b = ablations[name].flatMap({ ReproductionReport.bitsPerByte($0, study: "language", ReproductionStudy.languageLength) }) {
                reason += "; bits per byte \(bits(a)) against \(bits(b))"
            }
            lines.append(Line(claim: claim, verdict: verdict(lmm, without, margin: margin), reason: reason))
        }

        // Claim 5: the forget gate matters most.
        let claim5 = "Forgetting (weight decay) matters more than momentum, convolution and persistent memory (Table 5: 85.60 long "
            + "context without it, against 87.12, 90.28 and 92.49)"
        let ablated = ReproductionScale.ablations.keys.sorted().compactMap { part in longContext("lmm/\(part)").map { (part, $0) } }
        if let forgetting = ablated.first(where: { $0.0 == "no-forgetting" })?.1, ablated.count == ReproductionScale.ablations.count {
            let others = ablated.filter { $0.0 != "no-forgetting" && $0.0 != "linear-memory" }
            let v: Verdict = others.allSatisfy { $0.1 > forgetting + margin } ? .agrees
                : others.contains { $0.1 < forgetting - margin } ? .disagrees : .cannotTell
            lines.append(Line(claim: claim5, verdict: v,
                              reason: "long context without each part: " + ablated.map { "\($0.0) \(percent($0.1))" }.joined(separator: ", ")))
        } else {
            lines.append(Line(claim: claim5, verdict: .cannotTell, reason: "not every ablation was run"))
        }

        // Claim 11 and Table 1's reading: the LMM models language better than Transformer++ and the recurrent models.
        let claim11 = "The LMM beats a same-size Transformer++ on language modelling (Table 1, 340M: 26.18 vs 31.52 Wiki ppl)"
        if let lmm = bitsPerByte("lmm"), let transformer = bitsPerByte("transformer") {
            lines.append(Line(claim: claim11, verdict: verdict(transformer, lmm, margin: bitsMargin),
                              reason: "bits per byte at the training length: LMM \(bits(lmm)), Transformer++ \(bits(transformer))"))
        } else {
            lines.append(Line(claim: claim11, verdict: .cannotTell, reason: "needs the LMM and the transformer in the language study"))
        }
        let claim1 = "Among models without attention the LMM models language best (Table 1: 26.18 Wiki ppl against 27.01–28.65)"
        if let lmm = bitsPerByte("lmm"), let best = recurrent.compactMap({ name in bitsPerByte(name).map { (name, $0) } }).min(by: { $0.1 < $1.1 }) {
            lines.append(Line(claim: claim1, verdict: verdict(best.1, lmm, margin: bitsMargin),
                              reason: "bits per byte: LMM \(bits(lmm)), the best recurrent baseline (\(ReproductionStudy.label(best.0))) \(bits(best.1))"))
        } else {
            lines.append(Line(claim: claim1, verdict: .cannotTell, reason: "needs the LMM and a recurrent baseline in the language study"))
        }

        // Claim 3, Fig. 7: deeper memories model language better at every training length.
        let claim3 = "Deeper memories give lower perplexity at every sequence length (Fig. 7)"
        let byDepth = scale.depths.compactMap { d -> (Int, [Double])? in
            guard let r = depth["lmm/depth-\(d)"] else { return nil }
            let values = scale.depthLengths.compactMap { ReproductionReport.bitsPerByte(r, study: "language@\($0)", $0) }
            return values.count == scale.depthLengths.count ? (d, values) : nil
        }
        if byDepth.count == scale.depths.count, byDepth.count >= 2, let shallow = byDepth.first, let deep = byDepth.last {
            let gains = zip(shallow.1, deep.1).map { $0 - $1 }  // positive: the deepest is better
            let v: Verdict = gains.allSatisfy { $0 > bitsMargin } ? .agrees : gains.allSatisfy { $0 < -bitsMargin } ? .disagrees : .cannotTell
            lines.append(Line(claim: claim3, verdict: v,
                              reason: "bits per byte at training lengths \(scale.depthLengths.map(String.init).joined(separator: ", ")): "
                                  + byDepth.map { "depth \($0.0) " + $0.1.map(bits).joined(separator: "/") }.joined(separator: "; ")))
        } else {
            lines.append(Line(claim: claim3, verdict: .cannotTell, reason: "the depth study was not run at every depth and length"))
        }

        // Claim 4, Fig. 8: speed flat in length, falling with depth.
        let claim4 = "Training speed stays about flat as the sequence grows, and falls as the memory deepens (Fig. 8)"
        let lengths = scale.efficiencyLengths
        let speeds = scale.depths.compactMap { d in
            efficiency["lmm/depth-\(d)"].flatMap { r -> (Int, Double, Double)? in
                guard let first = r[0].metrics[ReproductionCell.metric("training", lengths.first ?? 0)],
                      let last = r[0].metrics[ReproductionCell.metric("training", lengths.last ?? 0)] else { return nil }
                return (d, first, last)
            }
        }
        if speeds.count == scale.depths.count, speeds.count >= 2, let shallow = speeds.first, let deep = speeds.last {
            let flat = speeds.allSatisfy { $0.2 / $0.1 > 1 - speedMargin }
            let falls = deep.1 < shallow.1 * (1 - speedMargin)
            lines.append(Line(claim: claim4, verdict: flat && falls ? .agrees : !flat ? .disagrees : .cannotTell,
                              reason: "training bytes/s at \(lengths.first ?? 0) → \(lengths.last ?? 0): "
                                  + speeds.map { String(format: "depth %d %.0f → %.0f", $0.0, $0.1, $0.2) }.joined(separator: ", ")))
        } else {
            lines.append(Line(claim: claim4, verdict: .cannotTell, reason: "the efficiency study was not run at every depth"))
        }

        // Claim 12, Fig. 9: MAL trains faster than the LMM alone.
        let claim12 = "MAL trains faster than the LMM alone (Fig. 9)"
        if let mal = efficiency["mal"]?[0].metrics, let lmm = efficiency["lmm/depth-2"]?[0].metrics,
           let a = mal[ReproductionCell.metric("training", lengths.last ?? 0)], let b = lmm[ReproductionCell.metric("training", lengths.last ?? 0)] {
            lines.append(Line(claim: claim12, verdict: verdict(a / b, 1, margin: speedMargin),
                              reason: String(format: "training bytes/s at %d: MAL %.0f, LMM (depth 2) %.0f", lengths.last ?? 0, a, b)))
        } else {
            lines.append(Line(claim: claim12, verdict: .cannotTell, reason: "needs MAL and the depth-2 LMM in the efficiency study"))
        }

        // Claim 13: accuracy holds beyond the training length, where attention fails.
        let claim13 = "Trained at length L, Titans stays accurate at 4L–16L, where attention cannot reach (Fig. 6, Table 2)"
        let attention = ["sliding-window", "transformer"].compactMap { name in curve(name).map { (name, $0) } }
        let memory = ["lmm", "mag", "mal", "mac"].compactMap { name in curve(name).map { (name, $0) } }
        if let bestMemory = memory.max(by: { beyond($0.1) < beyond($1.1) }),
           let bestAttention = attention.max(by: { beyond($0.1) < beyond($1.1) }) {
            lines.append(Line(claim: claim13, verdict: verdict(beyond(bestMemory.1), beyond(bestAttention.1), margin: margin),
                              reason: "beyond the training length the best Titans variant (\(bestMemory.0)) averages "
                                  + "\(percent(beyond(bestMemory.1))) (\(percent(bestMemory.1.last ?? 0)) at 16L), the best attention model "
                                  + "(\(bestAttention.0)) \(percent(beyond(bestAttention.1)))"))
        } else {
            lines.append(Line(claim: claim13, verdict: .cannotTell, reason: "needs a Titans variant and an attention model in the needles study"))
        }
        lines += domainLines(forecasting: measured(.forecasting), dna: measured(.dna))
        return lines
    }

    /// The claims of Tables 3 and 4, judged on the forecasting and DNA studies' results by model.
    static func domainLines(forecasting: [String: [ReproductionResult]], dna: [String: [ReproductionResult]]) -> [Line] {
        var lines: [Line] = []
        // Table 3: the neural memory forecasts best; judged on the MSE averaged over every series, horizon and seed,
        // against the linear baseline and attention over the same patches.
        let claim14 = "The neural memory forecasts better than the linear baseline and attention (Table 3: lowest MSE on every dataset)"
        func mse(_ model: String) -> Double? {
            let values = (forecasting[model] ?? []).compactMap { $0.metrics["mse"] }
            return values.count == (forecasting[model] ?? []).count ? ReproductionReport.mean(values) : nil
        }
        let cellsOf = { (model: String) in Set((forecasting[model] ?? []).map { "\($0.study) \($0.seed)" }) }
        let rivals = ["linear", "sliding-window"].filter { forecasting[$0] != nil && cellsOf($0) == cellsOf("lmm") }
        if let lmm = mse("lmm"), !rivals.isEmpty, case let others = rivals.compactMap({ name in mse(name).map { (name, $0) } }),
           others.count == rivals.count {
            let v: Verdict = others.allSatisfy { lmm < $0.1 * (1 - forecastMargin) } ? .agrees
                : others.contains { lmm > $0.1 * (1 + forecastMargin) } ? .disagrees : .cannotTell
            lines.append(Line(claim: claim14, verdict: v, reason: String(format: "mean test MSE over %d series × horizons × seeds: LMM %.3f, ",
                                                                           cellsOf("lmm").count, lmm)
                                  + others.map { String(format: "%@ %.3f", ReproductionStudy.label($0.0), $0.1) }.joined(separator: ", ")))
        } else {
            lines.append(Line(claim: claim14, verdict: .cannotTell, reason: "needs the LMM, DLinear and the window on the same series in the forecasting study"))
        }
        // Table 4: the neural memory is competitive with the best other model on DNA classification (within the margin).
        let claim15 = "The neural memory is competitive with attention and the other sequence models on DNA classification (Table 4)"
        func accuracy(_ model: String) -> Double? {
            ReproductionReport.mean((dna[model] ?? []).filter { $0.study != ReproductionStudy.dnaLanguageTraining }.compactMap { $0.metrics["accuracy"] })
        }
        if let lmm = accuracy("lmm"), let best = dna.keys.filter({ $0 != "lmm" }).compactMap({ name in accuracy(name).map { (name, $0) } })
            .max(by: { $0.1 < $1.1 }) {
            let v: Verdict = lmm >= best.1 - margin ? .agrees : .disagrees
            lines.append(Line(claim: claim15, verdict: v,
                              reason: "mean accuracy over the tasks: LMM \(percent(lmm)), the best other model (\(best.0)) \(percent(best.1))"))
        } else {
            lines.append(Line(claim: claim15, verdict: .cannotTell, reason: "needs the LMM and another model in the DNA study"))
        }
        return lines
    }

    /// The claims as a Markdown table.
    public static func markdown(_ results: ReproductionResults, scale: ReproductionScale, corpus: ReproductionCorpus?,
                                domains: ReproductionDomainData = .init()) -> String {
        var table = MarkdownTable(headers: ["claim (paper)", "here", "why"])
        for line in judged(results, scale: scale, corpus: corpus, domains: domains) { table.append([line.claim, line.verdict.rawValue, line.reason]) }
        return "## The paper's claims, judged at this scale\n\nA difference counts when it exceeds \(Int(margin * 100)) points of "
            + "accuracy, \(bitsMargin) bits per byte, \(Int(speedMargin * 100))% of speed or \(Int(forecastMargin * 100))% of forecasting error. Claims 1 and 2 of the notes (the "
            + "parallel form equals the recurrence; the reduction to Gated DeltaNet) are unit tests of the package, and claim 10 "
            + "(MAG ≈ MAC on common-sense reasoning) needs benchmarks far beyond this scale.\n\n" + table.render() + "\n"
    }
}
