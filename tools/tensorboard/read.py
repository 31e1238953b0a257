"""Reads the TensorBoard event files in a folder with TensorBoard's own reader (EventAccumulator) and prints every
scalar series: tag, number of points, first and last (step, value). With --metrics FILE (a run's metrics.jsonl),
checks that every scalar matches the JSON line of its step (to float32 rounding) and exits non-zero on a mismatch.
Used only to check `titans train --tensorboard`; the Swift package never needs Python."""
import argparse
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

parser = argparse.ArgumentParser()
parser.add_argument("folder")
parser.add_argument("--metrics")
args = parser.parse_args()

accumulator = EventAccumulator(args.folder, size_guidance={"scalars": 0})
accumulator.Reload()
tags = sorted(accumulator.Tags()["scalars"])
series = {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in tags}
for tag in tags:
    points = series[tag]
    print(f"{tag}: {len(points)} points, first {points[0]}, last {points[-1]}")

if args.metrics:
    expected = {}
    for line in open(args.metrics):
        record = json.loads(line)
        for tag, value in record.items():
            if tag != "step":
                expected[(tag, record["step"])] = value
    mismatches = 0
    for tag in tags:
        steps = [step for step, _ in series[tag]]
        if len(steps) != len(set(steps)):
            print(f"{tag}: a step appears twice")
            mismatches += 1
        for step, value in series[tag]:
            want = expected.pop((tag, step), None)
            if want is None or abs(value - want) > 1e-6 * max(1.0, abs(want)):
                print(f"{tag} at step {step}: TensorBoard read {value}, metrics.jsonl has {want}")
                mismatches += 1
    for (tag, step) in expected:
        print(f"{tag} at step {step}: in metrics.jsonl, not read from the events")
        mismatches += 1
    print(f"{sum(len(p) for p in series.values())} scalars read back; {mismatches} mismatches with {args.metrics}")
    sys.exit(1 if mismatches else 0)
