import Foundation
import XCTest

@testable import UVProxy

/// The JWT segment decoder against Foundation's, in both alphabets, padded and not.
final class Base64Tests: XCTestCase {
    func testMatchesFoundationForEveryLengthAndBothAlphabets() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...66 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let padded = Data(bytes).base64EncodedString()
                XCTAssertEqual(Base64.decode(padded), bytes, padded)
                let url = padded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                XCTAssertEqual(Base64.decode(url), bytes, url)
                let unpadded = url.replacingOccurrences(of: "=", with: "")
                XCTAssertEqual(Base64.decode(unpadded), bytes, unpadded)
            }
        }
    }

    func testRefusesWhatNoEncoderWrites() {
        XCTAssertEqual(Base64.decode(""), [])
        XCTAssertEqual(Base64.decode("TWE"), Array("Ma".utf8))
        XCTAssertEqual(Base64.decode("TWE="), Array("Ma".utf8))
        XCTAssertNil(Base64.decode("T"))  // one leftover character
        XCTAssertNil(Base64.decode("TWFuT"))
        XCTAssertNil(Base64.decode("TW=E"))  // data after padding
        XCTAssertNil(Base64.decode("TWE=="))  // more padding than the length needs
        XCTAssertNil(Base64.decode("TW="))  // padding that does not complete a quad
        XCTAssertNil(Base64.decode("TW E"))
        XCTAssertNil(Base64.decode("!!!"))
        XCTAssertNil(Base64.decode("TWE\n"))
    }
}
