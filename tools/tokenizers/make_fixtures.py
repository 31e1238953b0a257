"""Makes the tokenizer fixtures of Tests/TitansDataTests/Fixtures/tokenizers with Hugging Face `tokenizers` (PyPI;
used only here, never by the Swift package): trains three BPE tokenizers with that library's own trainer on this
repository's README plus the samples, saves their tokenizer.json, and records how the library encodes every sample
(without added special tokens), so the Swift encoder can be held to the same ids.

  python3 -m venv V && V/bin/pip install tokenizers && V/bin/python tools/tokenizers/make_fixtures.py

The three: a GPT-2-style byte-level BPE (ByteLevel pre-tokenizer and decoder); a Llama-style BPE with byte fallback
(Prepend "▁" and Replace " " → "▁" normalizers, no pre-tokenizer, <0xXX> byte tokens); and a Metaspace BPE with byte
fallback behind an NFKC normalizer, split on "▁" (the SentencePiece-like layout of later models)."""
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
out = os.path.join(root, "Tests", "TitansDataTests", "Fixtures", "tokenizers")
os.makedirs(out, exist_ok=True)

samples = [
    "Hello, world! The memory learns while it reads.",
    "  leading spaces, trailing spaces   ",
    "tabs\tand\nnew lines\n\n\nand\r\nwindows lines",
    "Accents: café, naïve, Ørsted, Ångström, façade, jalapeño, Straße.",
    "Combining marks: e\u0301 a\u0308 n\u0303 (decomposed) and é ä ñ (composed).",
    "CJK: 記憶は読みながら学ぶ。神经记忆在测试时学习。기억은 읽으면서 배운다.",
    "Emoji: 🧠💾🚀 👩‍💻 👍🏽 🇫🇷 and ❤️ with a variation selector.",
    "Numbers: 3.14159, 1,000,000, 2026-11-26, 0x1F, ½ ² Ⅻ ٣.",
    "Code: func step(_ x: Tensor) -> Tensor { return x.matmul(w) * 0.5 } // comment",
    "def f(x):\n    return {'a': [1, 2, 3], \"b\": None}  # python\n",
    "Contractions: it's, they're, we've, I'm, you'll, he'd, DON'T, o'clock.",
    "Punctuation runs: ?!... --- *** ((( ))) <<< >>> ,,, ;;; ''' \"\"\"",
    "Whitespace runs:     four spaces,\t\t two tabs, \u00a0non-breaking\u2003em space.",
    "<|endoftext|>Special tokens inside text: <s> and </s> and <unk>.",
    "Mixed: Titans (Behrouz et al.) 記憶 🧠 x² = 4 — “quoted” ‘single’ «guillemets».",
    "",
    " ",
    "a",
    "▁already has the metaspace character▁inside",
    "A space before a combining mark: a \u0301b, and  \u0308 two.",
]

corpus = open(os.path.join(root, "README.md"), encoding="utf-8").read().split("\n\n") + samples * 3
byte_tokens = [f"<0x{b:02X}>" for b in range(256)]


def gpt2():
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=1000, special_tokens=["<|endoftext|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                      show_progress=False))
    return t


def llama():
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    t.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                   decoders.Strip(" ", 1, 0)])
    t.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=900, special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens,
                                                      show_progress=False))
    return t


def metaspace():
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    t.normalizer = normalizers.NFKC()
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    t.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True),
                                   decoders.ByteFallback(), decoders.Fuse()])
    t.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=900, special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens,
                                                      show_progress=False))
    return t


encodings, decodings = {}, {}
for name, make in [("gpt2", gpt2), ("llama", llama), ("metaspace", metaspace)]:
    path = os.path.join(out, f"{name}.json")
    make().save(path)
    # As in Llama's own file, the byte tokens <0x00>…<0xFF> stay in the vocabulary but are not added tokens (the
    # trainer's special_tokens put them in both); the ids below come from the library reading the saved file.
    layout = json.load(open(path, encoding="utf-8"))
    layout["added_tokens"] = [t for t in layout["added_tokens"] if t["content"] not in byte_tokens]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(layout, f, ensure_ascii=False, indent=1)
    tokenizer = Tokenizer.from_file(path)
    encodings[name] = [tokenizer.encode(s, add_special_tokens=False).ids for s in samples]
    decoded = [tokenizer.decode(ids, skip_special_tokens=False) for ids in encodings[name]]
    decodings[name] = decoded
    print(f"{name}: vocabulary {tokenizer.get_vocab_size()}, "
          f"{sum(map(len, encodings[name]))} ids over {len(samples)} samples; "
          f"{sum(d == s for d, s in zip(decoded, samples))} of them decode to the sample")
with open(os.path.join(out, "samples.json"), "w", encoding="utf-8") as f:
    json.dump({"tokenizers_version": __import__("tokenizers").__version__, "samples": samples, "ids": encodings,
               "decoded": decodings},
              f, ensure_ascii=False, indent=0)
    f.write("\n")
print(f"wrote {out}", file=sys.stderr)
