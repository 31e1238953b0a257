import Foundation
import Testing
@testable import TitansTraining

/// TensorBoard event records, byte for byte against records written by TensorBoard's own Python writer
/// (`tensorboard.summary.writer.record_writer.RecordWriter` over `event_pb2.Event(...).SerializeToString()`,
/// tensorboard 2.21); `tools/tensorboard/check` reads whole runs back with TensorBoard's reader.
struct TensorBoardLogTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = [], digits = Array(text)
        while digits.count >= 2 {
            bytes.append(UInt8(String(digits.prefix(2)), radix: 16) ?? 0)
            digits.removeFirst(2)
        }
        return bytes
    }

    @Test func scalarEventsAreTensorBoardsBytes() {
        // Event(wall_time=1.5, step=3, summary=Summary(value=[Value(tag="loss", simple_value=0.25),
        //                                                     Value(tag="learning_rate", simple_value=0.003)]))
        let expected = Self.hex("300000000000000095f5d05f09000000000000f83f10032a230a0b0a046c6f7373150000803e0a140a0d6c65"
                                + "61726e696e675f7261746515a69b443b28632da9")
        let event = TensorBoardLog.scalarEvent([("loss", 0.25), ("learning_rate", 0.003)], wallTime: 1.5, step: 3)
        #expect(TensorBoardLog.record(event) == expected)
    }

    @Test func restartAndVersionEventsAreTensorBoardsBytes() {
        // Event(wall_time=2.0, step=51, session_log=SessionLog(status=START)); Event(file_version="brain.Event:2")
        #expect(TensorBoardLog.record(TensorBoardLog.restartEvent(wallTime: 2, step: 51))
                == Self.hex("0f000000000000006d532b0909000000000000004010333a0208013f5a359f"))
        #expect(TensorBoardLog.record(TensorBoardLog.versionEvent(wallTime: 0))
                == Self.hex("0f000000000000006d532b091a0d627261696e2e4576656e743a32fc985129"))
    }

    /// A run writes one event file that starts with the version record and holds a record per metrics line.
    @Test func aRunWritesItsMetricsAsEvents() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tensorboard-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trainer = Trainer(model: TrainerTests.model(), source: try TrainerTests.dataset(), configuration: TrainerTests.configuration(steps: 6))
        let run = try TrainingRun(trainer: trainer, folder: folder.appendingPathComponent("run"), checkpointInterval: 3)
        run.tensorBoard = try TensorBoardLog(folder: folder.appendingPathComponent("events"))
        try run.run()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("events").path)
        #expect(files.count == 1 && files[0].hasPrefix("events.out.tfevents."))
        let bytes = [UInt8](try Data(contentsOf: try #require(run.tensorBoard).url))
        var records: [[UInt8]] = [], offset = 0
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<(offset + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
            records.append(Array(bytes[(offset + 12)..<(offset + 12 + length)]))
            offset += 16 + length
        }
        #expect(offset == bytes.count)
        #expect(records.count == 1 + (try run.metrics.read()).count)  // the version, then one per line
        #expect(records.first.map { String(decoding: $0.suffix(13), as: UTF8.self) } == "brain.Event:2")
    }
}
