import Foundation

/// A study of `titans reproduce`: which models it trains on which task mix, what it scores, and how it reports it beside
/// the paper's numbers.
/// - `needles` — Table 2: S-NIAH PK, N and W at the training length and 2×–16× it.
/// - `babilong` — Fig. 6: BABILong-style qa1–qa5 accuracy against length.
/// - `ablations` — Table 5: the LMM without each of its parts, and with each kind of attention, on the long-context
///   column (the S-NIAH mean); it shares the models `needles` trains.
///
/// ```swift
/// for cell in ReproductionStudy.needles.cells(at: .quick) { print(cell.key) }   // needles/lmm/seed0, …
/// ```
public struct ReproductionStudy: Sendable {
    public var name: String
    /// The training its cells share with other studies (a cell trained once serves every study that names it).
    public var training: String
    public var title: String
    /// What the paper reports, and what this study changes (the scale, the data).
    public var about: String
    /// Every model (command-line names), and the few a quick run trains.
    public var models: [String]
    public var quickModels: [String]
    public var trainingTasks: [any LongContextTask]
    public var trainingLength: Int
    /// A headline table (the paper's Tables 1 and 2): every seed of the scale; the other studies take its first.
    public var headline: Bool
    /// The paper's numbers for the report, as a Markdown table.
    public var paperTable: String

    public static let all = [needles, babilong, ablations]

    public static let needles = ReproductionStudy(
        name: "needles", training: "needles", title: "Table 2: single needle in a haystack (S-NIAH)",
        about: "The paper trains 400M-parameter models on 15B tokens and tests S-NIAH (RULER) at 2K–16K tokens. Here every "
            + "model is trained on our S-NIAH examples (pass key, number and word needles, lengths from half the training "
            + "length to it, answer bytes scored) and tested at the training length and 2×, 4×, 8× and 16× it: a test of "
            + "length generalisation, since nothing longer was seen in training.",
        models: ["lmm", "mac", "mag", "mal", "sliding-window", "transformer", "delta-net", "gated-delta-net", "ttt-mlp",
                 "linear-attention", "gated-linear-attention"],
        quickModels: ["lmm", "mag", "sliding-window"],
        trainingTasks: NeedleTask.Kind.allCases.map { NeedleTask($0) }, trainingLength: 256, headline: true,
        paperTable: """
            | model | PK 2K | PK 4K | PK 8K | PK 16K | N 2K | N 4K | N 8K | N 16K | W 2K | W 4K | W 8K | W 16K |
            | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
            | TTT | 98.4 | 98.8 | 98.0 | 88.4 | 60.2 | 36.6 | 10.2 | 4.4 | 78.8 | 28.0 | 4.4 | 0.0 |
            | Mamba2 | 98.6 | 61.4 | 31.0 | 5.4 | 98.4 | 55.8 | 14.2 | 0.0 | 42.2 | 4.2 | 0.0 | 0.0 |
            | DeltaNet | 96.8 | 98.8 | 98.6 | 71.4 | 47.2 | 15.4 | 12.8 | 5.4 | 46.2 | 20.0 | 1.6 | 0.0 |
            | Titans (LMM) | 99.8 | 98.4 | 98.2 | 96.2 | 100.0 | 99.8 | 93.4 | 80.2 | 90.4 | 89.4 | 85.8 | 80.6 |
            | Titans (MAC) | 99.2 | 98.8 | 99.0 | 98.4 | 99.6 | 98.2 | 97.6 | 97.4 | 98.2 | 98.2 | 95.6 | 95.2 |
            | Titans (MAG) | 99.4 | 98.0 | 97.4 | 97.4 | 99.2 | 98.8 | 97.2 | 98.6 | 98.0 | 98.0 | 90.2 | 88.2 |
            | Titans (MAL) | 98.8 | 98.6 | 98.8 | 97.8 | 99.8 | 98.1 | 96.8 | 96.4 | 98.0 | 97.4 | 92.0 | 90.4 |

            """)

    public static let babilong = ReproductionStudy(
        name: "babilong", training: "babilong", title: "Fig. 6: BABILong-style reasoning against length",
        about: "The paper fine-tunes a small MAC on BABILong (facts of bAbI qa1–qa5 scattered through book text, up to "
            + "millions of tokens) and shows it ahead of much larger models; the figure gives no numbers. Here every model "
            + "is trained on our qa1–qa5 stories scattered through the built-in prose (lengths from half the training "
            + "length to it, answer words scored) and tested to 16× the training length.",
        models: ["mac", "mag", "mal", "lmm", "sliding-window", "gated-delta-net"],
        quickModels: ["mag", "sliding-window"],
        trainingTasks: ReasoningTask.Family.allCases.map { ReasoningTask($0) }, trainingLength: 640, headline: false,
        paperTable: "Fig. 6 gives no numbers in the text (§5.4): fine-tuned Titans (MAC) stays ahead of Mamba, RMT, "
            + "Llama3.1-8B with retrieval and GPT-4 as the length grows.\n")

    public static let ablations = ReproductionStudy(
        name: "ablations", training: "needles", title: "Table 5: ablations of the LMM (long-context column)",
        about: "The paper's Table 5 takes one part at a time away from the 400M LMM and adds each kind of attention; its "
            + "long-context column is the mean of the 12 S-NIAH cells of Table 2. Here the same changes are trained on the "
            + "S-NIAH mix of the needles study (whose LMM, MAC, MAG and MAL are reused) and the column is the mean S-NIAH "
            + "accuracy at each tested length. The language-modelling and reasoning columns are not measured yet.",
        models: ["lmm", "lmm/linear-memory", "lmm/no-momentum", "lmm/no-forgetting", "lmm/no-convolution", "lmm/no-persistent",
                 "mac", "mag", "mal"],
        quickModels: ["lmm", "lmm/no-momentum"],
        trainingTasks: needles.trainingTasks, trainingLength: needles.trainingLength, headline: false,
        paperTable: """
            | model | language modelling ppl | reasoning acc | long context acc |
            | --- | --- | --- | --- |
            | LMM | 27.01 | 47.83 | 92.68 |
            | +Attn (MAC) | 26.67 | 48.65 | 97.95 |
            | +Attn (MAG) | 25.70 | 48.60 | 96.70 |
            | +Attn (MAL) | 25.91 | 47.87 | 96.91 |
            | Linear Memory | 28.49 | 46.97 | 85.34 |
            | w/o Convolution | 28.73 | 45.82 | 90.28 |
            | w/o Momentum | 28.98 | 45.49 | 87.12 |
            | w/o Weight Decay | 29.04 | 45.11 | 85.60 |
            | w/o Persistent Memory | 27.63 | 46.35 | 92.49 |

            """)

    /// The cells of this study at `scale`: each model and seed.
    public func cells(at scale: ReproductionScale) -> [ReproductionCell] {
        (scale.allModels ? models : quickModels).flatMap { name in
            seeds(scale).compactMap { seed in
                scale.model(name).map { config in
                    ReproductionCell(study: training, label: Self.label(name), modelName: name, configuration: config, seed: seed,
                                     trainingTasks: trainingTasks, evaluationTasks: trainingTasks, trainingLength: trainingLength)
                }
            }
        }
    }

    /// The seeds this study runs at `scale`.
    public func seeds(_ scale: ReproductionScale) -> [UInt64] { headline ? scale.seeds : Array(scale.seeds.prefix(1)) }

    /// A model's name in tables.
    static func label(_ name: String) -> String {
        [
            "lmm": "Titans (LMM)", "mac": "Titans (MAC)", "mag": "Titans (MAG)", "mal": "Titans (MAL)",
            "lmm/linear-memory": "LMM, linear memory", "lmm/no-momentum": "LMM without momentum",
            "lmm/no-forgetting": "LMM without forgetting (weight decay)", "lmm/no-convolution": "LMM without convolution",
            "lmm/no-persistent": "LMM without persistent memory",
        ][name] ?? name.replacingOccurrences(of: "-", with: " ")
    }
}
