/// Passive health of a route's targets on one worker (`CircuitPolicy`): consecutive retryable failures
/// open a target's circuit for the cooldown, during which requests skip it; after it, one request
/// probes it (half-open) and a success closes it. Loop-confined: each worker judges on its own.
struct CircuitBreakers {
    private struct State {
        var failures = 0
        var openUntil: UInt64 = 0
        var probeStarted: UInt64?
    }

    private var states: [ObjectIdentifier: State] = [:]

    /// Whether a request may go to `target` now; a request let through an expired open circuit is
    /// its probe (one at a time; a probe that never reports back frees the slot after a cooldown).
    mutating func allows(_ target: CompiledRoute, now: UInt64) -> Bool {
        let id = ObjectIdentifier(target)
        guard var s = states[id], s.openUntil > 0 else { return true }
        if now < s.openUntil { return false }
        if let started = s.probeStarted, now < started + UInt64(target.config.circuit.cooldown) { return false }
        s.probeStarted = now
        states[id] = s
        return true
    }

    /// A retryable failure (connect, closed before the head, a retryable status) on `target`.
    mutating func failed(_ target: CompiledRoute, now: UInt64) {
        let id = ObjectIdentifier(target)
        var s = states[id] ?? State()
        s.failures += 1
        s.probeStarted = nil
        if s.failures >= target.config.circuit.failures { s.openUntil = now + UInt64(target.config.circuit.cooldown) }
        states[id] = s
    }

    /// `target` answered: its circuit closes.
    mutating func succeeded(_ target: CompiledRoute) {
        if !states.isEmpty { states[ObjectIdentifier(target)] = nil }
    }

    func isOpen(_ target: CompiledRoute, now: UInt64) -> Bool {
        guard let s = states[ObjectIdentifier(target)] else { return false }
        return s.openUntil > now
    }

    mutating func removeAll() { states.removeAll() }
}
