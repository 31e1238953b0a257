import Foundation

/// Reads the parts of a Hugging Face `tokenizer.json` this package implements, refusing the others by name.
struct TokenizerFile {
    let path: String

    private func unsupported(_ what: String) -> TokenizerError { .unsupported(path: path, what: what) }
    private func malformed(_ reason: String) -> TokenizerError { .notATokenizer(path: path, reason: reason) }

    private func type(_ object: [String: Any], _ part: String) throws -> String {
        guard let type = object["type"] as? String else { throw malformed("a \(part) without a \"type\"") }
        return type
    }

    /// Whether `value` is absent or JSON null.
    private func isNull(_ value: Any?) -> Bool { value == nil || value is NSNull }

    func model(_ object: [String: Any]) throws -> BytePairModel {
        let kind = try type(object, "model")
        guard kind == "BPE" else { throw unsupported("a \(kind) model") }
        for option in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = object[option] as? String, !value.isEmpty { throw unsupported("BPE's \(option)") }
        }
        guard let vocabulary = object["vocab"] as? [String: Int] else { throw malformed("its BPE model has no vocabulary") }
        guard let mergeList = object["merges"] as? [Any] else { throw malformed("its BPE model has no merges") }
        var merges: [BytePairModel.Pair: (rank: Int, id: Int)] = [:]
        for (rank, entry) in mergeList.enumerated() {
            let parts: [String]
            if let text = entry as? String {
                parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            } else if let pair = entry as? [String] {
                parts = pair
            } else {
                throw malformed("merge \(rank) is neither \"a b\" nor [\"a\", \"b\"]")
            }
            guard parts.count == 2, let left = vocabulary[parts[0]], let right = vocabulary[parts[1]],
                  let merged = vocabulary[parts[0] + parts[1]] else {
                throw malformed("merge \(rank) (\(entry)) joins tokens that are not in the vocabulary")
            }
            merges[BytePairModel.Pair(left: left, right: right)] = merges[BytePairModel.Pair(left: left, right: right)] ?? (rank, merged)
        }
        var unknown: Int? = nil
        if let token = object["unk_token"] as? String {
            guard let id = vocabulary[token] else { throw malformed("its unknown token \(token) is not in the vocabulary") }
            unknown = id
        }
        return BytePairModel(vocabulary: vocabulary, merges: merges, unknown: unknown,
                             fuseUnknown: object["fuse_unk"] as? Bool ?? false, byteFallback: object["byte_fallback"] as? Bool ?? false,
                             ignoreMerges: object["ignore_merges"] as? Bool ?? false)
    }

    func normalizer(_ value: Any?) throws -> TextNormalizer? {
        if isNull(value) { return nil }
        guard let object = value as? [String: Any] else { throw malformed("its normalizer is not an object") }
        let kind = try type(object, "normalizer")
        switch kind {
        case "Sequence":
            guard let steps = object["normalizers"] as? [Any] else { throw malformed("a Sequence normalizer without steps") }
            return .sequence(try steps.compactMap { try normalizer($0) })
        case "Prepend":
            guard let prefix = object["prepend"] as? String else { throw malformed("a Prepend normalizer without its text") }
            return .prepend(prefix)
        case "Replace":
            let (pattern, content) = try replacement(object, "normalizer")
            return .replace(pattern, with: content)
        case "NFC", "NFD", "NFKC", "NFKD": return .unicode(TextNormalizer.Form(rawValue: kind) ?? .nfc)
        case "Lowercase": return .lowercase
        default: throw unsupported("the \(kind) normalizer")
        }
    }

    func preTokenizer(_ value: Any?) throws -> PreTokenizer? {
        if isNull(value) { return nil }
        guard let object = value as? [String: Any] else { throw malformed("its pre-tokenizer is not an object") }
        let kind = try type(object, "pre-tokenizer")
        switch kind {
        case "Sequence":
            guard let steps = object["pretokenizers"] as? [Any] else { throw malformed("a Sequence pre-tokenizer without steps") }
            return .sequence(try steps.compactMap { try preTokenizer($0) })
        case "ByteLevel":
            return .byteLevel(prefixSpace: object["add_prefix_space"] as? Bool ?? true, useRegex: object["use_regex"] as? Bool ?? true)
        case "Metaspace":
            let (replacement, prepend) = try metaspace(object)
            return .metaspace(replacement: replacement, prepend: prepend, split: object["split"] as? Bool ?? true)
        default: throw unsupported("the \(kind) pre-tokenizer")
        }
    }

    func decoder(_ value: Any?) throws -> TokenDecoder? {
        if isNull(value) { return nil }
        guard let object = value as? [String: Any] else { throw malformed("its decoder is not an object") }
        let kind = try type(object, "decoder")
        switch kind {
        case "Sequence":
            guard let steps = object["decoders"] as? [Any] else { throw malformed("a Sequence decoder without steps") }
            return .sequence(try steps.compactMap { try decoder($0) })
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Replace":
            let (pattern, content) = try replacement(object, "decoder")
            return .replace(pattern, with: content)
        case "Strip":
            guard let content = (object["content"] as? String).flatMap({ $0.count == 1 ? $0.first : nil }) else {
                throw malformed("a Strip decoder without a one-character content")
            }
            return .strip(content: content, start: object["start"] as? Int ?? 0, stop: object["stop"] as? Int ?? 0)
        case "Metaspace":
            let (replacement, prepend) = try metaspace(object)
            return .metaspace(replacement: replacement, prepend: prepend)
        default: throw unsupported("the \(kind) decoder")
        }
    }

    /// The added tokens; options that change how they match are refused.
    func addedTokens(_ value: Any?) throws -> [(content: String, id: Int)] {
        if isNull(value) { return [] }
        guard let list = value as? [[String: Any]] else { throw malformed("its added_tokens is not a list of objects") }
        return try list.map { token in
            guard let content = token["content"] as? String, let id = token["id"] as? Int, id >= 0 else {
                throw malformed("an added token without content or id")
            }
            for option in ["single_word", "lstrip", "rstrip"] where token[option] as? Bool == true {
                throw unsupported("the \(option) option of the added token \(content)")
            }
            if token["normalized"] as? Bool == true && token["special"] as? Bool != true {
                throw unsupported("the added token \(content) matched after normalisation")
            }
            return (content, id)
        }
    }

    /// A Replace step's literal pattern and its replacement.
    private func replacement(_ object: [String: Any], _ part: String) throws -> (String, String) {
        guard let pattern = object["pattern"] as? [String: Any], let content = object["content"] as? String else {
            throw malformed("a Replace \(part) without pattern or content")
        }
        guard let text = pattern["String"] as? String else { throw unsupported("a Replace \(part) with a regular expression") }
        return (text, content)
    }

    /// Metaspace's replacement character and prepend scheme (from `prepend_scheme`, or the older `add_prefix_space`).
    private func metaspace(_ object: [String: Any]) throws -> (Character, PreTokenizer.Prepend) {
        guard let text = object["replacement"] as? String, text.count == 1, let replacement = text.first else {
            throw malformed("a Metaspace step without a one-character replacement")
        }
        if let scheme = object["prepend_scheme"] as? String {
            guard let prepend = PreTokenizer.Prepend(rawValue: scheme) else { throw unsupported("the Metaspace prepend scheme \(scheme)") }
            return (replacement, prepend)
        }
        return (replacement, object["add_prefix_space"] as? Bool == false ? .never : .always)
    }
}
