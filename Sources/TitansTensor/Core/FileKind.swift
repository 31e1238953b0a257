import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a path names, following symbolic links: the readers of data and checkpoints read regular files whole, so they
/// refuse directories and also FIFOs, devices and sockets (reading one would block or never end).
///
/// ```swift
/// guard FileKind(path: path) == .regular else { throw … }   // not a folder, pipe or device
/// ```
public enum FileKind: Equatable, Sendable {
    case missing, directory, regular
    /// A FIFO, a device or a socket.
    case special

    public init(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { self = .missing; return }
        switch status.st_mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        default: self = .special
        }
    }
}

extension FileKind {
    /// Why a file could not be read whole.
    public enum ReadFailure: Error, Equatable {
        case missing
        /// A folder, FIFO, device or socket.
        case notARegularFile
        case unreadable(reason: String)
    }

    /// The bytes of the regular file at `path`, or why it cannot be read whole (each reader says it in its own words).
    ///
    /// ```swift
    /// switch FileKind.contents(of: path) { case .success(let data): … case .failure(.missing): throw … }
    /// ```
    public static func contents(of path: String) -> Result<Data, ReadFailure> {
        switch FileKind(path: path) {
        case .missing: return .failure(.missing)
        case .directory, .special: return .failure(.notARegularFile)
        case .regular:
            do { return .success(try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                return .failure(.unreadable(reason: (error as NSError).localizedDescription))
            }
        }
    }
}
