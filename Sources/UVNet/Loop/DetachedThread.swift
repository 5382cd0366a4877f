internal import CLibUV
import Glibc

/// Starts detached pthreads for the worker and mock loops (Foundation's `Thread` without Foundation).
/// Whoever needs to know when the thread is done opens a `Latch` at the end of `body`.
package enum DetachedThread {
    /// Runs `body` on a new thread named `name` (at most 15 bytes show in `top`) with `stackSize`
    /// bytes of stack. Fails only when the system refuses a thread.
    package static func start(name: String, stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) throws(UVError) {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attr, max(stackSize, Int(PTHREAD_STACK_MIN)))
        // Lifetime: retained for the new thread, released by `detachedThreadMain`.
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attr, detachedThreadMain, box)
        if rc != 0 {
            Unmanaged<ThreadBody>.fromOpaque(box).release()
            throw UVError(-rc)
        }
    }
}

private final class ThreadBody {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

private func detachedThreadMain(_ arg: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let arg else { return nil }
    let thread = Unmanaged<ThreadBody>.fromOpaque(arg).takeRetainedValue()
    _ = CLibUV_set_thread_name(thread.name)
    thread.body()
    return nil
}
