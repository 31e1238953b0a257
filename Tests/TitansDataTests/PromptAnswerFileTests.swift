import Foundation
import Testing
import TitansData

struct PromptAnswerFileTests {
    static func scratch(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tasks-\(UUID().uuidString).jsonl")
        try Data(text.utf8).write(to: url)
        return url
    }

    /// Written examples read back the same, fields included; a line's text, boolean and null fields are left out.
    @Test func roundTrip() throws {
        var rng = RandomGenerator(seed: 2)
        let examples = (0..<5).map { _ in ReasoningTask(.threeArgumentRelations).example(length: 400, generator: &rng) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tasks-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try PromptAnswerFile.write(examples, task: "qa5", to: url)
        #expect(try PromptAnswerFile.read(url) == examples)

        let mixed = try Self.scratch("""
            {"prompt": "a\\nb", "answer": "c", "distance": 3, "ok": true, "note": "x", "none": null, "big": 1e400}

            {"prompt": "é", "answer": "ü", "depth": 0.25}
            """)
        defer { try? FileManager.default.removeItem(at: mixed) }
        let read = try PromptAnswerFile.read(mixed)
        #expect(read == [TaskExample(prompt: Array("a\nb".utf8), answer: Array("c".utf8), fields: ["distance": 3]),
                         TaskExample(prompt: Array("é".utf8), answer: Array("ü".utf8), fields: ["depth": 0.25])])
    }

    /// Each kind of bad line is refused with its line number.
    @Test(arguments: [
        ("{\"prompt\": \"a\", \"answer\": \"b\"}\nnot json\n", PromptAnswerError.notAnObject(path: "", line: 2)),
        ("[1, 2]\n", .notAnObject(path: "", line: 1)),
        ("{\"prompt\": \"a\"}\n", .missingField(path: "", line: 1, field: "answer")),
        ("{\"answer\": \"a\", \"prompt\": 3}\n", .missingField(path: "", line: 1, field: "prompt")),
        ("{\"prompt\": \"a\", \"answer\": \"\"}\n", .emptyField(path: "", line: 1, field: "answer")),
        ("{\"prompt\": \"\", \"answer\": \"a\"}\n", .emptyField(path: "", line: 1, field: "prompt")),
        ("\n  \n", .empty(path: "")),
    ])
    func badLinesAreRefused(text: String, expected: PromptAnswerError) throws {
        let url = try Self.scratch(text)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = try #require(throws: PromptAnswerError.self) { try PromptAnswerFile.read(url) }
        #expect(error.description == Self.at(expected, url.path).description)
    }

    static func at(_ error: PromptAnswerError, _ path: String) -> PromptAnswerError {
        switch error {
        case .notAnObject(_, let line): return .notAnObject(path: path, line: line)
        case let .missingField(_, line, field): return .missingField(path: path, line: line, field: field)
        case let .emptyField(_, line, field): return .emptyField(path: path, line: line, field: field)
        case .empty: return .empty(path: path)
        default: return error
        }
    }

    @Test func missingAndSpecialFilesAreRefused() {
        #expect(throws: PromptAnswerError.missing(path: "/nonexistent/tasks.jsonl")) {
            try PromptAnswerFile.read(URL(fileURLWithPath: "/nonexistent/tasks.jsonl"))
        }
        #expect(throws: PromptAnswerError.notARegularFile(path: "/tmp")) { try PromptAnswerFile.read(URL(fileURLWithPath: "/tmp")) }
    }
}
