"""Recipe search for the default trainer, run on a GPU in PyTorch because the CPU here trains one 15-epoch run in 20 minutes.

The network, sampler, augmentation, schedule, label smoothing, EMA and BatchNorm recalibration mirror
`CharacterCnnTrainer`'s defaults (the `base` variant); every other variant changes one or two things. The data is the
split `ocr-mlnet train` and `recipe` use (bymerge-dev less 100 per class, seed 1), written by
`dotnet $B recipe --export DIR`. Each run prints one JSON line: accuracy on the held-out split after every epoch (EMA
weights, BatchNorm recalibrated, float32), and at the end for the last weights and a SWA average of the last third;
its held-out probabilities go to DIR/probs-<name>.npy so ensembles can be scored afterwards.

    python3 recipe_search.py --data DIR --out OUT [--variants base,e30,...] [--workers 8]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from pytorch_trainer import network  # noqa: E402  the seed network, shared with the training harness's PyTorch peer

BASE = dict(epochs=15, batch=128, lr=3e-3, warmup=1.0, smoothing=0.1, dropout=0.4, rotation=10.0, shift=0.1, zoom=0.1,
            shear=10.0, elastic=0.0, sampler="balanced", logit_adjust=0.0, ema=0.999, weight_decay=0.0, seed=1,
            mixup=0.0, per_class=None, min_lr_fraction=0.0)

VARIANTS = {
    "base": {},
    "base-s2": dict(seed=2),
    "base-s3": dict(seed=3),
    "e20": dict(epochs=20),
    "e30": dict(epochs=30),
    "e60": dict(epochs=60),
    "ls0": dict(smoothing=0.0),
    "ls0.2": dict(smoothing=0.2),
    "drop0.25": dict(dropout=0.25),
    "aug-none": dict(rotation=0.0, shift=0.0, zoom=0.0, shear=0.0),
    "aug-mild": dict(rotation=5.0, shift=0.05, zoom=0.05, shear=5.0),
    "aug-15": dict(rotation=15.0, shift=0.12, zoom=0.15, shear=15.0),
    "elastic": dict(elastic=20.0),
    "lr2e-3": dict(lr=2e-3),
    "lr5e-3": dict(lr=5e-3),
    "b256": dict(batch=256, lr=5e-3),
    "b64": dict(batch=64, lr=2e-3),
    "natural-la": dict(sampler="natural", logit_adjust=1.0),
    "sqrt-la": dict(sampler="sqrt", logit_adjust=1.0),
    "natural-la-ls0": dict(sampler="natural", logit_adjust=1.0, smoothing=0.0),
    "ema0.9998": dict(ema=0.9998),
    "adamw0.05": dict(weight_decay=0.05),
    "mixup0.2": dict(mixup=0.2),
    "natural-la-e20": dict(sampler="natural", logit_adjust=1.0, epochs=20),
    "natural-la-e30": dict(sampler="natural", logit_adjust=1.0, epochs=30),
    "natural-la-s2": dict(sampler="natural", logit_adjust=1.0, seed=2),
    "sqrt-la-s2": dict(sampler="sqrt", logit_adjust=1.0, seed=2),
    "natural-la-mild": dict(sampler="natural", logit_adjust=1.0, rotation=5.0, shift=0.05, zoom=0.05, shear=5.0),
    "natural-la-drop0.3": dict(sampler="natural", logit_adjust=1.0, dropout=0.3),
}


def augment(images, cfg, generator):
    """The trainer's ImageAugmenter: rotation, shift, zoom, shear (and elastic) with bilinear sampling, zero padding."""
    b, _, h, w = images.shape
    u = torch.rand(b, 5, device=images.device, generator=generator) * 2 - 1
    angle = u[:, 0] * math.radians(cfg["rotation"])
    tx = u[:, 1] * cfg["shift"] * w * (2.0 / w)
    ty = u[:, 2] * cfg["shift"] * h * (2.0 / h)
    inv_zoom = 1.0 / (u[:, 3] * cfg["zoom"] + 1)
    shear = torch.tan(u[:, 4] * math.radians(cfg["shear"]))
    cos, sin = angle.cos(), angle.sin()
    a11 = (cos - sin * shear) * inv_zoom
    a12 = -(cos * shear + sin) * inv_zoom
    a21 = sin * inv_zoom
    a22 = cos * inv_zoom
    b1 = -(a11 * tx + a12 * ty)
    b2 = -(a21 * tx + a22 * ty)
    theta = torch.stack([a11, a12, b1, a21, a22, b2], 1).reshape(b, 2, 3)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    if cfg["elastic"] > 0:
        sigma = 4.0
        radius = max(1, math.ceil(3 * sigma))
        k = torch.exp(-torch.arange(-radius, radius + 1, device=images.device, dtype=torch.float32) ** 2 / (2 * sigma * sigma))
        k = k / k.sum()
        field = torch.rand(b, 2, h, w, device=images.device, generator=generator) * 2 - 1
        field = F.conv2d(field, k.reshape(1, 1, -1, 1).expand(2, 1, -1, 1).contiguous(), padding=(radius, 0), groups=2)
        field = F.conv2d(field, k.reshape(1, 1, 1, -1).expand(2, 1, 1, -1).contiguous(), padding=(0, radius), groups=2)
        scale = torch.tensor([2.0 / w, 2.0 / h], device=images.device)
        grid = grid + field.permute(0, 2, 3, 1) * cfg["elastic"] * scale
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def draw_rows(labels_np, classes, cfg, rng):
    """Rows for one epoch: balanced (the trainer's sampler), natural (plain shuffle) or sqrt (class weight ∝ √n)."""
    n = len(labels_np)
    if cfg["sampler"] == "natural":
        return rng.permutation(n)
    by_class = [rows for rows in (np.flatnonzero(labels_np == c) for c in range(classes)) if len(rows) > 0]
    counts = np.array([len(r) for r in by_class], dtype=np.float64)
    if cfg["sampler"] == "balanced":
        per = np.full(len(by_class), cfg["per_class"] or math.ceil(n / len(by_class)))
    else:
        weights = np.sqrt(counts)
        per = np.maximum(1, np.round(weights / weights.sum() * n)).astype(int)
    rows = []
    for c, class_rows in enumerate(by_class):
        drawn = 0
        while drawn < per[c]:
            order = rng.permutation(class_rows)
            take = min(len(order), per[c] - drawn)
            rows.append(order[:take])
            drawn += take
    rows = np.concatenate(rows)
    return rng.permutation(rows)


def epoch_prior(labels_np, classes, cfg):
    """The class distribution the sampler trains on; logit adjustment adds τ·log(prior) so the balanced error is minimised."""
    counts = np.bincount(labels_np, minlength=classes).astype(np.float64)
    if cfg["sampler"] == "natural":
        prior = counts
    elif cfg["sampler"] == "sqrt":
        prior = np.sqrt(counts)
    else:
        prior = np.ones(classes)
    return prior / prior.sum()


@torch.no_grad()
def recalibrate(model, x, count, batch):
    """The trainer's BatchNorm recalibration: exact averages over `count` training images spread evenly."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    rows = torch.linspace(0, x.shape[0] - 1, count, device=x.device).long()
    model.train()
    for first in range(0, count, batch):
        model(x.index_select(0, rows[first:first + batch]))
    for m in norms:
        m.momentum = 0.01
    model.eval()


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    probs = torch.cat([F.softmax(model(x[i:i + 1024]).float(), 1) for i in range(0, x.shape[0], 1024)])
    return (probs.argmax(1) == y).float().mean().item(), probs


def train(name, cfg, data, device, out):
    torch.manual_seed(cfg["seed"])
    rng = np.random.default_rng(cfg["seed"])
    xtr, ytr, xte, yte, ytr_np, classes = data
    model = network(classes, cfg["dropout"]).to(device).to(memory_format=torch.channels_last)
    params = list(model.parameters())
    kwargs = {"fused": True} if device.type == "cuda" else {}
    if cfg["weight_decay"] > 0:
        optimizer = torch.optim.AdamW(params, cfg["lr"], weight_decay=cfg["weight_decay"], **kwargs)
    else:
        optimizer = torch.optim.Adam(params, cfg["lr"], **kwargs)
    ema = [p.detach().clone() for p in params]
    swa, swa_count = [torch.zeros_like(p) for p in params], 0
    adjust = None
    if cfg["logit_adjust"] > 0:
        adjust = (cfg["logit_adjust"] * torch.log(torch.tensor(epoch_prior(ytr_np, classes, cfg), dtype=torch.float32))).to(device)
    generator = torch.Generator(device=device)
    batch = cfg["batch"]
    rows_per_epoch = len(draw_rows(ytr_np, classes, cfg, np.random.default_rng(0)))
    batches = math.ceil(rows_per_epoch / batch)
    total = batches * cfg["epochs"]
    warm = cfg["warmup"] * batches
    swa_start = int(total * 2 / 3)
    step = 0
    curve = []
    eval_model = network(classes, cfg["dropout"]).to(device).to(memory_format=torch.channels_last)
    start = time.time()
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16)

    def scored(weights):
        with torch.no_grad():
            for p, w in zip(eval_model.parameters(), weights):
                p.copy_(w)
        recalibrate(eval_model, xtr, 4096, 256)
        return evaluate(eval_model, xte, yte)

    for epoch in range(1, cfg["epochs"] + 1):
        generator.manual_seed(cfg["seed"] * 1000 + epoch)
        order = torch.from_numpy(draw_rows(ytr_np, classes, cfg, rng)).to(device)
        model.train()
        for b in range(batches):
            progress = (epoch - 1 + b / batches) / cfg["epochs"]
            lr = cfg["lr"] * (cfg["min_lr_fraction"] + (1 - cfg["min_lr_fraction"]) * 0.5 * (1 + math.cos(math.pi * progress)))
            lr *= min(1.0, (step + 1) / warm) if warm > 0 else 1.0
            for g in optimizer.param_groups:
                g["lr"] = lr
            rows = order[b * batch:(b + 1) * batch]
            x = xtr.index_select(0, rows)
            y = ytr.index_select(0, rows)
            with torch.no_grad():
                if cfg["rotation"] or cfg["shift"] or cfg["zoom"] or cfg["shear"] or cfg["elastic"]:
                    x = augment(x, cfg, generator)
            x = x.contiguous(memory_format=torch.channels_last)
            with autocast:
                logits = model(x)
            logits = logits.float()
            if adjust is not None:
                logits = logits + adjust
            if cfg["mixup"] > 0:
                lam = float(rng.beta(cfg["mixup"], cfg["mixup"]))
                perm = torch.randperm(x.shape[0], device=device, generator=generator)
                with autocast:
                    logits = model(lam * x + (1 - lam) * x[perm]).float()
                if adjust is not None:
                    logits = logits + adjust
                loss = lam * F.cross_entropy(logits, y, label_smoothing=cfg["smoothing"]) \
                    + (1 - lam) * F.cross_entropy(logits, y[perm], label_smoothing=cfg["smoothing"])
            else:
                loss = F.cross_entropy(logits, y, label_smoothing=cfg["smoothing"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                after = step + 1 - math.ceil(warm)
                if after <= 0:
                    torch._foreach_copy_(ema, params) if hasattr(torch, "_foreach_copy_") else [e.copy_(p) for e, p in zip(ema, params)]
                else:
                    decay = min(cfg["ema"], (1 + after) / (10 + after))
                    torch._foreach_mul_(ema, decay)
                    torch._foreach_add_(ema, params, alpha=1 - decay)
                if step >= swa_start and (step - swa_start) % 50 == 0:
                    swa_count += 1
                    torch._foreach_mul_(swa, (swa_count - 1) / swa_count)
                    torch._foreach_add_(swa, params, alpha=1 / swa_count)
            step += 1
        accuracy, probs = scored(ema)
        curve.append(round(accuracy * 100, 2))
    ema_acc, ema_probs = scored(ema)
    last_acc, last_probs = scored([p.detach() for p in params])
    swa_acc, swa_probs = scored(swa)
    np.save(os.path.join(out, f"probs-{name}.npy"), ema_probs.cpu().numpy().astype(np.float16))
    per_class = [round(((ema_probs.argmax(1) == yte) & (yte == c)).sum().item() / max(1, (yte == c).sum().item()) * 100, 1)
                 for c in range(classes)]
    return dict(name=name, ema=round(ema_acc * 100, 2), last=round(last_acc * 100, 2), swa=round(swa_acc * 100, 2),
                curve=curve, seconds=round(time.time() - start, 1), per_class=per_class,
                cfg={k: v for k, v in cfg.items() if BASE.get(k) != v})


def load(directory, device):
    def read(name):
        return np.fromfile(os.path.join(directory, name), dtype=np.uint8)
    classes = len(open(os.path.join(directory, "classes.txt")).read().split())
    ytr_np = read("train-labels.u8").astype(np.int64)
    xtr = torch.from_numpy(read("train-pixels.u8")).reshape(-1, 1, 32, 32).to(device).float() / 255
    xte = torch.from_numpy(read("test-pixels.u8")).reshape(-1, 1, 32, 32).to(device).float() / 255
    ytr = torch.from_numpy(ytr_np).to(device)
    yte = torch.from_numpy(read("test-labels.u8").astype(np.int64)).to(device)
    return xtr, ytr, xte, yte, ytr_np, classes


def worker(queue, args):
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = load(args.data, device)
    if args.limit:
        xtr, ytr, xte, yte, ytr_np, classes = data
        data = (xtr[:args.limit], ytr[:args.limit], xte, yte, ytr_np[:args.limit], classes)
    while True:
        try:
            name = queue.get(timeout=5)  # not get_nowait: the parent's feeder thread may not have flushed the queue yet
        except Exception:  # queue.Empty
            return
        cfg = dict(BASE, **VARIANTS[name])
        if args.epochs:
            cfg["epochs"] = args.epochs
        result = train(name, cfg, data, device, args.probs)
        with open(os.path.join(args.out, "results.jsonl"), "a") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps({k: result[k] for k in ("name", "ema", "last", "swa", "seconds", "curve")}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=0, help="override every variant's epochs (smoke tests)")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N rows only (smoke tests)")
    parser.add_argument("--probs", help="folder for the per-run probabilities (default --out); packed into --out/probs.npz at the end")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    args.probs = args.probs or args.out
    os.makedirs(args.probs, exist_ok=True)
    names = args.variants.split(",")
    for name in names:
        if name not in VARIANTS:
            sys.exit(f"unknown variant '{name}'; known: {', '.join(VARIANTS)}")
    print(f"torch {torch.__version__}, cuda {torch.cuda.is_available()}"
          + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""), flush=True)
    # Several processes take variants in the given order from one queue: the network is too small to fill a GPU alone.
    import multiprocessing as mp
    mp.set_start_method("spawn")
    queue = mp.Queue()
    for name in names:
        queue.put(name)
    procs = [mp.Process(target=worker, args=(queue, args)) for _ in range(min(args.workers, len(names)))]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join()
    finally:
        pack(args)


def pack(args):
    """One compressed file with every finished run's held-out probabilities (float16), for scoring ensembles afterwards."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # timeout signals the whole group again; packing must finish
    files = sorted(f for f in os.listdir(args.probs) if f.startswith("probs-") and f.endswith(".npy"))
    if files:
        np.savez_compressed(os.path.join(args.out, "probs.npz"), **{f[6:-4]: np.load(os.path.join(args.probs, f)) for f in files})
        print(f"packed {len(files)} runs' probabilities into {os.path.join(args.out, 'probs.npz')}", flush=True)


if __name__ == "__main__":
    main()
