import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A library opened at run time (`dlopen`), as the BLAS is: the CUDA driver, NVRTC and cuBLAS are found when the
/// program runs, so building and testing never need them.
///
/// ```swift
/// if let nvrtc = SharedLibrary(firstOf: ["libnvrtc.so.13", "libnvrtc.so.12"]) {
///     let version = nvrtc.function("nvrtcVersion", NVRTC.VersionFunction.self)
/// }
/// ```
struct SharedLibrary: @unchecked Sendable {
    /// The name or path that opened.
    let name: String
    private let handle: UnsafeMutableRawPointer

    /// The first of `candidates` (names searched on the library path, or paths) that opens; nil when none does.
    init?(firstOf candidates: [String]) {
        for candidate in candidates {
            if let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
                self.name = candidate
                self.handle = handle
                return
            }
        }
        return nil
    }

    /// The exported function `symbol` as a C function of type `F`, or nil when the library lacks it.
    func function<F>(_ symbol: String, _ type: F.Type) -> F? {
        dlsym(handle, symbol).map { unsafeBitCast($0, to: type) }
    }

    /// The candidates for a library: `override` alone when the user named one (an environment variable), else the
    /// sonames, each also inside the folders of Python wheels (`nvidia/cu13/lib`, `nvidia/<package>/lib`) under
    /// `TITANS_CUDA_PATH`'s folders.
    static func candidates(override: String?, sonames: [String], wheelFolders: [String]) -> [String] {
        if let override, !override.isEmpty { return [override] }
        let roots = (ProcessInfo.processInfo.environment["TITANS_CUDA_PATH"] ?? "").split(separator: ":").map(String.init)
        return sonames + roots.flatMap { root in
            (wheelFolders + [""]).flatMap { folder in sonames.map { "\(root)/\(folder.isEmpty ? "" : folder + "/")\($0)" } }
        }
    }
}
