"""Build random-weight NeMo Parakeet TDT models (FastConformer encoder + TDT decoder) offline.

``build_tiny_parakeet`` makes a ~1 MB ``.nemo`` for tests: the real NeMo loading and decoding code
paths run on CPU in seconds and give meaningless but repeatable output. ``build_parakeet(...,
size="full")`` makes the same architecture at the size of ``nvidia/parakeet-tdt-0.6b-v2`` (24 x 1024
FastConformer, 2-layer 640 LSTM predictor, 1024 BPE tokens, durations 0-4) for GPU benchmarks
when the real weights are not on the machine. Nothing is downloaded: the SentencePiece tokenizer
is trained locally.
"""

from __future__ import annotations

import json
import random
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from scribe.devtools import eval_dir

Size = Literal["tiny", "full"]

# Used when the evaluation references are not on the machine.
_FALLBACK_TEXT = (
    "and so my fellow americans ask not what your country can do for you ask what you can do "
    "for your country hello oh hello i did not know you were there neither did i okay then i "
    "thought you know i heard a beep this is diane in new jersey and i am sheila in texas "
    "originally from chicago if the reader will excuse me i will say nothing of my antecedents"
)

# The architecture sizes. "full" follows nvidia/parakeet-tdt-0.6b-v2 (about 600 M parameters).
_SIZES: dict[str, dict[str, Any]] = {
    "tiny": {
        "features": 64,
        "n_layers": 2,
        "d_model": 32,
        "n_heads": 2,
        "subsampling_conv_channels": 16,
        "ff_expansion_factor": 2,
        "use_bias": True,
        "pred_hidden": 32,
        "pred_rnn_layers": 1,
        "joint_hidden": 32,
        "vocab_size": 64,
    },
    "full": {
        "features": 128,
        "n_layers": 24,
        "d_model": 1024,
        "n_heads": 8,
        "subsampling_conv_channels": 256,
        "ff_expansion_factor": 4,
        "use_bias": False,
        "pred_hidden": 640,
        "pred_rnn_layers": 2,
        "joint_hidden": 640,
        "vocab_size": 1024,
    },
}

TDT_DURATIONS = [0, 1, 2, 3, 4]


def _corpus(vocab_size: int) -> list[str]:
    """Lower-case sentences to train the tokenizer on: eval references, padded for big vocabularies."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(eval_dir().glob("*.ref.txt"))]
    raw = " ".join(texts) if texts else _FALLBACK_TEXT
    words = re.sub(r"[^a-z' ]+", " ", raw.lower()).split()
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    if vocab_size > 64:
        # A 1024-piece BPE needs more distinct text than the references: add pseudo-words.
        rng = random.Random(0)
        onsets = ["", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w"]
        onsets += ["br", "ch", "cl", "dr", "fl", "gr", "pl", "pr", "sh", "st", "th", "tr"]
        nuclei = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"]
        codas = ["", "", "n", "r", "s", "t", "l", "m", "nd", "ng", "st", "ck"]
        for _ in range(3000):
            sentence = []
            for _ in range(10):
                syllables = rng.randint(1, 3)
                sentence.append(
                    "".join(
                        rng.choice(onsets) + rng.choice(nuclei) + rng.choice(codas)
                        for _ in range(syllables)
                    )
                )
            lines.append(" ".join(sentence))
    return lines


def train_tokenizer(folder: Path, vocab_size: int) -> Path:
    """Train a SentencePiece BPE tokenizer into ``folder`` the way NeMo's script lays it out."""
    import sentencepiece as spm

    folder.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_corpus(vocab_size)),
        model_prefix=str(folder / "tokenizer"),
        vocab_size=vocab_size,
        model_type="bpe",
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_file=str(folder / "tokenizer.model"))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    # NeMo's vocab.txt: pieces without the word-start marker, continuation pieces prefixed ##.
    vocab = [p[1:] if p.startswith("▁") else f"##{p}" for p in pieces if p != "<unk>"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return folder


def parakeet_config(tokenizer_dir: Path, size: Size = "tiny") -> dict[str, Any]:
    """The model config of a FastConformer + TDT model (``EncDecRNNTBPEModel``)."""
    s = _SIZES[size]
    return {
        "sample_rate": 16000,
        "compute_eval_loss": False,
        "log_prediction": False,
        "model_defaults": {
            "enc_hidden": s["d_model"],
            "pred_hidden": s["pred_hidden"],
            "joint_hidden": s["joint_hidden"],
            "tdt_durations": TDT_DURATIONS,
            "num_tdt_durations": len(TDT_DURATIONS),
        },
        "train_ds": None,
        "validation_ds": {
            "manifest_filepath": None,
            "sample_rate": 16000,
            "batch_size": 1,
            "shuffle": False,
            "use_start_end_token": False,
        },
        "test_ds": None,
        "tokenizer": {"dir": str(tokenizer_dir), "type": "bpe"},
        "preprocessor": {
            "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
            "sample_rate": 16000,
            "normalize": "per_feature",
            "window_size": 0.025,
            "window_stride": 0.01,
            "window": "hann",
            "features": s["features"],
            "n_fft": 512,
            "log": True,
            "frame_splicing": 1,
            "dither": 1e-5,
            "pad_to": 0,
            "pad_value": 0.0,
        },
        "spec_augment": None,
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConformerEncoder",
            "feat_in": s["features"],
            "feat_out": -1,
            "n_layers": s["n_layers"],
            "d_model": s["d_model"],
            "use_bias": s["use_bias"],
            "subsampling": "dw_striding",
            "subsampling_factor": 8,
            "subsampling_conv_channels": s["subsampling_conv_channels"],
            "causal_downsampling": False,
            "ff_expansion_factor": s["ff_expansion_factor"],
            "self_attention_model": "rel_pos",
            "n_heads": s["n_heads"],
            "att_context_size": [-1, -1],
            "att_context_style": "regular",
            "xscaling": True,
            "untie_biases": True,
            "pos_emb_max_len": 5000,
            "conv_kernel_size": 9,
            "conv_norm_type": "batch_norm",
            "conv_context_size": None,
            "dropout": 0.1,
            "dropout_pre_encoder": 0.1,
            "dropout_emb": 0.0,
            "dropout_att": 0.1,
        },
        "decoder": {
            "_target_": "nemo.collections.asr.modules.RNNTDecoder",
            "normalization_mode": None,
            "random_state_sampling": False,
            "blank_as_pad": True,
            "prednet": {
                "pred_hidden": s["pred_hidden"],
                "pred_rnn_layers": s["pred_rnn_layers"],
                "t_max": None,
                "dropout": 0.2 if s["pred_rnn_layers"] > 1 else 0.0,
            },
        },
        "joint": {
            "_target_": "nemo.collections.asr.modules.RNNTJoint",
            "log_softmax": None,
            "preserve_memory": False,
            "fuse_loss_wer": False,
            "fused_batch_size": 4,
            "jointnet": {
                "joint_hidden": s["joint_hidden"],
                "activation": "relu",
                "dropout": 0.2,
            },
            "num_extra_outputs": len(TDT_DURATIONS),
        },
        "decoding": {
            "strategy": "greedy_batch",
            "model_type": "tdt",
            "durations": TDT_DURATIONS,
            "greedy": {"max_symbols": 10},
        },
        "loss": {
            "loss_name": "tdt",
            "tdt_kwargs": {
                "fastemit_lambda": 0.0,
                "clamp": -1.0,
                "durations": TDT_DURATIONS,
                "sigma": 0.02,
                "omega": 0.1,
            },
        },
        "optim": None,
    }


def calibrate_blank_bias(
    model: Any,
    samples: Any,
    tokens_per_second: float = 4.0,
    iterations: int = 10,
) -> tuple[float, float]:
    """Shift a random model's blank logit so it emits about ``tokens_per_second`` like real speech.

    Random weights emit tokens at an arbitrary rate (often many per frame), which would make a
    benchmark's decoding cost meaningless. Bisection on the bias of the blank output of the joint
    network (tokens per second fall as it rises). Returns the bias added and the rate reached.
    """
    import torch

    linear = model.joint.joint_net[-1]
    blank = int(model.tokenizer.vocab_size)  # RNN-T blank follows the vocabulary
    original = float(linear.bias[blank].detach())
    seconds = len(samples) / 16_000

    def rate(shift: float) -> float:
        with torch.no_grad():
            linear.bias[blank] = original + shift
        (hyp,) = _as_hypotheses(model.transcribe([samples], batch_size=1, verbose=False))
        return len(hyp.y_sequence) / seconds

    low, high = -30.0, 30.0
    for _ in range(iterations):
        middle = (low + high) / 2
        if rate(middle) > tokens_per_second:
            low = middle
        else:
            high = middle
    shift = (low + high) / 2
    return shift, rate(shift)


def _as_hypotheses(output: Any) -> list[Any]:
    if isinstance(output, tuple):
        output = output[0]
    return [h[0] if isinstance(h, list) else h for h in output]


def build_parakeet(
    folder: Path,
    size: Size = "tiny",
    seed: int = 0,
    calibrate_with: Any = None,
    device: str = "cpu",
) -> Path:
    """Build a random-weight Parakeet-style TDT model, save it as ``folder/parakeet_tdt_<size>.nemo``.

    ``calibrate_with`` (16 kHz float32 samples of speech) makes its token rate realistic (see
    ``calibrate_blank_bias``, whose result goes to ``<name>.calibration.json`` beside it); ``device``
    is where that calibration runs. An existing file is reused.
    """
    import torch

    from scribe.adapters.torchaudio_compat import ensure_torchaudio_importable

    ensure_torchaudio_importable()  # torchaudio's CUDA-built extension cannot load beside CPU torch
    from nemo.collections.asr.models import EncDecRNNTBPEModel
    from omegaconf import OmegaConf

    folder.mkdir(parents=True, exist_ok=True)
    suffix = "_calibrated" if calibrate_with is not None else ""
    target = folder / f"parakeet_tdt_{size}{suffix}.nemo"
    if target.exists():
        return target
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer_dir = train_tokenizer(Path(tmp) / "tokenizer", _SIZES[size]["vocab_size"])
        cfg = OmegaConf.create(parakeet_config(tokenizer_dir, size))
        model = EncDecRNNTBPEModel(cfg=cfg, trainer=None)
        model.eval()
        if calibrate_with is not None:
            model.to(torch.device(device))
            shift, rate = calibrate_blank_bias(model, calibrate_with)
            model.to(torch.device("cpu"))
            note = {"blank_bias_shift": round(shift, 3), "tokens_per_second": round(rate, 2)}
            target.with_suffix(".calibration.json").write_text(json.dumps(note), encoding="utf-8")
        partial = target.with_suffix(".partial")
        model.save_to(str(partial))
        partial.replace(target)
    del model
    return target


def build_tiny_parakeet(folder: Path) -> Path:
    """Build (once per folder) a ~1 MB random-weight FastConformer + TDT ``.nemo`` and return it."""
    return build_parakeet(folder, "tiny")
