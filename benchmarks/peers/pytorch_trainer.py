"""The PyTorch peer of the training harness: the same network, data and batches in PyTorch eager mode.

Called by `Ocr.MLNet.Benchmarks training` with the images it trains on (raw float32 N×1×32×32 and int64 labels);
prints one line `images/s <value>` per measured run. Needs python3-torch (Debian: apt-get install python3-torch).
"""
import argparse
import os
import time

import numpy as np
import torch
from torch import nn


def block(cin, cout, kernel, stride, padded, dropout):
    layers = []
    if padded:
        layers.append(nn.ZeroPad2d((1, 2, 1, 2)))  # TensorFlow's "same" for 5x5 at stride 2
    layers += [nn.Conv2d(cin, cout, kernel, stride), nn.ReLU(), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)]
    if padded:
        layers.append(nn.Dropout(dropout))
    return layers


def network(classes, dropout=0.4):
    """The seed network as the trainer builds it (also used by benchmarks/gpu/recipe_search.py)."""
    specs = [(1, 32, 3, 1, False), (32, 32, 3, 1, False), (32, 32, 5, 2, True), (32, 64, 3, 1, False),
             (64, 64, 3, 1, False), (64, 64, 5, 2, True), (64, 128, 4, 1, False)]
    layers = [layer for spec in specs for layer in block(*spec, dropout)]
    layers += [nn.Flatten(), nn.Dropout(dropout), nn.Linear(128 * 2 * 2, classes)]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixels", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--classes", type=int, required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--channels-last", action="store_true")
    args = parser.parse_args()

    # Debian's build starts with one thread; give it every core, as libtorch gives TorchSharp.
    torch.set_num_threads(os.cpu_count())
    labels = torch.from_numpy(np.fromfile(args.labels, dtype=np.int64))
    pixels = torch.from_numpy(np.fromfile(args.pixels, dtype=np.float32)).reshape(len(labels), 1, 32, 32)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(labels)} images, batch {args.batch}", flush=True)
    for _ in range(args.rounds):
        torch.manual_seed(1)
        model = network(args.classes)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
        model.train()
        start = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            torch.manual_seed(epoch)
            order = torch.randperm(len(labels))
            for first in range(0, len(labels), args.batch):
                rows = order[first:first + args.batch]
                x = pixels.index_select(0, rows)
                if args.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(x), labels.index_select(0, rows))
                loss.backward()
                optimizer.step()
        print(f"images/s {len(labels) * args.epochs / (time.perf_counter() - start):.1f}", flush=True)


if __name__ == "__main__":
    main()
