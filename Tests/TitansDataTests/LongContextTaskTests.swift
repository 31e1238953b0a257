import Foundation
import Testing
@testable import TitansData

/// The long-context task generators: exact lengths, seeded, and every answer the one that a separate reading of the
/// prompt's text gives (``Solver``), so a generator that wrote a wrong answer or lost a fact fails.
struct LongContextTaskTests {
    /// Answers a task's question from the prompt text alone, by simulating the story the sentences tell.
    enum Solver {
        static func matches(_ pattern: String, _ text: String) -> [[String]] {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
            let ns = text as NSString
            return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
                (1..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
            }
        }
        static let name = "(Mary|John|Sandra|Daniel|Fred|Julie|Bill|Emma)"
        static let move = "(?:went to|moved to|journeyed to|travelled to) the (\\w+)\\."
        static let take = "(?:picked up|got|grabbed|took) the (\\w+)\\."
        static let drop = "(?:dropped|put down|discarded|left) the (\\w+)\\."

        static func answer(_ task: String, _ prompt: String) -> String? {
            let question = prompt.components(separatedBy: "\n").last ?? ""
            switch task {
            case "s-niah-pk": return matches("The pass key is (\\d+)\\.", prompt).first?[0]
            case "s-niah-n", "s-niah-w":
                guard let key = matches("for ([a-z]+-[a-z]+)\\?", question).first?[0] else { return nil }
                return matches("special magic (?:number|word)s for \(key) is (\\w+)\\.", prompt).first?[0]
            case "mqar":
                guard let key = matches("code of ([a-z]+-[a-z]+)\\?", question).first?[0] else { return nil }
                return matches("The code of \(key) is (\\d+)\\.", prompt).first?[0]
            case "qa1":
                guard let who = matches("Where is \(name)\\?", question).first?[0] else { return nil }
                return matches("\(who) \(move)", prompt).last?[0]
            case "qa2", "qa3":
                return objectStory(prompt, question)
            case "qa4":
                let opposite = ["north": "south", "south": "north", "east": "west", "west": "east"]
                var relations: [(String, String, String)] = []  // (a, direction, b): a is direction of b
                for m in matches("The (\\w+) is (north|south|east|west) of the (\\w+)\\.", prompt) {
                    relations += [(m[0], m[1], m[2]), (m[2], opposite[m[1]]!, m[0])]
                }
                if let q = matches("What is (\\w+) of the (\\w+)\\?", question).first {
                    return relations.first { $0.1 == q[0] && $0.2 == q[1] }?.0
                }
                if let q = matches("What is the (\\w+) (\\w+) of\\?", question).first {
                    return relations.first { $0.0 == q[0] && $0.1 == q[1] }?.2
                }
                return nil
            case "qa5":
                let gives = matches("\(name) (?:gave|handed|passed) the (\\w+) to \(name)\\.", prompt)
                if let q = matches("Who gave the (\\w+) to \(name)\\?", question).first { return gives.first { $0[1] == q[0] && $0[2] == q[1] }?[0] }
                if let q = matches("What did \(name) give to \(name)\\?", question).first { return gives.first { $0[0] == q[0] && $0[2] == q[1] }?[1] }
                if let q = matches("Who did \(name) give the (\\w+) to\\?", question).first { return gives.first { $0[0] == q[0] && $0[1] == q[1] }?[2] }
                return nil
            default: return nil
            }
        }

        /// qa2 and qa3: where each person is, who holds each object, and the rooms each object has been in.
        static func objectStory(_ prompt: String, _ question: String) -> String? {
            var room: [String: String] = [:], holder: [String: String] = [:], trail: [String: [String]] = [:]
            func arrive(_ object: String, _ place: String?) {
                guard let place, trail[object]?.last != place else { return }
                trail[object, default: []].append(place)
            }
            for m in matches("\(name) (\(move.dropLast(2))\\.|\(take.dropLast(2))\\.|\(drop.dropLast(2))\\.)", prompt) {
                let (who, sentence) = (m[0], m[1])
                if let place = matches(move, sentence).first?[0] {
                    room[who] = place
                    for (object, person) in holder where person == who { arrive(object, place) }
                } else if let object = matches(take, sentence).first?[0] {
                    holder[object] = who
                    arrive(object, room[who])
                } else if let object = matches(drop, sentence).first?[0] {
                    holder[object] = nil
                }
            }
            if let object = matches("Where is the (\\w+)\\?", question).first?[0] { return trail[object]?.last }
            if let q = matches("Where was the (\\w+) before the (\\w+)\\?", question).first, let path = trail[q[0]],
               let i = path.lastIndex(of: q[1]), i > 0 {
                return path[i - 1]
            }
            return nil
        }
    }

    @Test(arguments: TaskCatalog.names)
    func everyExampleHasItsLengthAndTheAnswerItsTextImplies(name: String) throws {
        let task = try #require(TaskCatalog.task(named: name))
        var rng = RandomGenerator(seed: 7)
        for length in [task.minimumLength, task.minimumLength + 37, 2048] {
            for _ in 0..<25 {
                let example = task.example(length: length, generator: &rng)
                #expect(example.bytes.count == length)
                #expect(example.fields["length"] == Double(length))
                let text = String(decoding: example.prompt, as: UTF8.self)
                #expect(Solver.answer(name, text) == example.answerText, "\(name) at \(length): \(text.suffix(200))")
                let distance = try #require(example.fields["distance"])
                #expect(distance > 0 && distance <= Double(example.prompt.count))
            }
        }
    }

    /// The same seed gives the same examples; another seed others.
    @Test func examplesAreSeeded() throws {
        for name in TaskCatalog.names {
            let task = try #require(TaskCatalog.task(named: name))
            var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3), c = RandomGenerator(seed: 4)
            let first = (0..<3).map { _ in task.example(length: 1024, generator: &a) }
            #expect(first == (0..<3).map { _ in task.example(length: 1024, generator: &b) })
            #expect(first != (0..<3).map { _ in task.example(length: 1024, generator: &c) })
        }
    }

    /// The reasoning stories' sentences keep inside the bounds `minimumLength` is made of.
    @Test(arguments: ReasoningTask.Family.allCases)
    func storiesKeepInsideTheirBounds(family: ReasoningTask.Family) {
        let task = ReasoningTask(family)
        var rng = RandomGenerator(seed: 11)
        for _ in 0..<500 {
            let story = task.story(generator: &rng)
            #expect(story.facts.count <= task.mostFacts)
            #expect(story.facts.allSatisfy { $0.utf8.count + 1 <= ReasoningTask.longestFact })
            #expect("\nQuestion: \(story.question) Answer: ".utf8.count <= ReasoningTask.longestQuestion)
            #expect(story.answer.utf8.count <= ReasoningTask.longestAnswer)
        }
    }

    /// The needle lands at every depth of the haystack.
    @Test func needlesSpreadOverTheHaystack() {
        var rng = RandomGenerator(seed: 5)
        let depths = (0..<400).map { _ in NeedleTask(.word).example(length: 1500, generator: &rng).fields["depth"] ?? -1 }
        for low in stride(from: 0.0, to: 1.0, by: 0.2) {
            #expect(depths.contains { $0 >= low && $0 < low + 0.2 }, "no needle at depth \(low)–\(low + 0.2)")
        }
    }

    /// A haystack file's text holds the needle; files that cannot serve are refused with what to do.
    @Test func haystackFromAFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("haystack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let book = folder.appendingPathComponent("book.txt")
        try Data(String(repeating: "In the beginning was a long quiet page.\nAnd then another one. ", count: 80).utf8).write(to: book)
        let haystack = try Haystack(contentsOf: book)
        var rng = RandomGenerator(seed: 1)
        let example = NeedleTask(.number, haystack: haystack).example(length: 3000, generator: &rng)
        let text = String(decoding: example.prompt, as: UTF8.self)
        #expect(text.contains("quiet page. And then") && !text.contains("\n\n"))
        #expect(Solver.answer("s-niah-n", text) == example.answerText)

        #expect(throws: HaystackError.missing(path: folder.appendingPathComponent("none").path)) {
            try Haystack(contentsOf: folder.appendingPathComponent("none"))
        }
        #expect(throws: HaystackError.notARegularFile(path: folder.path)) { try Haystack(contentsOf: folder) }
        let short = folder.appendingPathComponent("short.txt")
        try Data("too short".utf8).write(to: short)
        #expect(throws: HaystackError.tooShort(path: short.path, byteCount: 9)) { try Haystack(contentsOf: short) }
    }
}
