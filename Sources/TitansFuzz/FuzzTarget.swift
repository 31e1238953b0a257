import Foundation
import TitansTraining

/// What one fuzzing input goes through: everything `titans generate` and `titans train --resume` do with a file
/// before building a model. Every outcome but a thrown error or success (a crash, a hang, a huge allocation) is a bug.
enum FuzzTarget {
    /// How an input ended, for the plain loop's tally.
    enum Outcome: Hashable {
        case refusedByReader(String)
        case refusedAsCheckpoint(String)
        case plainSafetensors
        case checkpointWithoutModel
        case checkpointWithModel
    }

    static func run(_ bytes: Data) -> Outcome {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: bytes, fileName: "input")
        } catch {
            return .refusedByReader(kind(error))
        }
        // Every tensor, as the reader offers it.
        for info in file.infos {
            if info.dtype.isReadableAsTensor { _ = try? file.tensor(named: info.name) }
            if info.dtype.isReadableAsIndices { _ = try? file.indices(named: info.name) }
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.load(from: file)
        } catch CheckpointError.notACheckpoint {
            return .plainSafetensors
        } catch {
            return .refusedAsCheckpoint(kind(error))
        }
        guard (try? checkpoint.modelConfiguration(file: "input")) != nil else { return .checkpointWithoutModel }
        _ = try? checkpoint.trainingSettings(file: "input")
        return .checkpointWithModel
    }

    /// An error's case name, without its values.
    private static func kind(_ error: Error) -> String {
        String(String(describing: Mirror(reflecting: error).children.first?.label ?? "\(error)").prefix(40))
    }
}
