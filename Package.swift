// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Titans",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Titans", targets: ["TitansTensor", "TitansNN", "Titans"]),
        .executable(name: "titans", targets: ["TitansCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        // Tensor core: N-d tensors, ops, reverse-mode autodiff, CPU backend. Knows nothing of neural networks.
        .target(
            name: "TitansTensor",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")]
        ),
        // Neural-network building blocks: modules with named parameters, layers, safetensors. Knows nothing of Titans.
        .target(name: "TitansNN", dependencies: ["TitansTensor"]),
        // Titans itself: the neural long-term memory, persistent memory, the architectures.
        .target(name: "Titans", dependencies: ["TitansNN"]),
        .executableTarget(
            name: "TitansCLI",
            dependencies: [
                "Titans",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TitansTensorTests", dependencies: ["TitansTensor"]),
        .testTarget(name: "TitansNNTests", dependencies: ["TitansNN"]),
        .testTarget(name: "TitansTests", dependencies: ["Titans"]),
    ],
    swiftLanguageModes: [.v5]
)
