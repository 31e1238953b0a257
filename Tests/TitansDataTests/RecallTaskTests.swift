import Testing
import TitansData

struct RecallTaskTests {
    /// The fact whose key is `key`: the position of its value byte.
    static func factValuePosition(of key: Int, in bytes: [Int]) -> Int? {
        (2..<bytes.count).first { bytes[$0 - 2] == RecallTask.factMarker && bytes[$0 - 1] == key }
    }

    @Test func probeHoldsTheFactAtTheRequestedDistance() {
        let task = RecallTask(length: 64)
        var rng = RandomGenerator(seed: 1)
        for distance in [3, 10, 60] {
            let e = task.example(distance: distance, generator: &rng)
            #expect(e.bytes.count == 65 && e.questions.count == 1)
            let probe = e.questions.last!
            #expect(probe.position == 63 && probe.distance == distance)
            #expect(e.bytes[62] == RecallTask.questionMarker)
            let key = e.bytes[63]
            #expect(RecallTask.keys.contains(key) && RecallTask.values.contains(probe.answer))
            #expect(Self.factValuePosition(of: key, in: e.bytes) == 63 - distance)
            #expect(e.bytes[63 - distance] == probe.answer && e.bytes[64] == probe.answer)
            // Nowhere else does the key appear, so the answer is recoverable only from the fact.
            #expect(e.bytes.indices.filter { e.bytes[$0] == key } == [63 - distance - 1, 63])
        }
    }

    /// Every question asks about an earlier fact with its own key, and the byte after it is that fact's value.
    @Test func everyQuestionIsAnsweredByAnEarlierFact() {
        let task = RecallTask(length: 200, facts: 8)
        var rng = RandomGenerator(seed: 3)
        var counts: [Int] = []
        for distance in [3, 50, 196] {
            for _ in 0..<20 {
                let e = task.example(distance: distance, generator: &rng)
                counts.append(e.questions.count)
                #expect(e.questions.last!.position == 199 && e.questions.last!.distance == distance)
                var keys = Set<Int>()
                for q in e.questions {
                    #expect(e.bytes[q.position - 1] == RecallTask.questionMarker)
                    let key = e.bytes[q.position]
                    #expect(keys.insert(key).inserted, "key \(key) asked twice")
                    let fact = Self.factValuePosition(of: key, in: e.bytes)
                    #expect(fact == q.position - q.distance && e.bytes[fact ?? 0] == q.answer)
                    #expect(e.bytes[q.position + 1] == q.answer)
                    #expect(e.bytes.filter { $0 == key }.count == 2)
                }
                #expect(e.questions.dropLast().map(\.position) == e.questions.dropLast().map(\.position).sorted())
            }
        }
        #expect(counts.allSatisfy { $0 <= 8 } && counts.filter { $0 == 8 }.count > counts.count / 2, "\(counts)")
    }

    @Test func batchesAreDeterministicAndShifted() {
        let task = RecallTask(length: 32, facts: 3)
        for logUniform in [false, true] {
            var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
            let x = task.batch(size: 3, distances: 3...28, logUniform: logUniform, generator: &a)
            let y = task.batch(size: 3, distances: 3...28, logUniform: logUniform, generator: &b)
            #expect(x.inputs == y.inputs && x.targets == y.targets && x.questions == y.questions)
            #expect(x.inputs.shape == [3, 32])
            for row in 0..<3 {
                let inputs = Array(x.inputs.values[(row * 32)..<((row + 1) * 32)])
                let targets = Array(x.targets.values[(row * 32)..<((row + 1) * 32)])
                #expect(Array(inputs.dropFirst()) == Array(targets.dropLast()))
                for q in x.questions[row] { #expect(targets[q.position] == q.answer) }
            }
        }
    }

    /// Log-uniform distances put as many probes in each octave: about as many in 4...7 as in 128...255.
    @Test func logUniformDistancesCoverEveryOctave() {
        let task = RecallTask(length: 260)
        var rng = RandomGenerator(seed: 7)
        let b = task.batch(size: 600, distances: 4...255, logUniform: true, generator: &rng)
        let distances = b.questions.map { $0.last!.distance }
        let short = distances.filter { (4...7).contains($0) }.count, long = distances.filter { (128...255).contains($0) }.count
        #expect(distances.allSatisfy { (4...255).contains($0) })
        #expect(short > 70 && long > 70, "short \(short), long \(long) of 600 (100 expected each)")
    }
}
