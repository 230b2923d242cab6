import CCurl

/// curl_global_init must run once before any handle exists and is not
/// thread-safe in every libcurl build: a lazily initialized static runs it
/// exactly once (Swift guards static initializers).
enum CurlGlobal {
    static let ready: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

/// One libcurl easy handle with what must live as long as it: the error
/// buffer curl writes into and the header list it points at. Used by one
/// thread at a time (the one performing the transfer). The handle is reused
/// across requests (`prepare` resets its options): curl keeps its open
/// connections, TLS sessions and DNS cache across `curl_easy_reset`, so the
/// next request to the same server goes over the same kept-alive connection.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private(set) var url: String = ""
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headers: UnsafeMutablePointer<curl_slist>?

    init(url: String) throws {
        guard CurlGlobal.ready, let handle = curl_easy_init() else {
            throw KubeError.transport(url: url, code: -1, message: "libcurl could not be initialized")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        try prepare(url: url)
    }

    /// Forgets every option of the previous request (not its connections)
    /// and aims the handle at `url`.
    func prepare(url: String) throws {
        curl_easy_reset(handle)
        curl_slist_free_all(headers)
        headers = nil
        self.url = url
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_URL, url)
        // Never raise SIGALRM/SIGPIPE into a multi-threaded process.
        try set(CURLOPT_NOSIGNAL, 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headers)
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(podgate_curl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String?) throws {
        guard let value else { return try check(podgate_curl_setopt_string(handle, option, nil), option) }
        // curl copies string options (since 7.17), so a temporary C string is fine.
        try value.withCString { try check(podgate_curl_setopt_string(handle, option, $0), option) }
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws {
        try check(podgate_curl_setopt_pointer(handle, option, pointer), option)
    }

    func set(_ option: CURLoption, blob: [UInt8]) throws {
        try blob.withUnsafeBytes { try check(podgate_curl_setopt_blob(handle, option, $0.baseAddress, $0.count), option) }
    }

    func addHeader(_ line: String) {
        headers = curl_slist_append(headers, line)
    }

    func perform() -> CURLcode {
        _ = podgate_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        return curl_easy_perform(handle)
    }

    var responseCode: Int {
        var code = 0
        _ = podgate_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// The detailed message curl left in the error buffer, else its generic one.
    func message(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw KubeError.transport(url: url, code: Int(code.rawValue),
                                      message: "setting curl option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))")
        }
    }
}
