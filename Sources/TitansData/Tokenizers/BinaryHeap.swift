/// A binary min-heap: ``pop()`` removes the smallest element.
struct BinaryHeap<Element: Comparable> {
    private var elements: [Element] = []

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0, elements[child] < elements[(child - 1) / 2] {
            elements.swapAt(child, (child - 1) / 2)
            child = (child - 1) / 2
        }
    }

    mutating func pop() -> Element? {
        guard let first = elements.first else { return nil }
        let last = elements.removeLast()
        guard !elements.isEmpty else { return first }
        elements[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < elements.count && elements[left] < elements[best] { best = left }
            if right < elements.count && elements[right] < elements[best] { best = right }
            if best == parent { return first }
            elements.swapAt(parent, best)
            parent = best
        }
    }
}
