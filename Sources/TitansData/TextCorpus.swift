import Foundation

/// Text from a file or from every file under a folder (hidden files and folders skipped, in path order), read a piece
/// at a time — pieces of about a megabyte, cut after a line end where there is one — so a corpus larger than memory
/// can be counted or tokenised.
public struct TextCorpus: Sendable {
    public let files: [URL]
    /// Bytes per piece before the cut at a line end.
    static let pieceSize = 1 << 20

    /// The files of `path`; a path that does not exist, or a folder without files, is refused.
    public init(path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CorpusError.missing(path: path) }
        let url = URL(fileURLWithPath: path)
        guard isFolder.boolValue else {
            files = [url]
            return
        }
        let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey],
                                                    options: [.skipsHiddenFiles])
        var found: [URL] = []
        while let next = walker?.nextObject() as? URL {
            if (try? next.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { found.append(next) }
        }
        files = found.sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw CorpusError.noFiles(folder: path) }
    }

    /// Calls `body` with each file's pieces in order, and whether the piece ends its file.
    public func forEachPiece(_ body: (_ piece: [UInt8], _ endsFile: Bool) throws -> Void) throws {
        for file in files {
            let handle: FileHandle
            do {
                handle = try FileHandle(forReadingFrom: file)
            } catch {
                throw CorpusError.unreadable(path: file.path, reason: (error as NSError).localizedDescription)
            }
            defer { try? handle.close() }
            var carried: [UInt8] = []
            while true {
                let chunk: Data?
                do {
                    chunk = try handle.read(upToCount: Self.pieceSize)
                } catch {
                    throw CorpusError.unreadable(path: file.path, reason: (error as NSError).localizedDescription)
                }
                guard let chunk, !chunk.isEmpty else { break }
                carried += chunk
                // Keep what follows the last line end for the next piece; in a piece without one, what follows the last
                // start of a character, so no character is cut.
                let cut = carried.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }
                    ?? carried.lastIndex { $0 & 0xC0 != 0x80 } ?? carried.count
                try body(Array(carried[..<cut]), false)
                carried = Array(carried[cut...])
            }
            try body(carried, true)
        }
    }
}

/// Why a corpus cannot be read. Each message says what to do.
public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case noFiles(folder: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path): return "no file or folder at \(path); check the path"
        case .noFiles(let folder): return "the folder \(folder) holds no files to read; point at a text file or a folder of them"
        case let .unreadable(path, reason): return "cannot read \(path) (\(reason)); check its permissions"
        }
    }
}
