#!/usr/bin/env python3
"""Train a softmax (multinomial logistic) regression classifier with minibatch SGD.

Standard library only (Python 3.9+), so any machine with python3 can run it:

    python3 train.py --seed 0 --out runs/seed-0

Reads hyperparameters from params.json and the data set from data/wdbc.csv
(both next to this file unless --params / --data say otherwise) and writes
into --out:

    metrics.json   test-set accuracy, loss and macro F1, plus train-set metrics
                   nested under "train" (e.g. the dotted path train.loss)
    model.json     the learned weights and the standardisation statistics

Reproducibility rules this script follows, so that the same seed gives
bit-for-bit identical files:
  * the train/test split uses params["split_seed"], never --seed, so every
    seed is evaluated on the same held-out rows;
  * --seed drives only weight initialisation and minibatch shuffling, through
    one private random.Random(seed) instance (no global random state);
  * floats are summed in a fixed order with explicit loops (never the builtin
    sum(), whose float algorithm changed in Python 3.12), no set or dict
    ordering that depends on hashing, and JSON floats are written with repr.
"""

import argparse
import csv
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (type, check, description); every key is required, no others allowed.
PARAM_SPEC = {
    "learning_rate": (float, lambda v: v > 0, "a number > 0"),
    "epochs": (int, lambda v: 1 <= v <= 100000, "an integer >= 1"),
    "batch_size": (int, lambda v: v >= 1, "an integer >= 1"),
    "l2": (float, lambda v: v >= 0, "a number >= 0"),
    "init_scale": (float, lambda v: v >= 0, "a number >= 0"),
    "test_fraction": (float, lambda v: 0 < v < 1, "a number strictly between 0 and 1"),
    "split_seed": (int, lambda v: True, "an integer"),
    "log_every": (int, lambda v: v >= 1, "an integer >= 1"),
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
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{path}: '{name}' must be {what}, got {json.dumps(value)}")
        if kind is int and not (isinstance(value, int) or float(value).is_integer()):
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
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise InputError(f"data file not found: {path}")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: {exc}")
    if len(rows) < 2:
        raise InputError(f"{path}: expected a header row and at least one data row")
    header = rows[0]
    if len(header) < 2:
        raise InputError(f"{path}: header must name at least one feature and the label column")
    width = len(header)
    features, labels = [], []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row:
            continue  # tolerate blank lines
        if len(row) != width:
            raise InputError(f"{path}:{lineno}: expected {width} columns, found {len(row)}")
        x = []
        for col, cell in enumerate(row[:-1]):
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise InputError(f"{path}:{lineno}: column '{header[col]}' is {cell!r}, not a finite number")
            x.append(value)
        try:
            y = int(row[-1])
        except ValueError:
            raise InputError(f"{path}:{lineno}: label '{row[-1]}' is not an integer class id")
        features.append(x)
        labels.append(y)
    classes = sorted(set(labels))  # sorted: independent of hash order
    if len(classes) < 2:
        raise InputError(f"{path}: need at least two classes, found {classes}")
    return header[:-1], features, labels, classes


# --------------------------------------------------------------------------- model


def stratified_split(labels, classes, test_fraction, split_seed):
    """Same rows every run for a given split_seed, whatever --seed is."""
    rng = random.Random(split_seed)
    train_idx, test_idx = [], []
    for c in classes:
        idx = [i for i, y in enumerate(labels) if y == c]
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        if n_test < 1 or n_test >= len(idx):
            raise InputError(f"test_fraction {test_fraction} leaves class {c} ({len(idx)} rows) without train or test rows")
        test_idx.extend(idx[:n_test])
        train_idx.extend(idx[n_test:])
    return sorted(train_idx), sorted(test_idx)


def standardiser(rows):
    n, d = len(rows), len(rows[0])
    mean, std = [], []
    for j in range(d):
        s = 0.0
        for r in rows:
            s += r[j]
        m = s / n
        v = 0.0
        for r in rows:
            v += (r[j] - m) * (r[j] - m)
        sd = math.sqrt(v / n)
        mean.append(m)
        std.append(sd if sd > 0.0 else 1.0)  # constant column: leave it centred at 0
    return mean, std


def standardise(rows, mean, std):
    return [[(r[j] - mean[j]) / std[j] for j in range(len(mean))] for r in rows]


def softmax_probs(W, b, x):
    logits = []
    for k in range(len(W)):
        z = b[k]
        wk = W[k]
        for j in range(len(x)):
            z += wk[j] * x[j]
        logits.append(z)
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = 0.0
    for e in exps:
        total += e
    return [e / total for e in exps]


def evaluate(W, b, X, Y, n_classes):
    """Mean cross-entropy, accuracy, macro F1 and per-class counts."""
    loss = 0.0
    correct = 0
    tp = [0] * n_classes
    fp = [0] * n_classes
    fn = [0] * n_classes
    for x, y in zip(X, Y):
        p = softmax_probs(W, b, x)
        loss -= math.log(max(p[y], 1e-15))
        pred = 0
        for k in range(1, n_classes):
            if p[k] > p[pred]:
                pred = k
        if pred == y:
            correct += 1
            tp[y] += 1
        else:
            fp[pred] += 1
            fn[y] += 1
    f1_total = 0.0
    for k in range(n_classes):
        denom = 2 * tp[k] + fp[k] + fn[k]
        f1_total += (2.0 * tp[k] / denom) if denom else 0.0
    return {
        "loss": loss / len(X),
        "accuracy": correct / len(X),
        "macro_f1": f1_total / n_classes,
    }


def train(X, Y, n_classes, params, seed, log):
    rng = random.Random(seed)
    d = len(X[0])
    scale = params["init_scale"]
    W = [[rng.uniform(-scale, scale) for _ in range(d)] for _ in range(n_classes)]
    b = [0.0] * n_classes
    lr, l2, bs, epochs = params["learning_rate"], params["l2"], params["batch_size"], params["epochs"]
    order = list(range(len(X)))
    for epoch in range(1, epochs + 1):
        rng.shuffle(order)
        for start in range(0, len(order), bs):
            batch = order[start:start + bs]
            gW = [[0.0] * d for _ in range(n_classes)]
            gb = [0.0] * n_classes
            for i in batch:
                x = X[i]
                p = softmax_probs(W, b, x)
                for k in range(n_classes):
                    err = p[k] - (1.0 if Y[i] == k else 0.0)
                    gb[k] += err
                    gk = gW[k]
                    for j in range(d):
                        gk[j] += err * x[j]
            step = lr / len(batch)
            for k in range(n_classes):
                wk, gk = W[k], gW[k]
                for j in range(d):
                    wk[j] -= step * gk[j] + lr * l2 * wk[j]
                b[k] -= step * gb[k]
        if epoch % params["log_every"] == 0 or epoch == epochs:
            m = evaluate(W, b, X, Y, n_classes)
            if not math.isfinite(m["loss"]):
                raise InputError(f"training diverged at epoch {epoch} (loss {m['loss']}); lower learning_rate")
            log(f"epoch {epoch:4d}/{epochs}  train_loss={m['loss']:.4f}  train_acc={m['accuracy']:.4f}")
    return W, b


# --------------------------------------------------------------------------- main


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, allow_nan=False)
        fh.write("\n")
    os.replace(tmp, path)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Train softmax regression on a CSV data set with minibatch SGD.")
    ap.add_argument("--seed", type=int, required=True, help="training seed: weight init and minibatch order")
    ap.add_argument("--out", required=True, help="output folder for metrics.json and model.json (created if missing)")
    ap.add_argument("--params", default=os.path.join(HERE, "params.json"), help="hyperparameters (JSON; default: params.json next to this script)")
    ap.add_argument("--data", default=os.path.join(HERE, "data", "wdbc.csv"), help="CSV data (default: data/wdbc.csv next to this script)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise InputError(f"--out {args.out} exists and is not a folder")
    started = time.perf_counter()

    def log(msg):
        print(msg, flush=True)

    params = load_params(args.params)
    names, features, labels, classes = load_csv(args.data)
    class_index = {c: k for k, c in enumerate(classes)}
    targets = [class_index[y] for y in labels]
    n_classes = len(classes)

    train_idx, test_idx = stratified_split(labels, classes, params["test_fraction"], params["split_seed"])
    mean, std = standardiser([features[i] for i in train_idx])
    X_train = standardise([features[i] for i in train_idx], mean, std)
    X_test = standardise([features[i] for i in test_idx], mean, std)
    Y_train = [targets[i] for i in train_idx]
    Y_test = [targets[i] for i in test_idx]
    log(f"data {os.path.relpath(args.data)}: {len(features)} rows, {len(names)} features, "
        f"{n_classes} classes; train {len(train_idx)}, test {len(test_idx)} (split_seed {params['split_seed']})")
    log(f"seed {args.seed}: lr={params['learning_rate']!r} epochs={params['epochs']} "
        f"batch_size={params['batch_size']} l2={params['l2']!r}")

    W, b = train(X_train, Y_train, n_classes, params, args.seed, log)
    test = evaluate(W, b, X_test, Y_test, n_classes)
    train_m = evaluate(W, b, X_train, Y_train, n_classes)
    if not math.isfinite(test["loss"]):
        raise InputError(f"test loss is {test['loss']}; training diverged, lower learning_rate")

    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "metrics.json"), {
        "accuracy": test["accuracy"],
        "loss": test["loss"],
        "macro_f1": test["macro_f1"],
        "train": {"accuracy": train_m["accuracy"], "loss": train_m["loss"]},
    })
    write_json(os.path.join(args.out, "model.json"), {
        "type": "softmax_regression",
        "classes": classes,
        "features": names,
        "standardise": {"mean": mean, "std": std},
        "weights": W,
        "bias": b,
    })
    log(f"test accuracy={test['accuracy']:.4f} loss={test['loss']:.4f} macro_f1={test['macro_f1']:.4f} "
        f"-> {os.path.join(args.out, 'metrics.json')} ({time.perf_counter() - started:.2f}s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InputError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
