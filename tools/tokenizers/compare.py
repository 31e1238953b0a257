"""Encodes a text file with Hugging Face `tokenizers` and compares with our ids (a file of space-separated ids, as
`titans tokenizer encode` prints them); prints whether they are equal and the library's speed in MB/s: one call on
the whole text (one thread), and a batch of its lines (the library's threads; lines are encoded separately, so the
ids differ). Used by tools/tokenizers/compare; the Swift package never needs Python."""
import sys
import time

from tokenizers import Tokenizer

tokenizer_path, text_path, ours_path = sys.argv[1:4]
tokenizer = Tokenizer.from_file(tokenizer_path)
text = open(text_path, encoding="utf-8").read()
megabytes = len(text.encode()) / 1e6
theirs = tokenizer.encode(text, add_special_tokens=False).ids
ours = [int(x) for x in open(ours_path).read().split()]
first = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), None)
verdict = "all equal" if theirs == ours else f"DIFFER (first at {first if first is not None else min(len(theirs), len(ours))})"


def best(f, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


one = best(lambda: tokenizer.encode(text, add_special_tokens=False))
lines = text.splitlines(keepends=True)
batch = best(lambda: tokenizer.encode_batch(lines, add_special_tokens=False))
print(f"ids: {len(theirs)} theirs, {len(ours)} ours, {verdict}; tokenizers one call {megabytes / one:.2f} MB/s, "
      f"batch of lines {megabytes / batch:.2f} MB/s")
sys.exit(0 if theirs == ours else 1)
