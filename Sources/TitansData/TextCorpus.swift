import Foundation

/// Text from a file or from every file under a folder (hidden files and folders skipped, in path order), read a piece
/// at a time — pieces of about a megabyte, cut where ``Cut`` says — so a corpus larger than memory can be counted or
/// tokenised.
///
/// ```swift
/// var counts = ByteLevelWordCounts()
/// try TextCorpus(path: "corpus/").forEachPiece { piece, _ in counts.add(piece) }
/// ```
public struct TextCorpus: Sendable {
    public let files: [URL]
    /// Bytes read per piece, before the cut.
    public var pieceSize = 1 << 20

    /// These files.
    public init(files: [URL]) { self.files = files }

    /// The files of `path` (a folder's regular files, symbolic links followed); a path that does not exist, a pipe or
    /// device, or a folder without files, is refused.
    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        switch FileKind(path: path) {
        case .missing: throw CorpusError.missing(path: path)
        case .special: throw CorpusError.notARegularFile(path: path)  // a pipe or a device would block or never end
        case .regular: files = [url]
        case .directory:
            let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
            var found: [URL] = []
            while let next = walker?.nextObject() as? URL {
                if FileKind(path: next.path) == .regular { found.append(next) }
            }
            files = found.sorted { $0.path < $1.path }
            guard !files.isEmpty else { throw CorpusError.noFiles(folder: path) }
        }
    }

    /// Where pieces are cut.
    ///
    /// ```swift
    /// try corpus.forEachPiece(cut: .lines) { piece, _ in … }   // JSON lines: never inside a line
    /// ```
    public enum Cut: Sendable {
        /// After a line end; a line is never cut, however long.
        case lines
        /// Before a line end between two characters that are not spaces, where GPT-2's word pattern cuts the text
        /// the same way whether it sees the whole text or the pieces.
        case betweenWords
    }

    /// Calls `body` with each file's pieces in order, and whether the piece ends its file; between words, a piece
    /// without a place to cut is cut after its last whole character.
    public func forEachPiece(cut: Cut = .lines, _ body: (_ piece: [UInt8], _ endsFile: Bool) throws -> Void) throws {
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
                    chunk = try handle.read(upToCount: pieceSize)
                } catch {
                    throw CorpusError.unreadable(path: file.path, reason: (error as NSError).localizedDescription)
                }
                guard let chunk, !chunk.isEmpty else { break }
                carried += chunk
                guard let end = Self.cutPoint(carried, cut) ?? (cut == .lines ? nil : carried.lastIndex { $0 & 0xC0 != 0x80 })
                else { continue }  // a line longer than a piece: read on to its end
                try body(Array(carried[..<end]), false)
                carried = Array(carried[end...])
            }
            try body(carried, true)
        }
    }
}

extension TextCorpus {
    /// Where the last piece of `bytes` should end (the rest is kept for the next), if there is a place to cut.
    static func cutPoint(_ bytes: [UInt8], _ cut: Cut) -> Int? {
        let newline = UInt8(ascii: "\n")
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        switch cut {
        case .lines:
            return bytes.lastIndex(of: newline).map { $0 + 1 }
        case .betweenWords:
            var i = bytes.count - 2
            while i >= 1 {
                if bytes[i] == newline && !isSpace(bytes[i - 1]) && !isSpace(bytes[i + 1]) { return i }
                i -= 1
            }
            return nil
        }
    }
}

/// Why a corpus cannot be read. Each message says what to do.
///
/// ```swift
/// do { _ = try TextCorpus(path: "corpus/") } catch let error as CorpusError { print(error) }   // says what to do
/// ```
public enum CorpusError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case notARegularFile(path: String)
    case noFiles(folder: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path): return "no file or folder at \(path); check the path"
        case .notARegularFile(let path): return "\(path) is not a regular file (a pipe or a device?); save the text to a file first"
        case .noFiles(let folder): return "the folder \(folder) holds no files to read; point at a text file or a folder of them"
        case let .unreadable(path, reason): return "cannot read \(path) (\(reason)); check its permissions"
        }
    }
}
