#!/usr/bin/env python3
"""Train a small PyTorch MLP on the UCI Breast Cancer Wisconsin (Diagnostic) data, on CPU.

    python3 train.py --seed N --out DIR [--params params.json] [--data data/wdbc.csv]

Model: every feature is standardised and also bucketed into quantile bins; each (feature, bin)
has a learned embedding, looked up by indexing one table (`table[idx]`). The standardised
features and the looked-up embeddings feed an MLP with one hidden ReLU layer and two logits.
Adam, cross-entropy, minibatches.

Writes into --out:
  metrics.json       test accuracy, loss (mean cross-entropy), macro_f1; train.accuracy, train.loss
  model.safetensors  every parameter as float32 plus the preprocessing (written with numpy)
  log.jsonl          one line per optimiser step: {"step": N, "loss": minibatch loss}

Determinism (see README.md): with `deterministic: true` in params.json, or with the environment
variable REPRO_GATE_DETERMINISTIC=1, the script calls torch.use_deterministic_algorithms(True)
and torch.set_num_threads(1). Without them it runs on OMP_NUM_THREADS threads (default: every
CPU it may use), and the backward pass of the embedding lookup accumulates gradients with
parallel atomic adds, whose order depends on thread timing.
"""
import argparse
import csv
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

PARAM_SPEC = {
    # name: (type, check, description)
    "learning_rate": (float, lambda v: v > 0, "a number > 0"),
    "weight_decay": (float, lambda v: v >= 0, "a number >= 0"),
    "epochs": (int, lambda v: v >= 1, "an integer >= 1"),
    "batch_size": (int, lambda v: v >= 1, "an integer >= 1"),
    "hidden": (int, lambda v: v >= 1, "an integer >= 1"),
    "bins": (int, lambda v: v >= 2, "an integer >= 2"),
    "embedding_dim": (int, lambda v: v >= 1, "an integer >= 1"),
    "test_fraction": (float, lambda v: 0 < v < 1, "a number strictly between 0 and 1"),
    "split_seed": (int, lambda v: True, "an integer"),
    "deterministic": (bool, lambda v: True, "true or false"),
}


class InputError(Exception):
    """Bad command line, parameters or data: reported in one line, exit status 1."""


# --------------------------------------------------------------------------- input


def load_params(path):
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except FileNotFoundError:
        raise InputError(f"parameters file not found: {path}")
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON: {exc}")
    if not isinstance(raw, dict):
        raise InputError(f"{path} must hold a JSON object of hyperparameters")
    unknown = sorted(k for k in raw if k not in PARAM_SPEC)
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(PARAM_SPEC))}")
    params = {}
    for name in sorted(PARAM_SPEC):
        kind, ok, what = PARAM_SPEC[name]
        if name not in raw:
            raise InputError(f"{path}: missing key '{name}' ({what})")
        value = raw[name]
        if kind is bool:
            if not isinstance(value, bool):
                raise InputError(f"{path}: '{name}' must be {what}, got {json.dumps(value)}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{path}: '{name}' must be {what}, got {json.dumps(value)}")
            if kind is int and not float(value).is_integer():
                raise InputError(f"{path}: '{name}' must be {what}, got {value!r}")
            value = kind(value)
            if not math.isfinite(value) or not ok(value):
                raise InputError(f"{path}: '{name}' must be {what}, got {value!r}")
        params[name] = value
    return params


def load_csv(path):
    """Header row of feature names plus a last column of integer class labels."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except FileNotFoundError:
        raise InputError(f"data file not found: {path}")
    if len(rows) < 2:
        raise InputError(f"{path}: expected a header row and at least one data row")
    header, width = rows[0], len(rows[0])
    features, labels = [], []
    for lineno, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise InputError(f"{path}:{lineno}: expected {width} columns, found {len(row)}")
        try:
            x = [float(c) for c in row[:-1]]
            y = int(row[-1])
        except ValueError:
            raise InputError(f"{path}:{lineno}: expected {width - 1} numbers and an integer label")
        if not all(math.isfinite(v) for v in x):
            raise InputError(f"{path}:{lineno}: a feature is not a finite number")
        features.append(x)
        labels.append(y)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise InputError(f"{path}: need at least two classes, found {classes}")
    return header[:-1], np.array(features, dtype=np.float64), labels, classes


def stratified_split(labels, classes, test_fraction, split_seed):
    """The same split as ../breast-cancer-logreg/train.py: same rows for a given split_seed."""
    rng = random.Random(split_seed)
    train_idx, test_idx = [], []
    for c in classes:
        idx = [i for i, y in enumerate(labels) if y == c]
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        if n_test < 1 or n_test >= len(idx):
            raise InputError(f"test_fraction {test_fraction} leaves class {c} without train or test rows")
        test_idx.extend(idx[:n_test])
        train_idx.extend(idx[n_test:])
    return sorted(train_idx), sorted(test_idx)


# --------------------------------------------------------------------------- model


class BinnedMLP(torch.nn.Module):
    """Standardised features plus one learned embedding per (feature, quantile bin), then an MLP."""

    def __init__(self, n_features, bins, dim, hidden, n_classes):
        super().__init__()
        self.table = torch.nn.Parameter(torch.randn(n_features * bins, dim) * 0.1)
        self.fc1 = torch.nn.Linear(n_features + n_features * dim, hidden)
        self.fc2 = torch.nn.Linear(hidden, n_classes)

    def forward(self, x, idx):
        # Advanced indexing: its backward is index_put_(accumulate=True), which on CPU with more
        # than one thread adds into the table with atomic adds in whatever order threads run,
        # unless torch.use_deterministic_algorithms(True) is on.
        emb = self.table[idx].flatten(1)
        return self.fc2(torch.relu(self.fc1(torch.cat([x, emb], dim=1))))


def evaluate(model, x, idx, y, n_classes):
    with torch.no_grad():
        logits = model(x, idx)
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        pred = logits.argmax(dim=1)
    correct = int((pred == y).sum())
    f1 = 0.0
    for k in range(n_classes):
        tp = int(((pred == k) & (y == k)).sum())
        fp = int(((pred == k) & (y != k)).sum())
        fn = int(((pred != k) & (y == k)).sum())
        f1 += (2.0 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0
    return {"accuracy": correct / len(y), "loss": loss, "macro_f1": f1 / n_classes}


# --------------------------------------------------------------------------- output


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, allow_nan=False)
        fh.write("\n")
    os.replace(tmp, path)


def write_safetensors(path, tensors, metadata):
    """The safetensors layout, with numpy only: u64 header length, JSON header, raw little-endian data."""
    dtypes = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtypes[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)))
        fh.write(text)
        for blob in blobs:
            fh.write(blob)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- main


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Train a small PyTorch MLP on a CSV data set, on CPU.")
    ap.add_argument("--seed", type=int, required=True, help="training seed: weight init and minibatch order")
    ap.add_argument("--out", required=True, help="output folder (created if missing)")
    ap.add_argument("--params", default=os.path.join(HERE, "params.json"), help="hyperparameters (JSON; default: params.json next to this script)")
    ap.add_argument("--data", default=os.path.join(HERE, "data", "wdbc.csv"), help="CSV data (default: data/wdbc.csv next to this script)")
    return ap.parse_args(argv)


def configure_determinism(params):
    """Returns (deterministic, threads, why)."""
    from_env = os.environ.get("REPRO_GATE_DETERMINISTIC", "").strip() == "1"
    if from_env or params["deterministic"]:
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(1)
        return True, 1, "REPRO_GATE_DETERMINISTIC=1" if from_env else "params deterministic: true"
    # PyTorch's own default: OMP_NUM_THREADS if set, else the CPUs. (Debian's torch 1.13 starts
    # with one thread on some machines; upstream wheels use one per physical core.)
    try:
        threads = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = max(1, threads)
    torch.set_num_threads(threads)
    return False, threads, "params deterministic: false"


def main(argv=None):
    args = parse_args(argv)
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise InputError(f"--out {args.out} exists and is not a folder")
    started = time.perf_counter()
    params = load_params(args.params)
    deterministic, threads, why = configure_determinism(params)

    # Seed every generator from --seed (numpy and random are seeded too, for anything added later).
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    names, features, labels, classes = load_csv(args.data)
    class_index = {c: k for k, c in enumerate(classes)}
    targets = np.array([class_index[y] for y in labels], dtype=np.int64)
    n_classes, n_features = len(classes), len(names)
    train_idx, test_idx = stratified_split(labels, classes, params["test_fraction"], params["split_seed"])

    # Preprocessing, fitted on the training rows only, in float64 with numpy.
    train_x = features[train_idx]
    mean = train_x.mean(axis=0)
    std = train_x.std(axis=0)
    std[std == 0] = 1.0
    qs = np.arange(1, params["bins"]) / params["bins"]
    edges = np.stack([np.quantile(train_x[:, j], qs) for j in range(n_features)])  # (features, bins-1)
    offsets = np.arange(n_features, dtype=np.int64) * params["bins"]

    def prepare(rows):
        x = torch.from_numpy(((features[rows] - mean) / std).astype(np.float32))
        b = np.stack([np.searchsorted(edges[j], features[rows, j], side="right") for j in range(n_features)], axis=1)
        return x, torch.from_numpy(b.astype(np.int64) + offsets), torch.from_numpy(targets[rows])

    x_train, i_train, y_train = prepare(train_idx)
    x_test, i_test, y_test = prepare(test_idx)
    print(f"data {os.path.relpath(args.data)}: {len(labels)} rows, {n_features} features, {n_classes} classes; "
          f"train {len(train_idx)}, test {len(test_idx)} (split_seed {params['split_seed']})", flush=True)
    print(f"torch {torch.__version__}: deterministic={deterministic} ({why}), threads={threads}", flush=True)

    model = BinnedMLP(n_features, params["bins"], params["embedding_dim"], params["hidden"], n_classes)
    opt = torch.optim.Adam(model.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"])
    order_gen = torch.Generator().manual_seed(args.seed)
    bs, n = params["batch_size"], len(train_idx)

    os.makedirs(args.out, exist_ok=True)
    step = 0
    with open(os.path.join(args.out, "log.jsonl"), "w", encoding="utf-8", newline="\n") as log:
        for epoch in range(1, params["epochs"] + 1):
            order = torch.randperm(n, generator=order_gen)
            for start in range(0, n, bs):
                batch = order[start:start + bs]
                loss = torch.nn.functional.cross_entropy(model(x_train[batch], i_train[batch]), y_train[batch])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                value = loss.item()
                if not math.isfinite(value):
                    raise InputError(f"training diverged at step {step} (loss {value}); lower learning_rate")
                log.write(json.dumps({"step": step, "loss": value}) + "\n")
                step += 1
            if epoch % 10 == 0 or epoch == params["epochs"]:
                m = evaluate(model, x_train, i_train, y_train, n_classes)
                print(f"epoch {epoch:4d}/{params['epochs']}  train_loss={m['loss']:.4f}  train_acc={m['accuracy']:.4f}", flush=True)

    test = evaluate(model, x_test, i_test, y_test, n_classes)
    train_m = evaluate(model, x_train, i_train, y_train, n_classes)
    write_json(os.path.join(args.out, "metrics.json"), {
        "accuracy": test["accuracy"],
        "loss": test["loss"],
        "macro_f1": test["macro_f1"],
        "train": {"accuracy": train_m["accuracy"], "loss": train_m["loss"]},
    })
    tensors = {name: p.detach().numpy() for name, p in model.named_parameters()}
    tensors.update({"preprocess.mean": mean, "preprocess.std": std, "preprocess.bin_edges": edges})
    write_safetensors(os.path.join(args.out, "model.safetensors"), tensors, {
        "model": "BinnedMLP", "classes": ",".join(str(c) for c in classes), "features": ",".join(names),
    })
    print(f"test accuracy={test['accuracy']:.4f} loss={test['loss']:.4f} macro_f1={test['macro_f1']:.4f} "
          f"-> {os.path.join(args.out, 'metrics.json')} ({step} steps, {time.perf_counter() - started:.2f}s)", flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (InputError, OSError) as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
