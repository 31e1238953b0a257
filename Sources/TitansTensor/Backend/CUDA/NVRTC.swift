import Foundation

/// NVIDIA's run-time compiler, loaded at run time: compiles ``CUDAKernelSource`` to PTX (any machine, no GPU needed)
/// or to a GPU's machine code (CUBIN). Found as `libnvrtc.so.13` or `.12` on the library path, in the folders of
/// `TITANS_CUDA_PATH` (the PyPI wheel `nvidia-cuda-nvrtc` unpacked there), or at `TITANS_NVRTC_LIBRARY`.
///
/// ```swift
/// if let nvrtc = NVRTC.shared {
///     let ptx = try nvrtc.compile(CUDAKernelSource.source, name: "titans.cu", target: .virtual(90))
/// }
/// ```
struct NVRTC: Sendable {
    typealias VersionFunction = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    private typealias Create = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafePointer<CChar>?,
                                               UnsafePointer<CChar>?, Int32, UnsafePointer<UnsafePointer<CChar>?>?,
                                               UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private typealias Compile = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    private typealias Size = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> Int32
    private typealias Read = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int32
    private typealias Destroy = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    private typealias ErrorString = @convention(c) (Int32) -> UnsafePointer<CChar>?

    /// What to compile for: PTX for a virtual architecture (`compute_XY`), or machine code for one GPU (`sm_XY`).
    enum Target: Equatable, Sendable {
        case virtual(Int)
        case machine(Int)

        var option: String {
            switch self {
            case .virtual(let arch): return "--gpu-architecture=compute_\(arch)"
            case .machine(let arch): return "--gpu-architecture=sm_\(arch)"
            }
        }
    }

    /// Why a compilation failed: the compiler's status and its log.
    struct CompileError: Error, CustomStringConvertible {
        let status: String
        let log: String
        var description: String { "NVRTC: \(status)\n\(log)" }
    }

    let library: SharedLibrary
    /// The compiler's version, (major, minor).
    let version: (major: Int, minor: Int)
    private let create: Create, compileProgram: Compile, logSize: Size, log: Read, destroy: Destroy
    private let ptxSize: Size, ptx: Read, cubinSize: Size?, cubin: Read?, errorString: ErrorString

    /// The compiler, when a library loads; nil (and no message) when none does.
    static let shared: NVRTC? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates = SharedLibrary.candidates(override: environment["TITANS_NVRTC_LIBRARY"],
                                                  sonames: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"],
                                                  wheelFolders: ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"])
        guard let library = SharedLibrary(firstOf: candidates) else { return nil }
        // NVRTC opens its builtins library by name; one beside it (an unpacked wheel) is opened first so that name is
        // found without LD_LIBRARY_PATH.
        let folder = URL(fileURLWithPath: library.name).deletingLastPathComponent().path
        if library.name.contains("/"), let files = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            let builtins = files.filter { $0.hasPrefix("libnvrtc-builtins.so.") }.map { "\(folder)/\($0)" }
            builtins.forEach { _ = SharedLibrary(firstOf: [$0]) }
        }
        return NVRTC(library: library)
    }()

    init?(library: SharedLibrary) {
        guard let versionFunction = library.function("nvrtcVersion", VersionFunction.self),
              let create = library.function("nvrtcCreateProgram", Create.self),
              let compileProgram = library.function("nvrtcCompileProgram", Compile.self),
              let logSize = library.function("nvrtcGetProgramLogSize", Size.self),
              let log = library.function("nvrtcGetProgramLog", Read.self),
              let destroy = library.function("nvrtcDestroyProgram", Destroy.self),
              let ptxSize = library.function("nvrtcGetPTXSize", Size.self),
              let ptx = library.function("nvrtcGetPTX", Read.self),
              let errorString = library.function("nvrtcGetErrorString", ErrorString.self) else { return nil }
        var major: Int32 = 0, minor: Int32 = 0
        guard versionFunction(&major, &minor) == 0 else { return nil }
        self.library = library
        self.version = (Int(major), Int(minor))
        (self.create, self.compileProgram, self.logSize, self.log, self.destroy) = (create, compileProgram, logSize, log, destroy)
        (self.ptxSize, self.ptx, self.errorString) = (ptxSize, ptx, errorString)
        cubinSize = library.function("nvrtcGetCUBINSize", Size.self)
        cubin = library.function("nvrtcGetCUBIN", Read.self)
    }

    /// `source` compiled for `target`: PTX text for a virtual architecture, a CUBIN image for a machine one (bytes
    /// either way, as `cuModuleLoadData` takes them; PTX ends in its zero byte). Multiply-adds are not fused, as on
    /// the CPU. Throws ``CompileError`` with the compiler's log.
    func compile(_ source: String, name: String, target: Target) throws -> [UInt8] {
        var program: OpaquePointer?
        try check(create(&program, source, name, 0, nil, nil), "creating the program")
        defer { _ = destroy(&program) }
        let options = [target.option, "--std=c++17", "--fmad=false"]
        let status = withCStrings(options) { compileProgram(program, Int32(options.count), $0) }
        if status != 0 {
            throw CompileError(status: message(status), log: programLog(program))
        }
        let (sizeOf, read): (Size, Read)
        switch target {
        case .virtual: (sizeOf, read) = (ptxSize, ptx)
        case .machine:
            guard let cubinSize, let cubin else {
                throw CompileError(status: "this NVRTC (\(version.major).\(version.minor)) cannot write machine code", log: "")
            }
            (sizeOf, read) = (cubinSize, cubin)
        }
        var size = 0
        try check(sizeOf(program, &size), "sizing the output")
        var bytes = [UInt8](repeating: 0, count: size)
        try check(bytes.withUnsafeMutableBytes { read(program, $0.baseAddress?.assumingMemoryBound(to: CChar.self)) },
                  "reading the output")
        return bytes
    }

    private func programLog(_ program: OpaquePointer?) -> String {
        var size = 0
        guard logSize(program, &size) == 0, size > 1 else { return "" }
        var text = [CChar](repeating: 0, count: size)
        guard log(program, &text) == 0 else { return "" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func message(_ status: Int32) -> String {
        errorString(status).map { String(cString: $0) } ?? "status \(status)"
    }

    private func check(_ status: Int32, _ what: String) throws {
        if status != 0 { throw CompileError(status: "\(message(status)) while \(what)", log: "") }
    }
}

/// `body` with `strings` as an array of C strings that live for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { body($0.baseAddress) }
}
