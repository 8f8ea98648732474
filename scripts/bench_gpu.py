#!/usr/bin/env python
"""GPU benchmark of the production engines: NeMo Parakeet TDT 0.6B ASR + pyannote diarization.

On one GPU it transcribes and diarizes an 18-minute recording joined from two-speaker evaluation
clips and reports wall time, real-time factor, peak VRAM (``torch.cuda.max_memory_allocated``),
fp16 against fp32 ASR, ASR and diarization run in parallel (two threads, as the service does)
against one after the other, and the VRAM held after 20 jobs in a row (it must not grow).

Models: real weights when they are on the machine (``--nemo-model`` a ``.nemo`` path or a hub
name in the local Hugging Face cache; ``--pyannote`` a pipeline folder or cached hub name).
Otherwise the same architectures with random weights are built offline (Parakeet TDT 0.6B from
its real config, with the blank logit calibrated so it emits tokens at the rate of real speech;
pyannote segmentation-3.0 + WeSpeaker ResNet34 + PLDA at their real sizes); the output says
which. Random weights give the real compute cost of the networks but not of clustering real
voices, so treat diarization figures from them as indicative.

    python scripts/bench_gpu.py --out bench.json          # on a GPU, about 2-4 minutes
    python scripts/bench_gpu.py --smoke --out smoke.json  # CPU, tiny models, 20 s of audio

``--out`` ending in ``.md`` writes markdown (with the JSON inside); anything else writes JSON.
Anchor to beat: 18 minutes of audio in 20 s within 4 GB of VRAM on an RTX 3090.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
if importlib.util.find_spec("scribe") is None:
    # A bare checkout (e.g. a GPU machine without `pip install -e .`).
    sys.path.insert(0, str(REPO / "backend"))

from scribe.adapters.asr.nemo_source import DEFAULT_MODEL as REAL_NEMO  # noqa: E402
from scribe.adapters.diarization.pyannote_source import (  # noqa: E402
    DEFAULT_PIPELINE as REAL_PYANNOTE,
)
from scribe.devtools import eval_dir  # noqa: E402

ANCHOR = {
    "description": "18 minutes of audio in 20 s within 4 GB of VRAM on an RTX 3090",
    "audio_seconds": 1080.0,
    "wall_seconds": 20.0,
    "vram_gb": 4.0,
}
DEFAULT_SOURCES = ("pyannote_sample.wav", "ami/dev00.wav", "ami/dev01.wav", "ami/trn03.wav")

Samples = npt.NDArray[np.float32]


# --- environment -----------------------------------------------------------------------------


def _prepare_environment(allow_downloads: bool) -> None:
    """Offline hub, no telemetry, and the import paths the script needs, before heavy imports."""
    if not allow_downloads:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from scribe.adapters.asr.nemo_engine import configure_cuda_allocator

    configure_cuda_allocator()  # before torch touches CUDA


# --- audio -----------------------------------------------------------------------------------


def _find_sources(eval_dir: Path, names: tuple[str, ...]) -> list[Path]:
    found = [eval_dir / n for n in names if (eval_dir / n).exists()]
    if found:
        return found
    # pyannote.audio ships its 30 s two-speaker sample (the eval set's pyannote_sample.wav).
    spec = importlib.util.find_spec("pyannote.audio")
    if spec is not None and spec.submodule_search_locations:
        sample = Path(next(iter(spec.submodule_search_locations))) / "sample" / "sample.wav"
        if sample.exists():
            return [sample]
    raise SystemExit(
        f"No evaluation clips in {eval_dir} (and no pyannote sample): pass --eval-dir, or set "
        "SCRIBE_EVAL_DIR to the folder of ../shared/eval (copy it into the checkout on a "
        "machine that only receives the repository)."
    )


def build_recording(sources: list[Path], seconds: float) -> tuple[Samples, list[str]]:
    """Join the clips in turn (0.3 s of silence between them) until ``seconds`` of audio."""
    from _bench_audio import join_clips

    audio, used = join_clips(sources, seconds, gap=0.3)
    return audio.samples, used


# --- models ----------------------------------------------------------------------------------


def _nemo(args: argparse.Namespace, model: str, fp16: bool) -> Any:
    from scribe.adapters.asr.nemo_engine import NemoEngine

    return NemoEngine(model=model, device=args.device, fp16=fp16, chunk_seconds=args.chunk_seconds)


def _load_asr(args: argparse.Namespace, workdir: Path, calibration: Samples, fp16: bool) -> Any:
    """A loaded NemoEngine and what it holds: real weights if present, else random ones."""
    from scribe.domain.errors import ModelUnavailable

    info: dict[str, Any] = {}
    ref = args.nemo_model
    if not args.smoke and not args.random_weights:
        engine = _nemo(args, ref, fp16)
        try:
            started = time.perf_counter()
            engine.load()
            info.update(source=ref, weights="real", load_seconds=time.perf_counter() - started)
            return engine, info
        except ModelUnavailable as exc:
            info["real_weights_unavailable"] = exc.message
    from scribe.devtools.nemo_models import build_parakeet

    size: Literal["tiny", "full"] = "tiny" if args.smoke else "full"
    started = time.perf_counter()
    path = build_parakeet(workdir / "nemo", size, calibrate_with=calibration, device=args.device)
    build = time.perf_counter() - started
    calibration_note = path.with_suffix(".calibration.json")
    if calibration_note.exists():
        info["calibration"] = json.loads(calibration_note.read_text(encoding="utf-8"))
    engine = _nemo(args, str(path), fp16)
    started = time.perf_counter()
    engine.load()
    info.update(
        source=str(path),
        weights=(
            "random (tiny test model)"
            if args.smoke
            else "random, parakeet-tdt-0.6b-v2 architecture from its config, blank logit "
            "calibrated to ~4 tokens/s"
        ),
        build_seconds=build,
        load_seconds=time.perf_counter() - started,
    )
    return engine, info


def _load_diarizer(args: argparse.Namespace, workdir: Path, calibration: Samples) -> Any:
    from scribe.adapters.diarization.pyannote_diarizer import PyannoteDiarizer
    from scribe.domain.errors import ModelUnavailable

    info: dict[str, Any] = {}
    if not args.smoke and not args.random_weights:
        diarizer = PyannoteDiarizer(pipeline=args.pyannote, device=args.device)
        try:
            started = time.perf_counter()
            diarizer.load()
            info.update(
                source=args.pyannote, weights="real", load_seconds=time.perf_counter() - started
            )
            return diarizer, info
        except ModelUnavailable as exc:
            info["real_weights_unavailable"] = exc.message
    from scribe.devtools.pyannote_models import build_pyannote_pipeline

    started = time.perf_counter()
    if args.smoke:
        folder = build_pyannote_pipeline(workdir / "pyannote", "tiny")
        weights = "random (tiny test pipeline)"
    else:
        folder = build_pyannote_pipeline(workdir / "pyannote", "full", calibrate_with=calibration)
        weights = (
            "random, segmentation-3.0 + WeSpeaker ResNet34 + PLDA at real sizes; segmentation "
            "head calibrated to give speech, two main speakers and overlap"
        )
    build = time.perf_counter() - started
    shares = folder / "class_shares.json"
    if shares.exists():
        info["segmentation_class_shares"] = json.loads(shares.read_text(encoding="utf-8"))
    diarizer = PyannoteDiarizer(pipeline=str(folder), device=args.device)
    started = time.perf_counter()
    diarizer.load()
    info.update(
        source=str(folder),
        weights=weights,
        build_seconds=build,
        load_seconds=time.perf_counter() - started,
    )
    return diarizer, info


# --- measuring -------------------------------------------------------------------------------


class Meter:
    """Wall time and peak memory of a block: CUDA allocator figures on a GPU, RSS on a CPU."""

    def __init__(self, device: str) -> None:
        import torch

        self.torch = torch
        self.cuda = device.startswith("cuda")

    def sync(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def allocated_mb(self) -> float:
        if self.cuda:
            return self.torch.cuda.memory_allocated() / 2**20
        return _rss_mb()

    def reserved_mb(self) -> float | None:
        return self.torch.cuda.memory_reserved() / 2**20 if self.cuda else None

    @contextlib.contextmanager
    def measure(self, into: dict[str, Any], audio_seconds: float) -> Iterator[None]:
        gc.collect()
        if self.cuda:
            self.torch.cuda.empty_cache()
            self.torch.cuda.reset_peak_memory_stats()
        self.sync()
        started = time.perf_counter()
        yield
        self.sync()
        wall = time.perf_counter() - started
        into["wall_s"] = round(wall, 3)
        into["rtf"] = round(wall / audio_seconds, 5)
        into["speed_x"] = round(audio_seconds / wall, 1)
        if self.cuda:
            into["peak_vram_mb"] = round(self.torch.cuda.max_memory_allocated() / 2**20, 1)
            into["peak_reserved_mb"] = round(self.torch.cuda.max_memory_reserved() / 2**20, 1)
        else:
            into["peak_vram_mb"] = None
            into["rss_mb"] = round(_rss_mb(), 1)


def _rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def _asr_summary(result: Any) -> dict[str, Any]:
    words = sum(len(s.words) for s in result.segments)
    return {
        "segments": len(result.segments),
        "words": words,
        "words_per_s": round(words / max(result.duration, 1e-9), 2),
    }


def _diar_summary(turns: list[Any]) -> dict[str, Any]:
    return {"turns": len(turns), "speakers": len({t.speaker for t in turns})}


# --- the benchmark ---------------------------------------------------------------------------


def run(args: argparse.Namespace, report: dict[str, Any]) -> None:
    """Fill ``report`` step by step (a failure leaves the steps before it in place)."""
    began = time.perf_counter()
    deadline = began + args.budget_seconds
    _prepare_environment(args.allow_downloads)
    import torch

    from scribe.domain.audio import Audio
    from scribe.domain.options import SpeakerHints, TranscriptionOptions

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch sees no GPU (use --smoke for a CPU run)")

    report["device"] = torch.cuda.get_device_name(0) if cuda else f"cpu ({os.cpu_count()} cores)"
    report["versions"] = _versions()
    runs: dict[str, Any] = report["runs"]
    report["notes"].append(
        "both models stay loaded, as in the service: every peak includes the weights of both "
        "(see weights_mb); library defaults otherwise (no TF32 or other switches set here)"
    )

    samples, used = build_recording(_find_sources(args.eval_dir, DEFAULT_SOURCES), args.seconds)
    audio = Audio(samples)
    seconds = audio.duration
    report["audio"] = {
        "seconds": round(seconds, 2),
        "pieces": len(used),
        "sources": sorted(set(used)),
        "note": "two-speaker clips joined in turn; every piece has two voices",
    }
    warm = audio.slice(0.0, min(10.0, seconds))
    repeat = audio.slice(0.0, min(args.repeat_seconds, seconds))
    calibration = audio.slice(0.0, min(60.0 if not args.smoke else 10.0, seconds)).samples
    options = TranscriptionOptions(language="en")
    hints = SpeakerHints()
    meter = Meter(args.device)

    with tempfile.TemporaryDirectory(prefix="scribe-bench-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        base = meter.allocated_mb()
        diarizer, report["diarization_model"] = _load_diarizer(args, workdir, calibration)
        report["diarization_model"]["weights_mb"] = round(meter.allocated_mb() - base, 1)
        base = meter.allocated_mb()
        asr, report["asr_model"] = _load_asr(args, workdir, calibration, fp16=cuda)
        report["asr_model"]["weights_mb"] = round(meter.allocated_mb() - base, 1)
        report["asr_model"].update(asr.describe())

        # The first whole job pays for cuDNN autotuning per input shape, CUDA graph capture and
        # lazy initialisation: it is reported on its own, and warms up the runs measured after.
        def whole_job(into: dict[str, Any]) -> dict[str, Any]:
            with meter.measure(into, seconds), ThreadPoolExecutor(max_workers=2) as pool:
                _job(pool, asr, diarizer, audio, options, hints)
            return into

        def cold_job() -> None:
            runs["first_job_parallel_cold"] = whole_job({})

        if not _step(report, "first_job_parallel_cold", cold_job) and cuda:
            # Most likely fp16 itself: carry on in fp32 so the rest still gets measured.
            report["notes"].append("the fp16 job failed (see errors); the runs below use fp32")
            asr.unload()
            asr = _nemo(args, report["asr_model"]["source"], fp16=False)
            asr.load()
            report["asr_model"].update(asr.describe())
            cuda_fp16_failed = True
            _step(report, "first_job_parallel_cold_fp32", cold_job)
        else:
            cuda_fp16_failed = False

        precision = "fp16" if cuda and not cuda_fp16_failed else "fp32"
        asr_key = f"asr_{precision}"
        seq: dict[str, Any] = {}
        with meter.measure(seq, seconds):
            runs[asr_key] = {}
            with meter.measure(runs[asr_key], seconds):
                asr_result = asr.transcribe(audio, options)
            runs[asr_key].update(_asr_summary(asr_result))
            runs["diarization"] = {}
            with meter.measure(runs["diarization"], seconds):
                turns = diarizer.diarize(audio, hints)
            runs["diarization"].update(_diar_summary(turns))
        seq["peak_vram_mb"] = _max(
            runs[asr_key].get("peak_vram_mb"), runs["diarization"].get("peak_vram_mb")
        )
        runs["sequential"] = seq

        def parallel() -> None:
            par = whole_job({})
            par["speedup_vs_sequential"] = round(seq["wall_s"] / par["wall_s"], 2)
            runs["parallel"] = par

        def repeat_jobs() -> None:
            report["repeat_jobs"] = _repeat_jobs(
                args, asr, diarizer, repeat, options, hints, meter, deadline
            )

        def fp32() -> None:
            _fp32_run(args, report, asr, audio, warm, options, meter, deadline)

        _step(report, "parallel", parallel)
        _step(report, "repeat_jobs", repeat_jobs)
        if cuda and not cuda_fp16_failed:
            _step(report, "asr_fp32", fp32)
        else:
            report["notes"].append(
                "fp16 is not measured on CPU (NemoEngine uses fp16 on CUDA only)"
            )

    _judge(report, cuda)
    report["total_seconds"] = round(time.perf_counter() - began, 1)


def _job(
    pool: ThreadPoolExecutor, asr: Any, diarizer: Any, audio: Any, options: Any, hints: Any
) -> None:
    """One whole job as the service runs it: ASR and diarization at once, on two threads."""
    fa = pool.submit(asr.transcribe, audio, options)
    fd = pool.submit(diarizer.diarize, audio, hints)
    fa.result(), fd.result()


def _step(report: dict[str, Any], name: str, fn: Callable[[], None]) -> bool:
    """Run one step; record its failure (and return False) so the next steps still run."""
    try:
        fn()
    except Exception as exc:
        report["errors"][name] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        return False
    return True


def _repeat_jobs(
    args: argparse.Namespace,
    asr: Any,
    diarizer: Any,
    audio: Any,
    options: Any,
    hints: Any,
    meter: Meter,
    deadline: float,
) -> dict[str, Any]:
    """Run whole jobs (ASR and diarization in parallel) back to back; record memory after each."""
    allocated: list[float] = []
    reserved: list[float] = []
    times: list[float] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i in range(args.jobs):
            if time.perf_counter() > deadline:
                break
            # Every real upload has its own length: vary it (new shapes, e.g. cuDNN autotuning).
            job = audio.slice(0.0, audio.duration - 0.37 * (i % 7))
            started = time.perf_counter()
            _job(pool, asr, diarizer, job, options, hints)
            meter.sync()
            times.append(round(time.perf_counter() - started, 3))
            gc.collect()
            allocated.append(round(meter.allocated_mb(), 1))
            r = meter.reserved_mb()
            if r is not None:
                reserved.append(round(r, 1))
    # On CUDA allocated memory is exact: any growth is a leak. RSS (CPU) wobbles by a few MB.
    tolerance = 1.0 if meter.cuda else 64.0
    growth = round(allocated[-1] - allocated[0], 1) if len(allocated) > 1 else None
    return {
        "jobs_requested": args.jobs,
        "jobs_done": len(allocated),
        "audio_seconds": round(audio.duration, 2),
        "lengths": "audio_seconds minus 0 to 2.2 s, varying from job to job",
        "measure": "torch.cuda.memory_allocated" if meter.cuda else "process RSS",
        "allocated_mb_after_each": allocated,
        "reserved_mb_after_each": reserved or None,
        "wall_s_each": times,
        "growth_mb_first_to_last": growth,
        "no_growth": None if growth is None else growth <= tolerance,
    }


def _fp32_run(
    args: argparse.Namespace,
    report: dict[str, Any],
    fp16_engine: Any,
    audio: Any,
    warm: Any,
    options: Any,
    meter: Meter,
    deadline: float,
) -> None:
    """ASR alone in fp32, with the fp16 model unloaded first (same model source)."""
    if time.perf_counter() > deadline:
        report["notes"].append("fp32 run skipped: time budget spent")
        return
    fp16_engine.unload()  # free the fp16 weights before loading fp32 ones
    engine = _nemo(args, report["asr_model"]["source"], fp16=False)
    engine.load()
    engine.transcribe(warm, options)
    result: dict[str, Any] = {}
    with meter.measure(result, audio.duration):
        asr_result = engine.transcribe(audio, options)
    result.update(_asr_summary(asr_result))
    result["weights_mb"] = round(meter.allocated_mb(), 1)
    report["runs"]["asr_fp32"] = result
    fp16 = report["runs"].get("asr_fp16", {})
    if fp16.get("wall_s"):
        result["fp16_speedup"] = round(result["wall_s"] / fp16["wall_s"], 2)
    engine.unload()


def _judge(report: dict[str, Any], cuda: bool) -> None:
    par = report["runs"].get("parallel", {})
    anchor = report["anchor"]
    if not cuda or "wall_s" not in par:
        anchor["beaten"] = None
        return
    anchor_rtf = anchor["wall_seconds"] / anchor["audio_seconds"]
    anchor["our_wall_s_for_18_min"] = round(par["rtf"] * anchor["audio_seconds"], 2)
    anchor["our_peak_vram_gb"] = round(par["peak_vram_mb"] / 1024, 2)
    anchor["beaten"] = par["rtf"] <= anchor_rtf and par["peak_vram_mb"] <= anchor["vram_gb"] * 1024
    anchor["caveat"] = f"measured on {report['device']}, not an RTX 3090"


def _max(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("torch", "nemo_toolkit", "pyannote.audio", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


# --- output ----------------------------------------------------------------------------------


def to_markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Scribe GPU benchmark ({report['mode']})",
        "",
        f"- device: {report['device']}",
        f"- audio: {report['audio'].get('seconds')} s ({report['audio'].get('pieces')} pieces of "
        f"{', '.join(report['audio'].get('sources', []))})",
        f"- ASR: {report['asr_model'].get('source')} — weights: {report['asr_model'].get('weights')}",
        f"- diarization: {report['diarization_model'].get('source')} — weights: "
        f"{report['diarization_model'].get('weights')}",
        "",
        "| run | wall s | RTF | x real time | peak VRAM MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, r in report["runs"].items():
        lines.append(
            f"| {name} | {r.get('wall_s')} | {r.get('rtf')} | {r.get('speed_x')} | {r.get('peak_vram_mb')} |"
        )
    rj = report.get("repeat_jobs", {})
    lines += [
        "",
        f"- {rj.get('jobs_done')} jobs in a row ({rj.get('audio_seconds')} s each): "
        f"{rj.get('measure')} growth {rj.get('growth_mb_first_to_last')} MB, "
        f"no growth: {rj.get('no_growth')}",
        f"- anchor: {report['anchor']['description']}; beaten: {report['anchor'].get('beaten')}",
    ]
    for note in report.get("notes", []):
        lines.append(f"- note: {note}")
    for step, error in report.get("errors", {}).items():
        lines.append(f"- error in {step}: {error}")
    lines += ["", "```json", json.dumps(report, indent=2), "```", ""]
    return "\n".join(lines)


def _write(report: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".md":
        out.write_text(to_markdown(report), encoding="utf-8")
    else:
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--out", type=Path, required=True, help="result file (.json, or .md for markdown)"
    )
    p.add_argument("--smoke", action="store_true", help="CPU, tiny random models, 20 s of audio")
    p.add_argument("--device", default=None, help="cuda (default), cuda:N, cpu or auto")
    p.add_argument("--minutes", type=float, default=None, help="recording length (default 18)")
    p.add_argument("--nemo-model", default=REAL_NEMO, help=".nemo file or hub name (cached)")
    p.add_argument("--pyannote", default=REAL_PYANNOTE, help="pipeline folder or hub name (cached)")
    p.add_argument("--random-weights", action="store_true", help="skip looking for real weights")
    p.add_argument("--allow-downloads", action="store_true", help="let the hub download weights")
    p.add_argument("--chunk-seconds", type=float, default=300.0, help="NemoEngine chunk length")
    p.add_argument("--jobs", type=int, default=None, help="jobs in a row for the VRAM check (20)")
    p.add_argument("--repeat-seconds", type=float, default=None, help="audio per repeated job (60)")
    p.add_argument("--eval-dir", type=Path, default=eval_dir(), help="folder of the eval clips")
    p.add_argument("--workdir", default=None, help="keep built random models here (default: temp)")
    p.add_argument("--budget-seconds", type=float, default=None, help="skip optional steps after")
    args = p.parse_args(argv)
    smoke = args.smoke
    args.device = args.device or ("cpu" if smoke else "cuda")
    args.seconds = 20.0 if smoke and args.minutes is None else (args.minutes or 18.0) * 60
    args.jobs = args.jobs if args.jobs is not None else (3 if smoke else 20)
    args.repeat_seconds = args.repeat_seconds or (5.0 if smoke else 60.0)
    args.budget_seconds = args.budget_seconds or (900.0 if smoke else 270.0)
    if smoke:
        args.chunk_seconds = min(args.chunk_seconds, 12.0)  # exercise chunking on 20 s
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {
        "benchmark": "scribe ASR + diarization",
        "mode": "smoke (CPU, tiny models)" if args.smoke else "full",
        "device": args.device,
        "anchor": dict(ANCHOR),
        "audio": {},
        "asr_model": {},
        "diarization_model": {},
        "runs": {},
        "repeat_jobs": {},
        "errors": {},
        "notes": [],
    }
    status = 0
    try:
        run(args, report)
    except Exception as exc:
        traceback.print_exc()
        report["errors"]["fatal"] = f"{type(exc).__name__}: {exc}"
        status = 1
    _write(report, args.out)
    print(to_markdown(report).split("```json")[0])
    print(f"written to {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
