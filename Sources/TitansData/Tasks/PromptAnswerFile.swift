import Foundation

/// Task data as JSON lines: one object per line with a `prompt` and an `answer` (strings) and any numeric fields
/// (`distance`, `length`, …) by which `TaskEvaluation` (module TitansEval) groups accuracy; other fields are ignored, blank lines skipped.
/// `titans data task` writes such files from the built-in tasks; `titans train --tasks` and `titans eval jsonl` read
/// them.
///
/// ```swift
/// let examples = try PromptAnswerFile.read(URL(fileURLWithPath: "passkeys.jsonl"))
/// try PromptAnswerFile.write(examples, task: "s-niah-pk", to: URL(fileURLWithPath: "copy.jsonl"))
/// ```
public enum PromptAnswerFile {
    /// Every example of the file at `url`, in order.
    public static func read(_ url: URL) throws -> [TaskExample] {
        let path = url.path
        let data: Data
        switch FileKind.contents(of: path) {
        case .success(let contents): data = contents
        case .failure(.missing): throw PromptAnswerError.missing(path: path)
        case .failure(.notARegularFile): throw PromptAnswerError.notARegularFile(path: path)
        case .failure(.unreadable(let reason)): throw PromptAnswerError.unreadable(path: path, reason: reason)
        }
        var examples: [TaskExample] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            guard line.contains(where: { ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains($0) }) else { continue }
            guard let object = try? JSONDecoder().decode([String: Value].self, from: Data(line)) else {
                throw PromptAnswerError.notAnObject(path: path, line: number)
            }
            guard case .text(let prompt)? = object["prompt"] else { throw PromptAnswerError.missingField(path: path, line: number, field: "prompt") }
            guard case .text(let answer)? = object["answer"] else { throw PromptAnswerError.missingField(path: path, line: number, field: "answer") }
            guard !answer.isEmpty else { throw PromptAnswerError.emptyField(path: path, line: number, field: "answer") }
            guard !prompt.isEmpty else { throw PromptAnswerError.emptyField(path: path, line: number, field: "prompt") }
            var fields: [String: Double] = [:]
            for (key, value) in object {
                if case .number(let number) = value { fields[key] = number }
            }
            examples.append(TaskExample(prompt: Array(prompt.utf8), answer: Array(answer.utf8), fields: fields))
        }
        guard !examples.isEmpty else { throw PromptAnswerError.empty(path: path) }
        return examples
    }

    /// A field's value: text, a number, or anything else (ignored).
    private enum Value: Decodable {
        case text(String), number(Double), other

        init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let text = try? value.decode(String.self) {
                self = .text(text)
            } else if (try? value.decode(Bool.self)) == nil, let number = try? value.decode(Double.self), number.isFinite {
                self = .number(number)
            } else {
                self = .other
            }
        }
    }

    /// `examples` as JSON lines at `url` (written whole to a temporary file, then renamed), each with `task` beside its fields.
    public static func write(_ examples: [TaskExample], task: String, to url: URL) throws {
        var text = Data()
        for example in examples {
            var object: [String: Any] = ["prompt": String(decoding: example.prompt, as: UTF8.self),
                                         "answer": String(decoding: example.answer, as: UTF8.self), "task": task]
            for (key, value) in example.fields { object[key] = value }
            text += try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            text.append(UInt8(ascii: "\n"))
        }
        do { try text.write(to: url, options: .atomic) } catch {
            throw PromptAnswerError.unwritable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Why a prompt–answer file cannot be used.
public enum PromptAnswerError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case notARegularFile(path: String)
    case unreadable(path: String, reason: String)
    case notAnObject(path: String, line: Int)
    case missingField(path: String, line: Int, field: String)
    case emptyField(path: String, line: Int, field: String)
    case empty(path: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path): return "no task file at \(path); check the path (make one with `titans data task`)"
        case .notARegularFile(let path): return "\(path) is not a regular file; pass a JSON-lines file of {\"prompt\": …, \"answer\": …}"
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .notAnObject(path, line):
            return "\(path), line \(line): not a JSON object; each line must be {\"prompt\": \"…\", \"answer\": \"…\"}"
        case let .missingField(path, line, field):
            return "\(path), line \(line): no \"\(field)\" string; each line must be {\"prompt\": \"…\", \"answer\": \"…\"}"
        case let .emptyField(path, line, field): return "\(path), line \(line): the \(field) is empty; a task needs a question and an answer"
        case .empty(let path): return "\(path) holds no examples; each line must be {\"prompt\": \"…\", \"answer\": \"…\"}"
        case let .unwritable(path, reason): return "cannot write \(path): \(reason)"
        }
    }
}
