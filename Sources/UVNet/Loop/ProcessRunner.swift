internal import CLibUV
import Glibc

/// How a command run ended.
package enum ProcessOutcome {
    case exited(status: Int64, stdout: [UInt8], stderr: [UInt8])
    case signaled(Int32)
    case timedOut
    case failedToStart(UVError)
}

/// Runs one command with `uv_spawn`, collecting stdout and stderr (bounded), killing it at the
/// timeout. Loop-confined; `done` is called exactly once on the loop.
package final class ProcessRunner {
    private let loop: EventLoop
    private let process = UnsafeMutablePointer<uv_process_t>.allocate(capacity: 1)
    private let outPipe = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
    private let errPipe = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
    private var stdout: [UInt8] = []
    private var stderr: [UInt8] = []
    private let maxOutput = 64 * 1024
    private var exitStatus: Int64?
    private var termSignal: Int32 = 0
    private var openHandles = 0
    private var timedOut = false
    private var finished = false
    private var timer: Timer?
    private var done: ((ProcessOutcome) -> Void)?
    private var selfRetain: ProcessRunner?

    package init(loop: EventLoop) { self.loop = loop }

    deinit {
        process.deallocate()
        outPipe.deallocate()
        errPipe.deallocate()
    }

    package func run(_ argv: [String], timeoutMs: UInt64, environment: [String]? = nil, _ done: @escaping (ProcessOutcome) -> Void) {
        self.done = done
        selfRetain = self  // Lifetime: released in finish() once every handle closed.
        guard let program = argv.first else {
            complete(.failedToStart(UVError(Int32(UV_EINVAL.rawValue))))
            return
        }
        uv_pipe_init(loop.handle, outPipe, 0)
        uv_pipe_init(loop.handle, errPipe, 0)
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        outPipe.pointee.data = opaque
        errPipe.pointee.data = opaque
        process.pointee.data = opaque
        openHandles = 2

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var stdio = [uv_stdio_container_t](repeating: uv_stdio_container_t(), count: 3)
        stdio[0].flags = UV_IGNORE
        stdio[1].flags = uv_stdio_flags(UV_CREATE_PIPE.rawValue | UV_WRITABLE_PIPE.rawValue)
        stdio[1].data.stream = asStream(outPipe)
        stdio[2].flags = uv_stdio_flags(UV_CREATE_PIPE.rawValue | UV_WRITABLE_PIPE.rawValue)
        stdio[2].data.stream = asStream(errPipe)
        let rc: Int32 = program.withCString { file in
            cArgs.withUnsafeMutableBufferPointer { args in
                stdio.withUnsafeMutableBufferPointer { stdioPtr in
                    var options = uv_process_options_t()
                    options.exit_cb = processExitCallback
                    options.file = file
                    options.args = args.baseAddress
                    options.stdio_count = 3
                    options.stdio = stdioPtr.baseAddress
                    // Its own process group, so a timeout kills the children too (`sh -c 'sleep'`).
                    options.flags = UInt32(UV_PROCESS_DETACHED.rawValue)
                    return uv_spawn(loop.handle, process, &options)
                }
            }
        }
        if rc < 0 {
            // uv_spawn leaves the process handle initialised; it must be closed too.
            openHandles += 1
            uv_close(asHandle(process), processHandleCloseCallback)
            uv_close(asHandle(outPipe), processHandleCloseCallback)
            uv_close(asHandle(errPipe), processHandleCloseCallback)
            complete(.failedToStart(UVError(rc)))
            return
        }
        openHandles += 1
        uv_read_start(asStream(outPipe), processAllocCallback, processReadCallback)
        uv_read_start(asStream(errPipe), processAllocCallback, processReadCallback)
        let t = Timer(loop: loop)
        timer = t
        t.keepLoopAlive()
        t.start(after: timeoutMs) { [weak self] in
            guard let self, self.exitStatus == nil else { return }
            self.timedOut = true
            kill(-self.process.pointee.pid, SIGKILL)
            uv_process_kill(self.process, SIGKILL)
            // Answer now: a grandchild could still hold the pipes open.
            self.complete(.timedOut)
            for pipe in [self.outPipe, self.errPipe] where uv_is_closing(asHandle(pipe)) == 0 {
                uv_read_stop(asStream(pipe))
                uv_close(asHandle(pipe), processHandleCloseCallback)
            }
        }
    }

    fileprivate func read(_ pipe: UnsafeMutablePointer<uv_stream_t>, _ nread: Int, _ base: UnsafeMutablePointer<CChar>?) {
        if nread < 0 {
            uv_read_stop(pipe)
            uv_close(asHandle(pipe), processHandleCloseCallback)
            return
        }
        guard nread > 0, let base else { return }
        let bytes = UnsafeRawBufferPointer(start: base, count: nread)
        let isOut = UnsafeMutableRawPointer(pipe) == UnsafeMutableRawPointer(mutating: UnsafeRawPointer(outPipe))
        if isOut {
            if stdout.count < maxOutput { stdout.append(contentsOf: bytes.prefix(maxOutput - stdout.count)) }
        } else if stderr.count < maxOutput {
            stderr.append(contentsOf: bytes.prefix(maxOutput - stderr.count))
        }
    }

    fileprivate func exited(status: Int64, signal: Int32) {
        exitStatus = status
        termSignal = signal
        timer?.close()
        timer = nil
        uv_close(asHandle(process), processHandleCloseCallback)
    }

    fileprivate func handleClosed() {
        openHandles -= 1
        guard openHandles == 0 else { return }
        if finished {
            selfRetain = nil
            return
        }
        if timedOut {
            complete(.timedOut)
        } else if termSignal != 0 {
            complete(.signaled(termSignal))
        } else {
            complete(.exited(status: exitStatus ?? -1, stdout: stdout, stderr: stderr))
        }
    }

    private func complete(_ outcome: ProcessOutcome) {
        guard !finished else { return }
        finished = true
        let d = done
        done = nil
        d?(outcome)
        if openHandles == 0 { selfRetain = nil }
    }
}

private func runner(_ h: UnsafeMutableRawPointer?) -> ProcessRunner? {
    guard let h, let data = h.assumingMemoryBound(to: uv_handle_t.self).pointee.data else { return nil }
    return Unmanaged<ProcessRunner>.fromOpaque(data).takeUnretainedValue()
}

private func processAllocCallback(_ h: UnsafeMutablePointer<uv_handle_t>?, _ size: Int, _ buf: UnsafeMutablePointer<uv_buf_t>?) {
    guard let h, let buf, let r = runner(h) else { return }
    _ = r
    let rb = Unmanaged<EventLoop>.fromOpaque(h.pointee.loop.pointee.data).takeUnretainedValue().readBuffer
    buf.pointee = uv_buf_t(base: rb.baseAddress!.assumingMemoryBound(to: CChar.self), len: rb.count)
}

private func processReadCallback(_ s: UnsafeMutablePointer<uv_stream_t>?, _ nread: Int, _ buf: UnsafePointer<uv_buf_t>?) {
    guard let s, let r = runner(s) else { return }
    r.read(s, nread, buf?.pointee.base)
}

private func processExitCallback(_ p: UnsafeMutablePointer<uv_process_t>?, _ status: Int64, _ signal: Int32) {
    guard let p, let r = runner(p) else { return }
    r.exited(status: status, signal: signal)
}

private func processHandleCloseCallback(_ h: UnsafeMutablePointer<uv_handle_t>?) {
    guard let h, let r = runner(h) else { return }
    r.handleClosed()
}
