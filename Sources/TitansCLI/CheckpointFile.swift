import Foundation
import TitansTraining

/// Reads a checkpoint named on the command line; one written before checkpoints carried a checksum gets a note on
/// standard error, since its bytes could not be verified.
func loadCheckpoint(_ path: String) throws -> Checkpoint {
    let checkpoint = try Checkpoint.load(from: URL(fileURLWithPath: path))
    if checkpoint.unverified {
        FileHandle.standardError.write(Data("note: \(path) was written before checkpoints carried a checksum; its bytes were not verified\n".utf8))
    }
    return checkpoint
}
