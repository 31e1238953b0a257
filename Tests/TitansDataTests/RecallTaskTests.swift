import Testing
import TitansData

struct RecallTaskTests {
    @Test func exampleHoldsTheFactAtTheRequestedDistance() {
        let task = RecallTask(length: 64)
        var rng = RandomGenerator(seed: 1)
        for distance in [3, 10, 60] {
            let e = task.example(distance: distance, generator: &rng)
            #expect(e.bytes.count == 65)
            let question = 63
            #expect(e.bytes[question - 1] == RecallTask.questionMarker)
            let key = e.bytes[question]
            #expect(RecallTask.keys.contains(key))
            let value = question - distance
            #expect(e.bytes[value - 2] == RecallTask.factMarker && e.bytes[value - 1] == key)
            #expect(e.bytes[value] == e.answer && e.bytes[64] == e.answer && RecallTask.values.contains(e.answer))
            #expect(e.answerPosition == 63)
            // Nowhere else does the key appear, so the answer is recoverable only from the fact.
            #expect(e.bytes.indices.filter { e.bytes[$0] == key } == [value - 1, question])
        }
    }

    @Test func batchesAreDeterministicAndShifted() {
        let task = RecallTask(length: 32)
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        let x = task.batch(size: 3, distances: 3...28, generator: &a)
        let y = task.batch(size: 3, distances: 3...28, generator: &b)
        #expect(x.inputs == y.inputs && x.targets == y.targets && x.answers == y.answers)
        #expect(x.inputs.shape == [3, 32])
        for row in 0..<3 {
            let inputs = Array(x.inputs.values[(row * 32)..<((row + 1) * 32)])
            let targets = Array(x.targets.values[(row * 32)..<((row + 1) * 32)])
            #expect(Array(inputs.dropFirst()) == Array(targets.dropLast()))
            #expect(targets[x.answerPositions[row]] == x.answers[row])
        }
    }
}
