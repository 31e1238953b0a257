import Foundation

/// BABILong-style reasoning in a haystack (the paper's Fig. 6, §5.4): the five bAbI-like task families qa1–qa5,
/// generated from our own vocabulary of people, rooms and objects. A story's fact sentences are scattered, in order,
/// over sentence boundaries of a long haystack, and one question about them comes at the end; the answer is one word.
/// - qa1, one supporting fact: "Mary went to the kitchen." … "Where is Mary?"
/// - qa2, two: "John picked up the apple." "John went to the office." … "Where is the apple?"
/// - qa3, three: the object's rooms in turn … "Where was the apple before the office?"
/// - qa4, two-argument relations: "The garden is north of the kitchen." … "What is north of the kitchen?"
/// - qa5, three-argument relations: "Mary gave the milk to Fred." … "Who gave the milk to Fred?"
/// The facts about other people and objects are distractors: they never change the answer.
///
/// Fields: `length`, `facts` (fact sentences in the story) and `distance` (bytes from the first supporting fact to the
/// prompt's end).
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let example = ReasoningTask(.twoSupportingFacts).example(length: 2048, generator: &rng)
/// print(example.answerText)   // a room
/// ```
public struct ReasoningTask: LongContextTask {
    public enum Family: String, Sendable, CaseIterable {
        case singleSupportingFact = "qa1", twoSupportingFacts = "qa2", threeSupportingFacts = "qa3"
        case twoArgumentRelations = "qa4", threeArgumentRelations = "qa5"
    }
    public let family: Family
    public let haystack: Haystack

    public init(_ family: Family, haystack: Haystack = .prose) {
        self.family = family
        self.haystack = haystack
    }

    public var name: String { family.rawValue }

    static let people = ["Mary", "John", "Sandra", "Daniel", "Fred", "Julie", "Bill", "Emma"]
    static let rooms = ["kitchen", "garden", "office", "hallway", "bathroom", "bedroom", "cellar", "attic"]
    static let objects = ["apple", "football", "milk", "key", "book", "lamp"]
    static let moves = ["went to", "moved to", "journeyed to", "travelled to"]
    static let takes = ["picked up", "got", "grabbed", "took"]
    static let drops = ["dropped", "put down", "discarded", "left"]
    static let gives = ["gave", "handed", "passed"]
    static let directions = [("north", "south"), ("east", "west")]

    /// Bounds on the parts that are not haystack (tested against every sentence the generator can write).
    static let longestFact = 40, longestQuestion = 64, longestAnswer = 8
    /// The most fact sentences a story of each family has.
    var mostFacts: Int {
        switch family {
        case .singleSupportingFact: return 7
        case .twoSupportingFacts: return 9
        case .threeSupportingFacts: return 8
        case .twoArgumentRelations: return 3
        case .threeArgumentRelations: return 5
        }
    }

    public var minimumLength: Int { mostFacts * Self.longestFact + Self.longestQuestion + Self.longestAnswer }

    /// A story: its fact sentences in order, which of them is the first supporting one, the question and the answer.
    struct Story {
        var facts: [String]
        var firstSupporting: Int
        var question: String
        var answer: String
    }

    /// The story's own chain and the distractors' chain merged in a random order that keeps each chain's order.
    static func interleave(_ main: [String], _ other: [String], generator: inout RandomGenerator) -> (facts: [String], firstMain: Int) {
        var (i, j, facts, firstMain) = (0, 0, [String](), -1)
        while i < main.count || j < other.count {
            let takeMain = j == other.count || (i < main.count && generator.uniformIndex(main.count - i + other.count - j) < main.count - i)
            if takeMain {
                if firstMain < 0 { firstMain = facts.count }
                facts.append(main[i])
                i += 1
            } else {
                facts.append(other[j])
                j += 1
            }
        }
        return (facts, max(firstMain, 0))
    }

    /// `count` rooms in a row for one person, each different from the one before (starting away from `from`).
    static func walk(_ count: Int, from: String? = nil, among rooms: [String], generator: inout RandomGenerator) -> [String] {
        var path: [String] = []
        for _ in 0..<count { path.append(generator.pick(rooms.filter { $0 != (path.last ?? from) })) }
        return path
    }

    /// Moves of the people `who`, 1 or 2 each, chained in a random order.
    static func moveSentences(_ who: [String], generator: inout RandomGenerator) -> [String] {
        var sentences: [String] = []
        for person in who {
            let own = walk(1 + generator.uniformIndex(2), among: rooms, generator: &generator).map {
                "\(person) \(generator.pick(moves)) the \($0)."
            }
            sentences = interleave(sentences, own, generator: &generator).facts
        }
        return sentences
    }

    func story(generator g: inout RandomGenerator) -> Story {
        let cast = g.shuffled(Self.people)
        let (a, b, c, d) = (cast[0], cast[1], cast[2], cast[3])
        let things = g.shuffled(Self.objects)
        let (object, other) = (things[0], things[1])
        func move(_ who: String, _ room: String) -> String { "\(who) \(g.pick(Self.moves)) the \(room)." }
        switch family {
        case .singleSupportingFact:
            let path = Self.walk(1 + g.uniformIndex(3), among: Self.rooms, generator: &g)
            let main = path.map { move(a, $0) }
            let (facts, first) = Self.interleave(main, Self.moveSentences([b, c], generator: &g), generator: &g)
            return Story(facts: facts, firstSupporting: first, question: "Where is \(a)?", answer: path[path.count - 1])
        case .twoSupportingFacts:
            // a goes somewhere, takes the object, walks on (and may drop it and walk away).
            let path = Self.walk(2 + g.uniformIndex(2), among: Self.rooms, generator: &g)
            var main = [move(a, path[0]), "\(a) \(g.pick(Self.takes)) the \(object)."] + path.dropFirst().map { move(a, $0) }
            let answer = path[path.count - 1]
            if g.uniformIndex(2) == 0 {
                main += ["\(a) \(g.pick(Self.drops)) the \(object).", move(a, Self.walk(1, from: answer, among: Self.rooms, generator: &g)[0])]
            }
            var distractors = Self.moveSentences([b], generator: &g)
            distractors.insert("\(b) \(g.pick(Self.takes)) the \(other).", at: 1)
            let (facts, first) = Self.interleave(main, distractors, generator: &g)
            return Story(facts: facts, firstSupporting: first, question: "Where is the \(object)?", answer: answer)
        case .threeSupportingFacts:
            // The object's rooms in turn, all different, so "before R" names one room.
            let path = Array(g.shuffled(Self.rooms).prefix(3))
            let main = [move(a, path[0]), "\(a) \(g.pick(Self.takes)) the \(object)."] + path.dropFirst().map { move(a, $0) }
            var distractors = Self.moveSentences([b], generator: &g)
            distractors.insert("\(b) \(g.pick(Self.takes)) the \(other).", at: 1)
            let (facts, first) = Self.interleave(main, distractors, generator: &g)
            let asked = 1 + g.uniformIndex(2)
            return Story(facts: facts, firstSupporting: first, question: "Where was the \(object) before the \(path[asked])?",
                         answer: path[asked - 1])
        case .twoArgumentRelations:
            let places = g.shuffled(Self.rooms)
            let (direction, opposite) = g.pick(Self.directions)
            let (x, y, z) = (places[0], places[1], places[2])
            let main = ["The \(x) is \(direction) of the \(y).", "The \(z) is \(opposite) of the \(y)."]
            let (otherDirection, _) = Self.directions.first { $0.0 != direction } ?? Self.directions[0]
            let distractor = ["The \(places[3]) is \(otherDirection) of the \(places[4])."]
            let (facts, first) = Self.interleave(g.shuffled(main), distractor, generator: &g)
            let story = g.uniformIndex(2) == 0
                ? (question: "What is \(direction) of the \(y)?", answer: x)
                : (question: "What is the \(y) \(opposite) of?", answer: x)
            return Story(facts: facts, firstSupporting: first, question: story.question, answer: story.answer)
        case .threeArgumentRelations:
            let main = ["\(a) \(g.pick(Self.gives)) the \(object) to \(b)."]
            var distractors = Self.moveSentences([c], generator: &g)
            distractors.insert("\(c) \(g.pick(Self.gives)) the \(other) to \(d).", at: g.uniformIndex(distractors.count + 1))
            let (facts, first) = Self.interleave(main, distractors, generator: &g)
            switch g.uniformIndex(3) {
            case 0: return Story(facts: facts, firstSupporting: first, question: "Who gave the \(object) to \(b)?", answer: a)
            case 1: return Story(facts: facts, firstSupporting: first, question: "What did \(a) give to \(b)?", answer: object)
            default: return Story(facts: facts, firstSupporting: first, question: "Who did \(a) give the \(object) to?", answer: b)
            }
        }
    }

    public func example(length: Int, generator: inout RandomGenerator) -> TaskExample {
        let story = story(generator: &generator)
        let facts = story.facts.map { Array(($0 + " ").utf8) }
        let question = Array("\nQuestion: \(story.question) Answer: ".utf8), answer = Array(story.answer.utf8)
        let scattered = haystack.scatter(facts, question: question, answerCount: answer.count, length: length, generator: &generator)
        let prompt = scattered.prompt
        return TaskExample(prompt: prompt, answer: answer, fields: [
            "length": Double(prompt.count + answer.count),
            "facts": Double(facts.count),
            "distance": Double(prompt.count - scattered.starts[story.firstSupporting]),
        ])
    }
}
