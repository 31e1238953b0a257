import Foundation

/// The CUDA driver API (`libcuda.so.1`), loaded at run time: the first GPU's primary context, device memory, copies,
/// modules and kernel launches. Everything runs on the context's default stream, in order; a copy to the host waits
/// for the kernels before it.
///
/// ```swift
/// if let driver = try CUDADriver.open() {
///     print(driver.deviceName, driver.computeCapability)   // "NVIDIA H100 80GB HBM3" 90
/// }
/// ```
final class CUDADriver: @unchecked Sendable {
    typealias DevicePointer = UInt64
    private typealias Initialize = @convention(c) (UInt32) -> Int32
    private typealias DeviceCount = @convention(c) (UnsafeMutablePointer<Int32>?) -> Int32
    private typealias DeviceGet = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    private typealias DeviceName = @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32) -> Int32
    private typealias DeviceAttribute = @convention(c) (UnsafeMutablePointer<Int32>?, Int32, Int32) -> Int32
    private typealias RetainContext = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, Int32) -> Int32
    private typealias SetContext = @convention(c) (OpaquePointer?) -> Int32
    private typealias Allocate = @convention(c) (UnsafeMutablePointer<DevicePointer>?, Int) -> Int32
    private typealias Free = @convention(c) (DevicePointer) -> Int32
    private typealias CopyToDevice = @convention(c) (DevicePointer, UnsafeRawPointer?, Int) -> Int32
    private typealias CopyToHost = @convention(c) (UnsafeMutableRawPointer?, DevicePointer, Int) -> Int32
    private typealias Fill = @convention(c) (DevicePointer, UInt8, Int) -> Int32
    private typealias LoadModule = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafeRawPointer?) -> Int32
    private typealias GetFunction = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, OpaquePointer?,
                                                    UnsafePointer<CChar>?) -> Int32
    private typealias Launch = @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                                               OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                               UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    private typealias Synchronize = @convention(c) () -> Int32
    private typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32

    /// A driver call that failed: what was asked and the driver's words for it.
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let status: Int32
        let message: String
        var description: String { "CUDA: \(call) failed: \(message) (status \(status))" }
    }

    let library: SharedLibrary
    /// The GPU's name as the driver gives it.
    let deviceName: String
    /// Compute capability as major·10 + minor (90 for an H100).
    let computeCapability: Int
    private let context: OpaquePointer?
    private let setCurrent: SetContext
    private let allocate: Allocate, free: Free, copyToDevice: CopyToDevice, copyToHost: CopyToHost, fill: Fill
    private let loadModule: LoadModule, getFunction: GetFunction, launch: Launch, synchronize: Synchronize
    private let errorString: ErrorString?

    /// The driver and its first GPU: nil when `libcuda.so.1` is not there (no NVIDIA driver); throws when it is but
    /// no GPU answers.
    static func open() throws -> CUDADriver? {
        let environment = ProcessInfo.processInfo.environment
        let candidates = SharedLibrary.candidates(override: environment["TITANS_CUDA_LIBRARY"], sonames: ["libcuda.so.1"],
                                                  wheelFolders: [])
        guard let library = SharedLibrary(firstOf: candidates) else { return nil }
        return try CUDADriver(library: library)
    }

    private init(library: SharedLibrary) throws {
        func load<F>(_ symbol: String, _ type: F.Type) throws -> F {
            guard let f = library.function(symbol, type) else {
                throw Failure(call: "dlsym(\(symbol))", status: -1, message: "\(library.name) lacks \(symbol)")
            }
            return f
        }
        self.library = library
        errorString = library.function("cuGetErrorString", ErrorString.self)
        allocate = try load("cuMemAlloc_v2", Allocate.self)
        free = try load("cuMemFree_v2", Free.self)
        copyToDevice = try load("cuMemcpyHtoD_v2", CopyToDevice.self)
        copyToHost = try load("cuMemcpyDtoH_v2", CopyToHost.self)
        fill = try load("cuMemsetD8_v2", Fill.self)
        loadModule = try load("cuModuleLoadData", LoadModule.self)
        getFunction = try load("cuModuleGetFunction", GetFunction.self)
        launch = try load("cuLaunchKernel", Launch.self)
        synchronize = try load("cuCtxSynchronize", Synchronize.self)
        let initialize = try load("cuInit", Initialize.self)
        let deviceCount = try load("cuDeviceGetCount", DeviceCount.self)
        let deviceGet = try load("cuDeviceGet", DeviceGet.self)
        let name = try load("cuDeviceGetName", DeviceName.self)
        let attribute = try load("cuDeviceGetAttribute", DeviceAttribute.self)
        let retain = try load("cuDevicePrimaryCtxRetain", RetainContext.self)
        setCurrent = try load("cuCtxSetCurrent", SetContext.self)

        let errorString = self.errorString
        func check(_ status: Int32, _ call: String) throws {
            if status != 0 { throw Failure(call: call, status: status, message: Self.message(status, errorString)) }
        }
        try check(initialize(0), "cuInit")
        var count: Int32 = 0
        try check(deviceCount(&count), "cuDeviceGetCount")
        guard count > 0 else { throw Failure(call: "cuDeviceGetCount", status: 0, message: "the driver sees no GPU") }
        var device: Int32 = 0
        try check(deviceGet(&device, 0), "cuDeviceGet")
        var text = [CChar](repeating: 0, count: 256)
        try check(name(&text, Int32(text.count), device), "cuDeviceGetName")
        deviceName = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var major: Int32 = 0, minor: Int32 = 0
        try check(attribute(&major, 75, device), "cuDeviceGetAttribute(major)")  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
        try check(attribute(&minor, 76, device), "cuDeviceGetAttribute(minor)")
        computeCapability = Int(major) * 10 + Int(minor)
        var context: OpaquePointer?
        try check(retain(&context, device), "cuDevicePrimaryCtxRetain")
        self.context = context
        try makeCurrent()
    }

    /// Makes the GPU's context the calling thread's (each thread that launches needs it once; cheap after).
    func makeCurrent() throws { try check(setCurrent(context), "cuCtxSetCurrent") }

    private static func message(_ status: Int32, _ errorString: ErrorString?) -> String {
        var text: UnsafePointer<CChar>?
        guard let errorString, errorString(status, &text) == 0, let text else { return "error \(status)" }
        return String(cString: text)
    }

    private func check(_ status: Int32, _ call: String) throws {
        if status != 0 { throw Failure(call: call, status: status, message: Self.message(status, errorString)) }
    }

    /// `bytes` of device memory (at least one byte, so that empty tensors have an address).
    func allocate(bytes: Int) throws -> DevicePointer {
        var pointer: DevicePointer = 0
        try check(allocate(&pointer, Swift.max(bytes, 1)), "cuMemAlloc(\(bytes) bytes)")
        return pointer
    }

    func release(_ pointer: DevicePointer) { _ = free(pointer) }

    func copy(from host: UnsafeRawPointer, to device: DevicePointer, bytes: Int) throws {
        guard bytes > 0 else { return }
        try check(copyToDevice(device, host, bytes), "cuMemcpyHtoD")
    }

    func copy(from device: DevicePointer, to host: UnsafeMutableRawPointer, bytes: Int) throws {
        guard bytes > 0 else { return }
        try check(copyToHost(host, device, bytes), "cuMemcpyDtoH")
    }

    func zero(_ device: DevicePointer, bytes: Int) throws {
        guard bytes > 0 else { return }
        try check(fill(device, 0, bytes), "cuMemsetD8")
    }

    /// The module made from PTX or CUBIN `image`, and its functions by name.
    func functions(in image: [UInt8], named names: [String]) throws -> [String: OpaquePointer] {
        var module: OpaquePointer?
        try check(image.withUnsafeBytes { loadModule(&module, $0.baseAddress) }, "cuModuleLoadData")
        var result: [String: OpaquePointer] = [:]
        for name in names {
            var function: OpaquePointer?
            try check(getFunction(&function, module, name), "cuModuleGetFunction(\(name))")
            if let function { result[name] = function }
        }
        return result
    }

    /// Runs `function` over `blocks` × `threads` with `arguments` (each a pointer to one argument's bytes).
    func launch(_ function: OpaquePointer, blocks: Int, threads: Int,
                arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) throws {
        try check(launch(function, UInt32(blocks), 1, 1, UInt32(threads), 1, 1, 0, nil, arguments, nil), "cuLaunchKernel")
    }

    /// Waits for every kernel and copy so far; reports a kernel's failure.
    func wait() throws { try check(synchronize(), "cuCtxSynchronize") }
}
