// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Titans",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Titans", targets: ["TitansTensor", "TitansNN", "Titans", "TitansData", "TitansEval", "TitansTraining"]),
        .executable(name: "titans", targets: ["TitansCLI"]),
        .executable(name: "titans-fuzz", targets: ["TitansFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        // `swift package generate-documentation` (scripts/docs); nothing links against it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // Kernels in C for instruction sets chosen at run time (AVX2 and FMA: matrix multiply; exp, sigmoid, SiLU; a row
        // times small matrices).
        .target(name: "CTitansKernels"),
        // Tensor core: N-d tensors, ops, reverse-mode autodiff, CPU backend. Knows nothing of neural networks.
        .target(
            name: "TitansTensor",
            dependencies: ["CTitansKernels", .product(name: "RealModule", package: "swift-numerics")]
        ),
        // Neural-network building blocks: modules with named parameters, layers, safetensors. Knows nothing of Titans.
        .target(name: "TitansNN", dependencies: ["TitansTensor"]),
        // Titans itself: the neural long-term memory, persistent memory, the architectures.
        .target(name: "Titans", dependencies: ["TitansNN"], exclude: ["Memory/README.md"]),
        // Data: byte-level datasets from files, synthetic long-context tasks. Knows nothing of models.
        .target(name: "TitansData", dependencies: ["TitansTensor"]),
        // Evaluation: metrics and reports (Markdown tables, SVG charts). Knows nothing of the command line.
        .target(name: "TitansEval", dependencies: ["Titans", "TitansData"]),
        // Training: the loop (AdamW, schedule, clipping, accumulation), validation, checkpoints and resumption.
        .target(name: "TitansTraining", dependencies: ["Titans", "TitansData", "TitansEval"]),
        .executableTarget(
            name: "TitansCLI",
            dependencies: [
                "Titans",
                "TitansData",
                "TitansEval",
                "TitansTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The fuzzer of the file readers (scripts/fuzz): libFuzzer's entry point, or a plain mutation loop.
        .executableTarget(name: "TitansFuzz", dependencies: ["TitansTraining"]),
        .testTarget(name: "TitansTensorTests", dependencies: ["TitansTensor"]),
        .testTarget(name: "TitansNNTests", dependencies: ["TitansNN"]),
        .testTarget(name: "TitansTests", dependencies: ["Titans"], exclude: ["Fixtures"]),
        .testTarget(name: "TitansDataTests", dependencies: ["TitansData"], exclude: ["Fixtures"]),
        .testTarget(name: "TitansEvalTests", dependencies: ["TitansEval"]),
        .testTarget(name: "TitansTrainingTests", dependencies: ["TitansTraining"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
