"""The PyTorch peer of `Ocr.MLNet.Benchmarks line-training`: the line recognizer's network (LineRecognizerNetwork) in
PyTorch eager mode, trained with CTC and Adam on the harness's own lines and targets.

Reads raw float32 lines (N×1×32×256), int64 targets padded to N×S (class 1… per character, 0 after the end) and int64
lengths (N); prints the kernels it runs on, then one line `lines/s <value>` per measured run. Needs python3-torch
(Debian: apt-get install python3-torch).
"""
import argparse
import os
import re
import time

import numpy as np
import torch
from torch import nn

TIME_STEPS = 64  # one step per four columns of a 256-pixel line

# (in, out, stride height, stride width) of the six Conv 3×3 → ReLU → BatchNorm blocks, as LineRecognizerNetwork has them
CONVOLUTION_BLOCKS = [(1, 32, 1, 1), (32, 48, 2, 2), (48, 64, 2, 2), (64, 96, 1, 1), (96, 96, 2, 1), (96, 128, 1, 1)]
TEMPORAL_DILATIONS = [1, 2, 4]
SEQUENCE_CHANNELS = 128


def block(conv, channels):
    return nn.Sequential(conv, nn.ReLU(), nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01))


class LineNetwork(nn.Module):
    """LineRecognizerNetwork layer for layer: N×1×32×256 → N×64×classes logits."""

    def __init__(self, classes, dropout=0.2):
        super().__init__()
        self.features = nn.Sequential(*[block(nn.Conv2d(i, o, 3, stride=(sh, sw), padding=1), o)
                                        for i, o, sh, sw in CONVOLUTION_BLOCKS])
        self.fold = block(nn.Conv2d(128, SEQUENCE_CHANNELS, (32 // 8, 1)), SEQUENCE_CHANNELS)
        self.temporal = nn.ModuleList([block(nn.Conv2d(SEQUENCE_CHANNELS, SEQUENCE_CHANNELS, (1, 3), padding=(0, d), dilation=(1, d)),
                                             SEQUENCE_CHANNELS) for d in TEMPORAL_DILATIONS])
        self.head_dropout = nn.Dropout(dropout)
        self.head = nn.Conv2d(SEQUENCE_CHANNELS, classes, 1)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.fold(self.features(x))
        for layer in self.temporal:
            x = x + layer(x)  # residual, as in the C# network
        x = self.head(self.head_dropout(x))
        return x.squeeze(2).permute(0, 2, 1).contiguous()


def kernels_line():
    """Which libraries this build's kernels use: Debian's build links the reference BLAS."""
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    blas = found.group(1) if found else "unknown"
    if blas == "generic":
        blas = "generic (the reference BLAS)"
    onednn = torch.backends.mkldnn.is_available()
    convolution = "oneDNN (mkldnn), not BLAS" if onednn else f"im2col + GEMM through BLAS ({blas})"
    return f"kernels: BLAS {blas}; convolutions via {convolution}; Linear and LSTM (not in this network) via that BLAS, far slower than MKL"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixels", required=True)
    parser.add_argument("--targets", required=True)
    parser.add_argument("--lengths", required=True)
    parser.add_argument("--classes", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=0, help="0: one per core")
    args = parser.parse_args()

    # Debian's build starts with one thread; give it every core, as libtorch gives TorchSharp.
    torch.set_num_threads(args.threads or os.cpu_count())
    lengths = torch.from_numpy(np.fromfile(args.lengths, dtype=np.int64))
    count = len(lengths)
    targets = torch.from_numpy(np.fromfile(args.targets, dtype=np.int64)).reshape(count, -1)
    pixels = torch.from_numpy(np.fromfile(args.pixels, dtype=np.float32)).reshape(count, 1, 32, 256)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {count} lines, batch {args.batch}", flush=True)
    print(kernels_line(), flush=True)

    def step(model, optimizer, rows):
        optimizer.zero_grad()
        log_probabilities = model(pixels.index_select(0, rows)).log_softmax(2).permute(1, 0, 2)  # T×N×C
        input_lengths = torch.full((len(rows),), TIME_STEPS, dtype=torch.int64)
        loss = nn.functional.ctc_loss(log_probabilities, targets.index_select(0, rows), input_lengths,
                                      lengths.index_select(0, rows), blank=0, reduction="mean", zero_infinity=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    # One unmeasured step on a throw-away network first: oneDNN builds its primitives on first use, and the harness
    # warms libtorch the same way before its TorchSharp measurements.
    warm = LineNetwork(args.classes)
    warm.train()
    step(warm, torch.optim.Adam(warm.parameters(), args.learning_rate), torch.arange(min(args.batch, count)))

    torch.manual_seed(1)
    model = LineNetwork(args.classes)
    optimizer = torch.optim.Adam(model.parameters(), args.learning_rate)
    model.train()
    trained = 0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        torch.manual_seed(epoch)
        order = torch.randperm(count)
        for first in range(0, count, args.batch):
            rows = order[first:first + args.batch]
            if len(rows) < 2:
                break  # BatchNorm needs two lines
            step(model, optimizer, rows)
            trained += len(rows)
    print(f"lines/s {trained / (time.perf_counter() - start):.2f}", flush=True)


if __name__ == "__main__":
    main()
