// swift-tools-version:6.0
import PackageDescription

// Loop-confined state has one owner; dynamic exclusivity checks cost ~1k instructions per request.
let loopConfined: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "mini-proxy",
    products: [
        .executable(name: "mini-proxy", targets: ["MiniProxyCLI"]),
        .library(name: "UVProxy", targets: ["UVProxy"]),
        .library(name: "Providers", targets: ["Providers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            path: "Sources/CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            path: "Sources/COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CYAML",
            path: "Sources/CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CCompression",
            path: "Sources/CCompression",
            providers: [.apt(["zlib1g-dev", "libzstd-dev", "libbrotli-dev"])]
        ),
        // glibc's memrchr for Providers (a header of declarations, nothing to link beyond libc).
        .systemLibrary(name: "CByteSearch", path: "Sources/CByteSearch"),
        // API formats and translations: bytes in, bytes out. No libuv, no OpenSSL.
        .target(
            name: "Providers",
            dependencies: ["CByteSearch"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // The event loop (timers, async wake-ups, signals, process spawn), TCP streams and listeners, TLS over
        // memory BIOs: the one target that imports libuv and OpenSSL (privately: no C type in its API).
        .target(
            name: "UVNet",
            dependencies: ["CLibUV", "COpenSSL"],
            swiftSettings: loopConfined
        ),
        // The HTTP/1.1 codec: incremental parsers, chunked codec, writer. No I/O, no dependency (the fuzz
        // targets compile it alone, mk/fuzz.mk). What the proxy calls per header (head lookups, byte
        // helpers, the writer) is `public @inlinable`: Swift 6.3 inlines and specializes across modules only
        // public code; `package` functions, even `@inlinable` ones, stay calls (unspecialized for generics).
        .target(name: "HTTP1", swiftSettings: loopConfined),
        // The proxy: server connections, routing, the exchange, upstream pools, config, auth, observability.
        .target(
            name: "UVProxy",
            dependencies: ["UVNet", "HTTP1", "CYAML", "CCompression", "Providers"],
            swiftSettings: loopConfined
        ),
        // The bundled mock upstream (`mini-proxy mock`), strict like Bedrock.
        .target(
            name: "MockGateway",
            dependencies: ["UVProxy", "UVNet", "HTTP1", "Providers"],
            swiftSettings: loopConfined
        ),
        .executableTarget(
            name: "MiniProxyCLI",
            dependencies: [
                "UVProxy", "MockGateway", "Providers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Idle memory (issue 4): lld packs the ~38k relative relocations of a static Swift stdlib
            // into a few KB of DT_RELR (glibc >= 2.36) instead of 900 KB of RELA that the loader reads at
            // every start; nothing needs the executable's own symbols exported; and the functions that
            // start-up and an idle worker run are placed together (link-order/startup-order.py says why).
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                        "-Xlinker", "--no-export-dynamic",
                        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/link-order/startup-order.txt",
                        "-Xlinker", "--no-warn-symbol-ordering",
                    ],
                    .when(configuration: .release))
            ]
        ),
        .testTarget(name: "ProvidersTests", dependencies: ["Providers"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "UVProxyTests",
            dependencies: ["UVProxy", "UVNet", "HTTP1", "MockGateway", "Providers", "COpenSSL", "CCompression"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
