import Foundation

/// A TensorBoard event file of scalars (`titans train --tensorboard DIR`), written by this code on TensorBoard's
/// documented format: a sequence of records, each the length of its data (8 bytes), the masked CRC-32C of those 8
/// bytes (4), the data (a protobuf `Event`) and the masked CRC-32C of the data (4), all little-endian. The first event
/// names the format version (`brain.Event:2`); each later one holds the scalars of one step. Every record is written
/// with one `write(2)` and synced at each checkpoint, so a killed run leaves a readable file.
///
/// ```swift
/// let events = try TensorBoardLog(folder: URL(fileURLWithPath: "runs/mag/events"))
/// try events.scalars([("loss", 2.31), ("learning_rate", 3e-3)], step: 100)
/// ```
public final class TensorBoardLog {
    public let url: URL
    private let handle: FileHandle

    /// Opens a new event file in `folder` (created if needed), named as TensorBoard expects
    /// (`events.out.tfevents.<seconds>.<microseconds>.<host>.<pid>.titans`) so each run or resumption gets its own, and
    /// TensorBoard, reading them in the order of their names, reads them in the order they were started.
    public init(folder: URL) throws {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw TensorBoardError.cannotCreate(path: folder.path, reason: (error as NSError).localizedDescription)
        }
        let now = Date().timeIntervalSince1970
        let name = "events.out.tfevents.\(Int(now))." + String(format: "%06d", Int(now.truncatingRemainder(dividingBy: 1) * 1e6))
            + ".\(ProcessInfo.processInfo.hostName).\(ProcessInfo.processInfo.processIdentifier).titans"
        url = folder.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: url) else {
            throw TensorBoardError.cannotCreate(path: folder.path, reason: "no file can be created in it")
        }
        self.handle = handle
        try write(Self.versionEvent(wallTime: Date().timeIntervalSince1970))
    }

    deinit { try? handle.close() }

    /// A run that starts again at `step` (a resumption): TensorBoard drops what earlier files logged from `step` on,
    /// as those steps are trained again.
    public func restart(at step: Int) throws { try write(Self.restartEvent(wallTime: Date().timeIntervalSince1970, step: step)) }

    /// One event holding `values` as scalars (tag, value) at `step`.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int) throws {
        try write(Self.scalarEvent(values, wallTime: Date().timeIntervalSince1970, step: step))
    }

    /// `Event { file_version: "brain.Event:2" }`, which starts every file.
    static func versionEvent(wallTime: Double) -> [UInt8] { event(wallTime: wallTime, step: 0) { $0.string(3, "brain.Event:2") } }

    /// `Event { session_log: SessionLog { status: START } }`.
    static func restartEvent(wallTime: Double, step: Int) -> [UInt8] {
        event(wallTime: wallTime, step: step) { $0.message(7) { $0.integer(1, 1) } }
    }

    /// `Event { summary: Summary { value: [Value { tag, simple_value }, …] } }`.
    static func scalarEvent(_ values: [(tag: String, value: Double)], wallTime: Double, step: Int) -> [UInt8] {
        event(wallTime: wallTime, step: step) { event in
            event.message(5) { summary in
                for (tag, value) in values { summary.message(1) { $0.string(1, tag); $0.float(2, Float(value)) } }
            }
        }
    }

    /// Pushes what was written to the disk.
    public func synchronize() throws { try handle.synchronize() }

    /// `Event { wall_time = 1; step = 2; … }` with the fields `what` adds; zero wall time and step are left out, as
    /// protobuf writes fields at their defaults.
    static func event(wallTime: Double, step: Int, _ what: (inout ProtobufFields) -> Void) -> [UInt8] {
        var event = ProtobufFields()
        if wallTime != 0 { event.double(1, wallTime) }
        if step != 0 { event.integer(2, Int64(step)) }
        what(&event)
        return event.bytes
    }

    /// The record framing `data`.
    static func record(_ data: [UInt8]) -> [UInt8] {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        func maskedCRC(_ bytes: [UInt8]) -> [UInt8] {
            var crc = CRC32(.castagnoli)
            crc.update(bytes)
            let masked = ((crc.value >> 15) | (crc.value << 17)) &+ 0xA282_EAD8  // TensorBoard's masking of stored CRCs
            return withUnsafeBytes(of: masked.littleEndian) { Array($0) }
        }
        return length + maskedCRC(length) + data + maskedCRC(data)
    }

    private func write(_ event: [UInt8]) throws {
        do {
            try handle.write(contentsOf: Data(Self.record(event)))
        } catch {
            throw TensorBoardError.cannotWrite(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Why an event file could not be written.
///
/// ```swift
/// do { try events.scalars([("loss", 2.0)], step: 1) } catch let error as TensorBoardError { print(error) }   // says what to do
/// ```
public enum TensorBoardError: Error, CustomStringConvertible, Equatable {
    case cannotCreate(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason):
            return "cannot create the TensorBoard folder \(path) (\(reason)); choose another --tensorboard folder"
        case let .cannotWrite(path, reason):
            return "cannot write the TensorBoard events \(path) (\(reason)); free some space or choose another --tensorboard folder"
        }
    }
}
