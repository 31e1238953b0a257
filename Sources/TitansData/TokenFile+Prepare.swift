import Foundation

extension TokenFile {
    /// What a token file is made from: text files (each file a document), or JSON lines (each line a document, its
    /// text in a named string field).
    ///
    /// ```swift
    /// let source = TokenFile.Source.jsonLines(try TextCorpus(path: "docs.jsonl"), field: "text")
    /// ```
    public enum Source: Sendable {
        case text(TextCorpus)
        case jsonLines(TextCorpus, field: String)
    }

    /// Encodes `source` with `tokenizer` into a token file at `url` (written to a temporary file and renamed, so an
    /// existing file is only replaced by a finished one), the last `validationFraction` of the tokens held out, the
    /// tokenizer's separator after each document. A long document is encoded a megabyte at a time, cut before a line
    /// break between two non-space characters (where GPT-2's word pattern cuts it anyway; a tokenizer without a
    /// pre-tokenizer may lose a merge across such a cut). `progress` hears the bytes read so far.
    @discardableResult
    public static func prepare(_ source: Source, tokenizer: Tokenizer, validationFraction: Double, to url: URL,
                               progress: (Int) -> Void = { _ in }) throws -> Header {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = try? FileHandle(forUpdating: temporary) else {
            throw TokenFileError.unreadable(path: temporary.path, reason: "it cannot be created; check the folder's permissions")
        }
        var finished = false
        defer {
            try? handle.close()
            if !finished { try? FileManager.default.removeItem(at: temporary) }
        }
        var writer = TokenWriter(handle: handle, elementBytes: tokenizer.vocabularySize <= 1 << 16 ? 2 : 4, path: temporary.path)
        try writer.write(bytes: [UInt8](repeating: 0x20, count: tokensOffset))
        var documentEnds: [Int] = [], bytesRead = 0
        func endDocument() throws {
            if let separator = tokenizer.separator { try writer.append([separator]) }
            documentEnds.append(writer.count)
        }
        switch source {
        case .text(let corpus):
            var continuing = false
            try corpus.forEachPiece(cut: .betweenWords) { piece, endsFile in
                try writer.append(tokenizer.encode(bytes: piece, continuing: continuing))
                bytesRead += piece.count
                progress(bytesRead)
                continuing = !endsFile
                if endsFile { try endDocument() }
            }
        case let .jsonLines(corpus, field):
            for file in corpus.files {
                var line = 0, single = TextCorpus(files: [file])
                single.pieceSize = corpus.pieceSize
                try single.forEachPiece(cut: .lines) { piece, _ in
                    var records = piece.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    if piece.last == UInt8(ascii: "\n") { records.removeLast() }  // nothing follows the last line end
                    for record in records {
                        line += 1
                        guard record.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { continue }
                        guard let object = try? JSONSerialization.jsonObject(with: Data(record)) as? [String: Any] else {
                            throw TokenFileError.badRecord(path: file.path, line: line, reason: "it is not a JSON object")
                        }
                        guard let text = object[field] as? String else {
                            throw TokenFileError.badRecord(path: file.path, line: line,
                                                           reason: "it has no text field \"\(field)\" (a string); name the field with --field")
                        }
                        try writer.append(tokenizer.encode(text))
                        try endDocument()
                    }
                    bytesRead += piece.count
                    progress(bytesRead)
                }
            }
        }
        let total = writer.count
        let validationStart = total - Int((Double(total) * validationFraction).rounded())
        let validationBytes = try writer.decodedBytes(validationStart..<total, tokenizer: tokenizer)
        var ends: [UInt8] = []
        for end in documentEnds { withUnsafeBytes(of: UInt64(end).littleEndian) { ends += $0 } }
        try writer.write(bytes: ends)
        try writer.write(bytes: Array(tokenizer.json))
        // The name is cut so the header always fits in its room before the tokens.
        let header = Header(tokenizer: String(tokenizer.name.prefix(256)), fingerprint: String(tokenizer.fingerprint, radix: 16),
                            vocabularySize: tokenizer.vocabularySize, elementBytes: writer.elementBytes, tokens: total,
                            documents: documentEnds.count, validationStart: validationStart, validationBytes: validationBytes,
                            separator: tokenizer.separator, tokenizerBytes: tokenizer.json.count)
        let json = try JSONEncoder().encode(header)
        var start = Array(magic)
        withUnsafeBytes(of: version.littleEndian) { start += $0 }
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { start += $0 }
        try writer.write(bytes: start + Array(json), at: 0)
        do {
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            throw TokenFileError.unreadable(path: url.path, reason: "it cannot be written: \((error as NSError).localizedDescription)")
        }
        finished = true
        return header
    }
}

/// Appends tokens to a file being prepared, as little-endian integers of `elementBytes`, buffered.
private struct TokenWriter {
    let handle: FileHandle
    let elementBytes: Int
    let path: String
    /// Tokens written.
    private(set) var count = 0

    init(handle: FileHandle, elementBytes: Int, path: String) {
        (self.handle, self.elementBytes, self.path) = (handle, elementBytes, path)
    }

    mutating func append(_ tokens: [Int]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count * elementBytes)
        for token in tokens {
            if elementBytes == 2 { withUnsafeBytes(of: UInt16(token).littleEndian) { bytes += $0 } }
            else { withUnsafeBytes(of: UInt32(token).littleEndian) { bytes += $0 } }
        }
        try write(bytes: bytes)
        count += tokens.count
    }

    func write(bytes: [UInt8], at offset: Int? = nil) throws {
        do {
            if let offset { try handle.seek(toOffset: UInt64(offset)) } else { try handle.seekToEnd() }
            try handle.write(contentsOf: Data(bytes))
        } catch {
            throw TokenFileError.unreadable(path: path, reason: "it cannot be written: \((error as NSError).localizedDescription)")
        }
    }

    /// How many bytes of text tokens `range` decode to (separators left out), read back a million tokens at a time.
    func decodedBytes(_ range: Range<Int>, tokenizer: Tokenizer) throws -> Int {
        var total = 0
        for start in stride(from: range.lowerBound, to: range.upperBound, by: 1 << 20) {
            let end = min(range.upperBound, start + 1 << 20)
            let data: Data?
            do {
                try handle.seek(toOffset: UInt64(TokenFile.tokensOffset + start * elementBytes))
                data = try handle.read(upToCount: (end - start) * elementBytes)
            } catch {
                throw TokenFileError.unreadable(path: path, reason: (error as NSError).localizedDescription)
            }
            let tokens = (data ?? Data()).withUnsafeBytes { raw in
                (0..<(end - start)).map { TokenFile.token(raw, at: elementBytes * $0, width: elementBytes) }
            }
            total += try tokenizer.decode(tokens.filter { $0 != tokenizer.separator }).count
        }
        return total
    }
}
