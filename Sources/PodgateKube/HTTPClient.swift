import CCurl

/// A finished response: the status, and the body unless it was streamed.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]
    public init(status: Int, body: [UInt8]) { self.status = status; self.body = body }
}

/// Time limits for one API server. A watch has no total timeout (the server
/// ends it); it is cut when no byte arrives for `stallSeconds`, which must
/// exceed the server's bookmark interval (about a minute).
public struct HTTPTimeouts: Sendable, Equatable {
    public var connectMilliseconds: Int
    public var requestMilliseconds: Int
    public var stallSeconds: Int

    public init(connectMilliseconds: Int = 10_000, requestMilliseconds: Int = 60_000, stallSeconds: Int = 120) {
        self.connectMilliseconds = connectMilliseconds
        self.requestMilliseconds = requestMilliseconds
        self.stallSeconds = stallSeconds
    }
}

/// One kept-alive connection (a reused curl handle) to the API server, for
/// the requests of one thread: a list's pages and the watch that follows go
/// over it instead of a new TCP and TLS handshake each (about 0.5 s a page
/// at 150k pods). Not thread-safe: one per thread, as `ListWatch` holds it.
public final class HTTPConnection {
    var easy: CurlEasy?
    public init() {}
}

/// GET requests to the API server over libcurl (FoundationNetworking cannot
/// trust a custom CA or present a client certificate on Linux). Every request
/// sets its options anew and reads the token anew, so a rotated token is
/// picked up; given an `HTTPConnection`, it reuses that handle's connection.
/// The blocking methods must run on a dedicated thread.
public final class HTTPClient: Sendable {
    public let config: KubeConfig
    public let timeouts: HTTPTimeouts

    public init(config: KubeConfig, timeouts: HTTPTimeouts = HTTPTimeouts()) {
        self.config = config
        self.timeouts = timeouts
    }

    /// GET on a dedicated thread; cancelling the task aborts the transfer.
    public func get(_ pathAndQuery: String) async throws -> HTTPResponse {
        try await DedicatedThread.run { [self] flag in try getBlocking(pathAndQuery, cancel: flag) }
    }

    /// GET that returns the whole body. Blocks the calling thread.
    public func getBlocking(_ pathAndQuery: String, cancel: CancellationFlag, connection: HTTPConnection? = nil) throws -> HTTPResponse {
        let transfer = Transfer(cancel: cancel, onData: nil, stallSeconds: nil)
        return try perform(pathAndQuery, transfer: transfer, streaming: false, connection: connection)
    }

    /// GET whose 200 body goes to `onData` as it arrives (return false to stop);
    /// any other status comes back with its body. Returns when the server ends
    /// the response; throws on a cut or stalled stream. Blocks the calling thread.
    public func streamBlocking(_ pathAndQuery: String, cancel: CancellationFlag, connection: HTTPConnection? = nil,
                               onData: (UnsafeRawBufferPointer) -> Bool) throws -> HTTPResponse {
        // The transfer object holds the callback only while `perform` runs.
        try withoutActuallyEscaping(onData) { onData in
            try perform(pathAndQuery, transfer: Transfer(cancel: cancel, onData: onData, stallSeconds: timeouts.stallSeconds),
                        streaming: true, connection: connection)
        }
    }

    private func perform(_ pathAndQuery: String, transfer: Transfer, streaming: Bool, connection: HTTPConnection?) throws -> HTTPResponse {
        let url = config.server + pathAndQuery
        let easy: CurlEasy
        if let reused = connection?.easy {
            easy = reused
            try easy.prepare(url: url)
        } else {
            easy = try CurlEasy(url: url)
            connection?.easy = easy
        }
        try configure(easy, streaming: streaming)
        transfer.easy = easy
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        // withExtendedLifetime: curl holds `context` unretained until perform returns.
        return try withExtendedLifetime(transfer) {
            try easy.set(CURLOPT_WRITEDATA, pointer: context)
            _ = podgate_curl_setopt_write_function(easy.handle) { data, size, count, context in
                guard let context else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
                return transfer.receive(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
            }
            try easy.set(CURLOPT_NOPROGRESS, 0)
            try easy.set(CURLOPT_XFERINFODATA, pointer: context)
            _ = podgate_curl_setopt_progress_function(easy.handle) { context, _, _, _, _ in
                guard let context else { return 1 }
                return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().shouldAbort ? 1 : 0
            }
            let code = easy.perform()
            if transfer.cancel.isCancelled { throw KubeError.cancelled(url: url) }
            if transfer.stalled {
                throw KubeError.transport(url: url, code: Int(code.rawValue),
                                          message: "stalled stream: no data for \(timeouts.stallSeconds) s")
            }
            let status = easy.responseCode
            // A consumer that stopped the stream on purpose ended it cleanly.
            if code == CURLE_OK || (code == CURLE_WRITE_ERROR && transfer.stoppedByConsumer) {
                return HTTPResponse(status: status, body: transfer.body)
            }
            throw KubeError.transport(url: url, code: Int(code.rawValue), message: easy.message(for: code))
        }
    }

    private func configure(_ easy: CurlEasy, streaming: Bool) throws {
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, timeouts.connectMilliseconds)
        // Streams are watched for stalls by the progress callback instead:
        // curl's low-speed limit averages over several seconds and reacts late.
        if !streaming { try easy.set(CURLOPT_TIMEOUT_MS, timeouts.requestMilliseconds) }
        // Notice a peer that vanished without a FIN (node reboot, network cut).
        try easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        try easy.set(CURLOPT_TCP_KEEPIDLE, 30)
        try easy.set(CURLOPT_TCP_KEEPINTVL, 10)
        try easy.set(CURLOPT_ACCEPT_ENCODING, "")   // gzip for large lists
        try easy.set(CURLOPT_USERAGENT, "podgate")

        switch config.certificateAuthority {
        case let .file(path)?:
            try easy.set(CURLOPT_CAINFO, path)
            try easy.set(CURLOPT_CAPATH, nil)   // the cluster CA only, not the system store
        case let .data(bytes)?:
            try easy.set(CURLOPT_CAINFO_BLOB, blob: bytes)
            try easy.set(CURLOPT_CAINFO, nil)
            try easy.set(CURLOPT_CAPATH, nil)
        case nil:
            break
        }
        if config.insecureSkipTLSVerify {
            try easy.set(CURLOPT_SSL_VERIFYPEER, 0)
            try easy.set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        switch config.clientCertificate {
        case let .file(path)?: try easy.set(CURLOPT_SSLCERT, path)
        case let .data(bytes)?: try easy.set(CURLOPT_SSLCERT_BLOB, blob: bytes)
        case nil: break
        }
        switch config.clientKey {
        case let .file(path)?: try easy.set(CURLOPT_SSLKEY, path)
        case let .data(bytes)?: try easy.set(CURLOPT_SSLKEY_BLOB, blob: bytes)
        case nil: break
        }
        easy.addHeader("Accept: application/json")
        if let token = try config.currentToken() {
            easy.addHeader("Authorization: Bearer \(token)")
        }
    }
}

/// The state of one transfer, reached from curl's callbacks through the
/// context pointer. Touched only by the thread running `curl_easy_perform`.
private final class Transfer {
    let cancel: CancellationFlag
    let onData: ((UnsafeRawBufferPointer) -> Bool)?
    var easy: CurlEasy?
    var body: [UInt8] = []
    var stoppedByConsumer = false
    private(set) var stalled = false
    private var status = 0
    private let stallLimit: Duration?
    private var lastData = ContinuousClock.now

    /// An error answer's body is kept for its message, up to this size.
    private static let errorBodyLimit = 64 * 1024

    init(cancel: CancellationFlag, onData: ((UnsafeRawBufferPointer) -> Bool)?, stallSeconds: Int?) {
        self.cancel = cancel
        self.onData = onData
        stallLimit = stallSeconds.map { .seconds($0) }
    }

    /// Asked by curl's progress callback, at least once a second.
    var shouldAbort: Bool {
        if cancel.isCancelled { return true }
        if let stallLimit, ContinuousClock.now - lastData > stallLimit { stalled = true }
        return stalled
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        lastData = ContinuousClock.now
        if cancel.isCancelled { return false }
        if status == 0 { status = easy?.responseCode ?? 0 }
        guard let onData, status == 200 else {
            if onData == nil || body.count < Self.errorBodyLimit { body.append(contentsOf: bytes) }
            return true
        }
        if onData(bytes) { return true }
        stoppedByConsumer = true
        return false
    }
}
