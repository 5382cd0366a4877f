import XCTest
@testable import UVProxy

/// The exchange's control without sockets: every (state, event) pair, every fault, every timeout,
/// with a clock moved by hand.
final class ExchangeStateMachineTests: XCTestCase {
    struct FakeEnv: ExchangeEnvironment {
        var now: UInt64 = 10_000
        var wallNow = 1_700_000_000
        var jitterValue = 1.0
        /// What `failed(target:)` answers, in order (nil: no next target).
        var nextTargets: [Int?] = []
        var failedTargets: [Int] = []
        var retryPolicy = RetryPolicy()
        var canRefresh = true
        func jitter() -> Double { jitterValue }
        func policy(target index: Int) -> RetryPolicy { retryPolicy }
        func credentialCanRefresh(target index: Int) -> Bool { canRefresh }
        mutating func failed(target index: Int) -> Int? {
            failedTargets.append(index)
            return nextTargets.isEmpty ? nil : nextTargets.removeFirst()
        }
    }

    typealias M = ExchangeStateMachine<FakeEnv>

    static let target = M.Target(firstByteMs: 1_000, idleMs: 500)

    func machine(fallbacks: Int = 0, bodyStreamed: Bool = false, passthrough: Bool = false,
                 policy: RetryPolicy = RetryPolicy(), canRefresh: Bool = true) -> M {
        var env = FakeEnv()
        env.retryPolicy = policy
        env.canRefresh = canRefresh
        var m = M(env: env, target: Self.target, fallbacks: fallbacks, bodyStreamed: bodyStreamed,
                  passthrough: passthrough, startedAt: 10_000)
        m.assertsOnIllegal = false
        m.logsIllegal = false
        return m
    }

    // MARK: Reaching each state

    enum Named: String, CaseIterable {
        case preparing, connecting, waitingHeadFresh, waitingHeadReused, bodyCollect, bodyCandidate,
             bodyTranslate, bodyTranslatePaused, bodyRaw, waitingRetry, done
    }

    func reach(_ n: Named) -> M {
        var m = machine(passthrough: n == .bodyRaw)
        switch n {
        case .preparing: return m
        case .done:
            _ = m.handle(.finished(status: 200))
            return m
        default: break
        }
        _ = m.handle(.credential(ok: true))
        if n == .connecting { return m }
        if n == .waitingRetry {
            _ = m.handle(.connectFailed(tls: false))
            return m
        }
        _ = m.handle(.connected(reused: n == .waitingHeadReused))
        switch n {
        case .waitingHeadFresh, .waitingHeadReused: return m
        case .bodyCollect: _ = m.handle(.head(status: 200, isStream: false, shouldRetry: nil))
        case .bodyCandidate: _ = m.handle(.head(status: 429, isStream: false, shouldRetry: nil))
        case .bodyTranslate: _ = m.handle(.head(status: 200, isStream: true, shouldRetry: nil))
        case .bodyTranslatePaused:
            _ = m.handle(.head(status: 200, isStream: true, shouldRetry: nil))
            _ = m.handle(.clientBackedUp)
        case .bodyRaw: _ = m.handle(.head(status: 200, isStream: false, shouldRetry: nil))
        default: XCTFail("\(n)")
        }
        return m
    }

    static let events: [M.Event] = [
        .credential(ok: true), .credential(ok: false), .connected(reused: false), .connected(reused: true),
        .connectFailed(tls: false), .connectFailed(tls: true),
        .head(status: 200, isStream: false, shouldRetry: nil), .bytesRead,
        .ended(reusable: true, retryAfter: nil, shouldRetry: nil), .rejectionLearned(reusable: true),
        .closed(beforeAnyByte: true), .closed(beforeAnyByte: false),
        .clientBackedUp, .clientWritable, .clientGone, .streamStarted, .deadline, .retryTimerFired,
        .finished(status: 200),
    ]

    static let illegal = M.Actions(.release(reusable: false), .answer(.illegal))

    /// The expected (state, actions) after each event, for every named state: the whole table.
    func expected(_ n: Named, _ e: M.Event, from m: M) -> (M.State, M.Actions) {
        let s = m.state
        let now = m.env.now
        let fresh: M.State = .waitingHead(sentAt: now, reused: false)
        switch (n, e) {
        // Any state but done
        case (.done, .finished), (.done, .clientGone), (.done, .deadline), (.done, .retryTimerFired),
             (.done, .clientBackedUp), (.done, .clientWritable), (.done, .streamStarted), (.done, .credential),
             (.done, .connectFailed), (.done, .bytesRead), (.done, .closed):
            return (s, .none)
        case (.done, .connected): return (s, M.Actions(.release(reusable: false)))
        case (_, .finished(let status)): return (.done(status: status), .none)
        case (_, .clientGone): return (s, M.Actions(.release(reusable: false), .abandon))
        case (_, .streamStarted): return (s, .none)
        // Credentials and connections
        case (.preparing, .credential(true)): return (.connecting, M.Actions(.connect(pooled: true)))
        case (.preparing, .credential(false)): return (s, M.Actions(.answer(.credential)))
        case (.connecting, .connected(let reused)):
            return (.waitingHead(sentAt: now, reused: reused), M.Actions(.sendRequest, .armDeadline(1_000)))
        case (.connecting, .connectFailed(false)):
            return (.waitingRetry(until: now + 250), M.Actions(.release(reusable: false), .startRetryTimer(ms: 250, kind: .connect)))
        case (.connecting, .connectFailed(true)): return (s, M.Actions(.answer(.connect)))
        // The response
        case (.waitingHeadFresh, .bytesRead), (.waitingHeadReused, .bytesRead): return (s, .none)
        case (.waitingHeadFresh, .head), (.waitingHeadReused, .head):
            return (.body(.collect, lastReadAt: now, paused: false, retryCandidate: false), M.Actions(.armDeadline(500)))
        case (.waitingHeadReused, .closed(true)):
            return (.connecting, M.Actions(.release(reusable: false), .connect(pooled: false)))
        case (.waitingHeadFresh, .closed), (.waitingHeadReused, .closed(false)):
            return (.waitingRetry(until: now + 250), M.Actions(.release(reusable: false), .startRetryTimer(ms: 250, kind: .closedBeforeHead)))
        case (.waitingHeadFresh, .deadline), (.waitingHeadReused, .deadline):
            return (s, M.Actions(.answer(.firstByteTimeout(ms: 1_000))))
        case (.bodyCollect, .bytesRead), (.bodyCandidate, .bytesRead), (.bodyTranslate, .bytesRead),
             (.bodyTranslatePaused, .bytesRead), (.bodyRaw, .bytesRead):
            return (s, .none)  // lastReadAt = now, unchanged clock
        case (.bodyCollect, .ended), (.bodyTranslate, .ended), (.bodyTranslatePaused, .ended), (.bodyRaw, .ended):
            return (s, M.Actions(.release(reusable: true), .respond))
        case (.bodyCandidate, .ended):
            return (.waitingRetry(until: now + 250), M.Actions(.release(reusable: true), .startRetryTimer(ms: 250, kind: .status)))
        case (.bodyCollect, .rejectionLearned), (.bodyCandidate, .rejectionLearned):
            return (.connecting, M.Actions(.release(reusable: true), .resend))
        case (.bodyCollect, .closed), (.bodyCandidate, .closed), (.bodyTranslate, .closed),
             (.bodyTranslatePaused, .closed), (.bodyRaw, .closed):
            return (s, M.Actions(.answer(.midResponse)))
        // Backpressure
        case (.bodyTranslate, .clientBackedUp), (.bodyRaw, .clientBackedUp):
            guard case .body(let mode, let last, false, let c) = s else { return (s, Self.illegal) }
            return (.body(mode, lastReadAt: last, paused: true, retryCandidate: c), M.Actions(.pauseUpstream))
        case (.bodyTranslatePaused, .clientWritable):
            return (.body(.translateStream, lastReadAt: now, paused: false, retryCandidate: false), M.Actions(.resumeUpstream))
        case (_, .clientBackedUp), (_, .clientWritable): return (s, .none)
        // Deadlines
        case (.bodyTranslatePaused, .deadline): return (s, M.Actions(.armDeadline(500)))
        case (.bodyCollect, .deadline), (.bodyCandidate, .deadline), (.bodyTranslate, .deadline), (.bodyRaw, .deadline):
            return (s, M.Actions(.answer(.idleTimeout(ms: 500))))  // the clock did not move: see testIdleDeadline
        case (_, .deadline): return (s, .none)
        case (.waitingRetry, .retryTimerFired): return (.connecting, M.Actions(.connect(pooled: true)))
        default:
            _ = fresh
            return (s, Self.illegal)
        }
    }

    func testEveryStateAndEvent() {
        var pairs = 0
        for n in Named.allCases {
            for e in Self.events {
                var m = reach(n)
                // The deadline cases for a body assume the idle period passed.
                if e == .deadline, m.mode != nil, !m.isPaused { m.env.now += 500 }
                let (state, actions) = expected(n, e, from: m)
                let got = m.handle(e)
                XCTAssertEqual(got, actions, "\(n) + \(e)")
                if actions == Self.illegal { continue }  // the shell ends the exchange; the state is left as it was
                XCTAssertEqual(m.state, state, "\(n) + \(e)")
                pairs += 1
            }
        }
        XCTAssertEqual(pairs + illegalCount(), Named.allCases.count * Self.events.count)
    }

    func illegalCount() -> Int {
        var n = 0
        for s in Named.allCases {
            for e in Self.events {
                var m = reach(s)
                if e == .deadline, m.mode != nil, !m.isPaused { m.env.now += 500 }
                if m.handle(e) == Self.illegal { n += 1 }
            }
        }
        return n
    }

    // MARK: Body modes

    func testBodyModes() {
        var m = reach(.waitingHeadFresh)
        XCTAssertEqual(m.handle(.head(status: 200, isStream: true, shouldRetry: nil)), M.Actions(.startStream, .armDeadline(500)))
        XCTAssertEqual(m.mode, .translateStream)
        XCTAssertTrue(m.clientStreamStarted)

        m = reach(.waitingHeadFresh)
        _ = m.handle(.streamStarted)  // pings started the stream: not again
        XCTAssertEqual(m.handle(.head(status: 200, isStream: true, shouldRetry: nil)), M.Actions(.armDeadline(500)))

        m = reach(.waitingHeadFresh)
        XCTAssertEqual(m.handle(.head(status: 500, isStream: true, shouldRetry: nil)), M.Actions(.armDeadline(500)))
        XCTAssertEqual(m.mode, .collect, "an error stream is collected")
        XCTAssertFalse(m.retryCandidate, "500 is not in the default statuses")

        m = reach(.waitingHeadFresh)
        _ = m.handle(.head(status: 500, isStream: false, shouldRetry: "true"))
        XCTAssertTrue(m.retryCandidate, "x-should-retry: true")

        var raw = machine(passthrough: true)
        _ = raw.handle(.credential(ok: true))
        _ = raw.handle(.connected(reused: false))
        XCTAssertEqual(raw.handle(.head(status: 429, isStream: false, shouldRetry: nil)), M.Actions(.armDeadline(500)))
        XCTAssertEqual(raw.mode, .collect, "a pass-through 429 is held back for a retry")

        var streamed = machine(bodyStreamed: true, passthrough: true)
        _ = streamed.handle(.credential(ok: true))
        _ = streamed.handle(.connected(reused: false))
        XCTAssertEqual(streamed.handle(.head(status: 429, isStream: false, shouldRetry: nil)), M.Actions(.startStream, .armDeadline(500)))
        XCTAssertEqual(streamed.mode, .rawStream, "a streamed request body cannot be sent again")
    }

    // MARK: Faults

    func testAuthRefreshOnce() {
        var m = reach(.waitingHeadFresh)
        _ = m.handle(.head(status: 401, isStream: true, shouldRetry: nil))
        XCTAssertEqual(m.mode, .collect)
        XCTAssertEqual(m.handle(.ended(reusable: true, retryAfter: nil, shouldRetry: nil)),
                       M.Actions(.release(reusable: true), .fetchCredential(rejected: true)))
        XCTAssertEqual(m.state, .preparing)
        XCTAssertEqual(m.attempt.retries, 1)
        XCTAssertTrue(m.attempt.retried.auth)
        XCTAssertEqual(m.attempt.number, 1, "a token refresh is not a try of the policy")
        _ = m.handle(.credential(ok: true))
        _ = m.handle(.connected(reused: true))
        _ = m.handle(.head(status: 401, isStream: false, shouldRetry: nil))
        XCTAssertEqual(m.handle(.ended(reusable: true, retryAfter: nil, shouldRetry: nil)), M.Actions(.release(reusable: true), .respond),
                       "the second 401 is answered")

        var fixed = machine(canRefresh: false)
        _ = fixed.handle(.credential(ok: true))
        _ = fixed.handle(.connected(reused: false))
        _ = fixed.handle(.head(status: 401, isStream: false, shouldRetry: nil))
        XCTAssertEqual(fixed.handle(.ended(reusable: true, retryAfter: nil, shouldRetry: nil)), M.Actions(.release(reusable: true), .respond))
    }

    func testRejectionOnce() {
        var m = reach(.waitingHeadFresh)
        _ = m.handle(.head(status: 400, isStream: false, shouldRetry: nil))
        XCTAssertTrue(m.mayLearnFromRejection)
        XCTAssertEqual(m.handle(.rejectionLearned(reusable: false)), M.Actions(.release(reusable: false), .resend))
        XCTAssertEqual(m.state, .connecting)
        _ = m.handle(.connected(reused: false))
        _ = m.handle(.head(status: 400, isStream: false, shouldRetry: nil))
        XCTAssertFalse(m.mayLearnFromRejection)
        XCTAssertEqual(m.handle(.rejectionLearned(reusable: false)), Self.illegal, "only once")
    }

    func testStaleConnectionOnce() {
        var m = reach(.waitingHeadReused)
        XCTAssertEqual(m.handle(.closed(beforeAnyByte: true)), M.Actions(.release(reusable: false), .connect(pooled: false)))
        _ = m.handle(.connected(reused: true))
        m.env.now += 3_000  // a late close: not retried by the policy either
        XCTAssertEqual(m.handle(.closed(beforeAnyByte: true)), M.Actions(.answer(.closedBeforeHead)))
        XCTAssertEqual(m.attempt.retries, 1)
    }

    func testQuickCloseRetriesLateCloseAnswers() {
        var m = reach(.waitingHeadFresh)
        m.env.now += 2_000
        XCTAssertEqual(m.handle(.closed(beforeAnyByte: false)),
                       M.Actions(.release(reusable: false), .startRetryTimer(ms: 250, kind: .closedBeforeHead)), "2 s: still quick")
        m = reach(.waitingHeadFresh)
        m.env.now += 2_001
        XCTAssertEqual(m.handle(.closed(beforeAnyByte: false)), M.Actions(.answer(.closedBeforeHead)))
    }

    func testPolicyRunsOutAndSaysWhy() {
        var m = reach(.connecting)
        m.env.jitterValue = 0
        XCTAssertEqual(m.handle(.connectFailed(tls: false)), M.Actions(.release(reusable: false), .startRetryTimer(ms: 125, kind: .connect)),
                       "backoff 250 at jitter 0: half")
        XCTAssertEqual(m.state, .waitingRetry(until: 10_125))
        m.env.now = 10_125
        XCTAssertEqual(m.handle(.retryTimerFired), M.Actions(.connect(pooled: true)))
        m.env.jitterValue = 1
        XCTAssertEqual(m.handle(.connectFailed(tls: false)), M.Actions(.release(reusable: false), .startRetryTimer(ms: 500, kind: .connect)))
        _ = m.handle(.retryTimerFired)
        XCTAssertEqual(m.attempt.number, 3)
        XCTAssertEqual(m.handle(.connectFailed(tls: false)), M.Actions(.answer(.connect)))
        XCTAssertEqual(m.gaveUpWhy, "gave up after 3 tries")
        XCTAssertEqual(m.attempt.retries, 2)
    }

    func testRetryAfterPastTheDeadline() {
        var m = reach(.waitingHeadFresh)
        _ = m.handle(.head(status: 429, isStream: false, shouldRetry: nil))
        XCTAssertEqual(m.handle(.ended(reusable: true, retryAfter: "60", shouldRetry: nil)), M.Actions(.release(reusable: true), .respond))
        XCTAssertTrue(m.gaveUpWhy?.contains("deadline") == true)
        m = reach(.waitingHeadFresh)
        _ = m.handle(.head(status: 429, isStream: false, shouldRetry: nil))
        XCTAssertEqual(m.handle(.ended(reusable: true, retryAfter: "2", shouldRetry: nil)),
                       M.Actions(.release(reusable: true), .startRetryTimer(ms: 2_000, kind: .status)))
    }

    func testLastTryIsNotACandidate() {
        var p = RetryPolicy()
        p.attempts = 1
        var m = machine(policy: p)
        _ = m.handle(.credential(ok: true))
        _ = m.handle(.connected(reused: false))
        _ = m.handle(.head(status: 429, isStream: false, shouldRetry: nil))
        XCTAssertFalse(m.retryCandidate)
        XCTAssertEqual(m.handle(.ended(reusable: true, retryAfter: nil, shouldRetry: nil)), M.Actions(.release(reusable: true), .respond))
    }

    func testFallbackFirstThenPolicy() {
        var m = machine(fallbacks: 2)
        m.env.nextTargets = [2, nil]
        _ = m.handle(.credential(ok: true))
        XCTAssertEqual(m.handle(.connectFailed(tls: false)), M.Actions(.release(reusable: false), .fallBack(target: 2)),
                       "the next open circuit, at once")
        XCTAssertEqual(m.state, .preparing)
        XCTAssertEqual(m.attempt.targetIndex, 2)
        _ = m.handle(.credential(ok: true))
        _ = m.handle(.connected(reused: false))
        _ = m.handle(.head(status: 503, isStream: false, shouldRetry: nil))
        XCTAssertTrue(m.retryCandidate)
        XCTAssertEqual(m.handle(.ended(reusable: false, retryAfter: nil, shouldRetry: nil)),
                       M.Actions(.release(reusable: false), .startRetryTimer(ms: 500, kind: .status)), "no fallback left: the policy (attempt 2)")
        XCTAssertEqual(m.env.failedTargets, [0, 2])
        XCTAssertEqual(m.attempt.retries, 2)
    }

    func testStreamedBodyIsNeverRetried() {
        var m = machine(bodyStreamed: true, passthrough: true)
        _ = m.handle(.credential(ok: true))
        XCTAssertEqual(m.handle(.connectFailed(tls: false)), M.Actions(.answer(.connect)))
        XCTAssertNil(m.reinitRequest(.connect))
    }

    func testTLSFailureIsNotRetried() {
        var m = reach(.connecting)
        XCTAssertEqual(m.handle(.connectFailed(tls: true)), M.Actions(.answer(.connect)))
        XCTAssertEqual(m.attempt.number, 1)
    }

    func testCredentialFailure() {
        var m = machine()
        XCTAssertEqual(m.start(), .fetchCredential(rejected: false))
        XCTAssertEqual(m.handle(.credential(ok: false)), M.Actions(.answer(.credential)))
    }

    // MARK: Timeouts

    func testFirstByteDeadline() {
        var m = reach(.waitingHeadFresh)
        m.env.now += 1_000
        XCTAssertEqual(m.handle(.deadline), M.Actions(.answer(.firstByteTimeout(ms: 1_000))))
        var off = machine()
        off.target.firstByteMs = 0
        _ = off.handle(.credential(ok: true))
        XCTAssertEqual(off.handle(.connected(reused: false)), M.Actions(.sendRequest, .armDeadline(0)))
        XCTAssertEqual(off.handle(.deadline), .none, "no first-byte deadline")
    }

    func testIdleDeadline() {
        var m = reach(.bodyTranslate)  // head at 10_000
        m.env.now = 10_300
        _ = m.handle(.bytesRead)
        m.env.now = 10_500
        XCTAssertEqual(m.handle(.deadline), M.Actions(.armDeadline(300)), "bytes came 200 ms ago: the rest of the period")
        m.env.now = 10_800
        XCTAssertEqual(m.handle(.deadline), M.Actions(.answer(.idleTimeout(ms: 500))))
    }

    func testPausedStreamIsNotIdle() {
        var m = reach(.bodyTranslatePaused)
        m.env.now += 10_000
        XCTAssertEqual(m.handle(.deadline), M.Actions(.armDeadline(500)), "the client is the slow side")
        XCTAssertEqual(m.handle(.clientWritable), M.Actions(.resumeUpstream))
        XCTAssertEqual(m.handle(.deadline), M.Actions(.answer(.idleTimeout(ms: 500))))
    }

    func testDeadlineOfAnEndedTryIsIgnored() {
        var m = reach(.waitingRetry)
        m.env.now += 100_000
        XCTAssertEqual(m.handle(.deadline), .none)
    }

    func testBackpressureNeedsAStartedStream() {
        var m = reach(.bodyCollect)
        XCTAssertEqual(m.handle(.clientBackedUp), .none, "a collected body sends nothing yet")
        XCTAssertFalse(m.isPaused)
    }

    func testPingsStopWithTheResponse() {
        XCTAssertTrue(reach(.waitingHeadFresh).mayPing)
        XCTAssertTrue(reach(.bodyCollect).mayPing)
        XCTAssertFalse(reach(.bodyTranslate).mayPing)
        XCTAssertFalse(reach(.done).mayPing)
    }
}
