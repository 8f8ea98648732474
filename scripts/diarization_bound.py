"""How good the embedded diarizer could be with perfect clustering (an oracle bound).

    python scripts/diarization_bound.py ../shared/eval/manifest.json [--step 1.0]

Runs the embedded diarizer's segmentation (pyannote segmentation-3.0) and its reconstruction
(speaker count, top speakers per frame), but assigns each window's local speakers to the
reference speakers with the Hungarian algorithm on shared speaking time, instead of clustering
embeddings. The DER left is what segmentation and reconstruction alone cost: no clustering of
the local speakers can score below it. The diarizer's split pass (``embedded/splitting.py``)
re-cuts speakers below the local-speaker level, so the diarizer can beat this bound where
segmentation gives two voices one local speaker (AMI dev00/dev01). Only clips with an RTTM are
scored.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scribe.adapters.audio.pyav_decoder import PyAVDecoder
from scribe.adapters.diarization.embedded.reconstruction import (
    INACTIVE,
    LocalActivity,
    activations,
    binary_to_turns,
    reconstruct,
    speaker_count,
)
from scribe.adapters.diarization.embedded.segmentation import LocalSegmentation
from scribe.domain.transcript import SpeakerTurn
from scribe.evaluation import diarization_error_rate, load_manifest, read_rttm, read_uem


def oracle_clusters(local: LocalActivity, reference: list[SpeakerTurn]) -> np.ndarray:
    """Each window's local speakers matched one-to-one to reference speakers."""
    from scipy.optimize import linear_sum_assignment

    names = sorted({t.speaker for t in reference})
    out = np.full((local.num_chunks, local.num_local), INACTIVE, dtype=np.int64)
    offsets = local.grid.middle(np.arange(local.frames_per_chunk))
    for chunk, start in enumerate(local.chunk_starts):
        times = start + offsets
        truth = np.stack(
            [
                np.any(
                    [(times >= t.start) & (times < t.end) for t in reference if t.speaker == n], 0
                )
                for n in names
            ],
            axis=1,
        ).astype(np.float32)
        shared = local.activity[chunk].T @ truth
        rows, cols = linear_sum_assignment(shared, maximize=True)
        for row, col in zip(rows, cols, strict=True):
            if local.activity[chunk, :, row].any():
                out[chunk, row] = col
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--step", type=float, default=1.0, help="segmentation window step (s)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    segmentation = LocalSegmentation.load(step=args.step)
    totals = {"c0.25": [0.0, 0.0], "c0": [0.0, 0.0]}
    print(
        f"{'clip':16s} {'DER c0.25':>9s} {'DER c0':>7s} {'missed':>6s} {'false al':>8s} {'conf':>5s}"
    )
    for clip in load_manifest(args.manifest):
        if clip.rttm is None:
            continue
        with clip.audio.open("rb") as source:
            audio = PyAVDecoder().decode(source)
        reference = read_rttm(clip.rttm)
        local = segmentation(audio.samples)
        frames = local.grid.count(audio.duration)
        active = activations(local, oracle_clusters(local, reference), frames)
        turns = binary_to_turns(reconstruct(active, speaker_count(local, frames)), local.grid)
        uem = read_uem(clip.uem) if clip.uem else [(0.0, audio.duration)]
        collared = diarization_error_rate(reference, turns, uem=uem, collar=0.5)
        strict = diarization_error_rate(reference, turns, uem=uem, collar=0.0)
        if clip.id.startswith("ami_"):
            for key, score in (("c0.25", collared), ("c0", strict)):
                totals[key][0] += score.errors
                totals[key][1] += score.total
        print(
            f"{clip.id:16s} {100 * collared.der:9.1f} {100 * strict.der:7.1f} "
            f"{strict.missed:6.1f} {strict.false_alarm:8.1f} {strict.confusion:5.1f}"
        )
    print(
        "AMI, weighted by reference speech: "
        + ", ".join(f"DER {k} {100 * e / t:.1f} %" for k, (e, t) in totals.items() if t)
    )


if __name__ == "__main__":
    main()
