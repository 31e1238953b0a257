// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Titans",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Titans", targets: ["TitansTensor"]),
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
        .executableTarget(
            name: "TitansCLI",
            dependencies: [
                "TitansTensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TitansTensorTests", dependencies: ["TitansTensor"]),
    ],
    swiftLanguageModes: [.v5]
)
