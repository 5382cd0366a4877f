import Foundation
import XCTest

/// Certificates made with the `openssl` CLI once per test process, in a temporary directory:
/// a CA, a server certificate for `localhost` and `127.0.0.1` signed by it, an expired one signed by
/// the same CA, and an unrelated second CA. EC P-256 keys keep generation fast.
struct TestPKI: Sendable {
    let directory: String
    let caFile: String
    let otherCAFile: String
    let serverCertificate: String
    let serverKey: String
    let expiredCertificate: String
    let notACertificate: String

    /// Generated on first use (Swift's lazy `static let` is thread-safe).
    static let shared: Result<TestPKI, any Error> = Result { try TestPKI.generate() }

    static func load() throws -> TestPKI {
        try shared.get()
    }

    private static func generate() throws -> TestPKI {
        let directory = NSTemporaryDirectory() + "mini-proxy-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { directory + "/" + name }
        let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let caExtensions = [
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ]

        try openssl(
            ["req", "-x509"] + ecKey + [
                "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "30",
                "-subj", "/CN=mini-proxy test CA",
            ] + caExtensions)
        try openssl(
            ["req", "-x509"] + ecKey + [
                "-keyout", path("other-ca.key"), "-out", path("other-ca.pem"),
                "-days", "30", "-subj", "/CN=unrelated test CA",
            ] + caExtensions)
        try openssl(
            ["req", "-new"] + ecKey + [
                "-keyout", path("server.key"), "-out", path("server.csr"),
                "-subj", "/CN=localhost",
            ])
        try """
        basicConstraints=CA:FALSE
        keyUsage=critical,digitalSignature
        extendedKeyUsage=serverAuth
        subjectAltName=DNS:localhost,IP:127.0.0.1

        """.write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        let sign = [
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-extfile", path("server.ext"),
        ]
        try openssl(sign + ["-set_serial", "2", "-days", "30", "-out", path("server.pem")])
        // OpenSSL 3.0's `x509 -days -1` puts notAfter a day before notBefore (now): expired, with
        // no need for a fake clock.
        try openssl(sign + ["-set_serial", "3", "-days", "-1", "-out", path("expired.pem")])
        try "this is not a certificate\n".write(toFile: path("garbage.pem"), atomically: true, encoding: .utf8)

        return TestPKI(
            directory: directory, caFile: path("ca.pem"), otherCAFile: path("other-ca.pem"),
            serverCertificate: path("server.pem"), serverKey: path("server.key"),
            expiredCertificate: path("expired.pem"), notACertificate: path("garbage.pem"))
    }

    private struct CommandFailed: Error, CustomStringConvertible {
        var description: String
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(
                description: "openssl \(arguments.joined(separator: " ")) failed: "
                    + String(decoding: output, as: UTF8.self))
        }
    }
}
