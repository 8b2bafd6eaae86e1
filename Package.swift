// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Ember",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Ember", targets: ["Ember"]),
        .executable(name: "ember-tour", targets: ["ember-tour"]),
        .executable(name: "ember-bench", targets: ["ember-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .target(name: "CEmberShims"),
        .target(
            name: "Ember",
            dependencies: [
                "CEmberShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [
                // Async functions run on their caller's executor instead of hopping to
                // the generic one: no executor switch on every call into `receive`.
                .enableUpcomingFeature("NonisolatedNonsendingByDefault")
            ]
        ),
        .executableTarget(name: "ember-tour", dependencies: ["Ember", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "ember-bench", dependencies: ["Ember"],
            swiftSettings: [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .testTarget(
            name: "EmberTests",
            dependencies: [
                "Ember",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
