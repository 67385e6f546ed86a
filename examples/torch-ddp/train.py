#!/usr/bin/env python3
"""Data-parallel PyTorch training on CPU (gloo), one process per rank, started by torchrun.

    torchrun --standalone --nproc_per_node 2 train.py --seed N --out DIR [--params params.json]

A small MLP on the UCI Breast Cancer Wisconsin (Diagnostic) data. Every step draws one global
minibatch from a seeded permutation (the same on every rank); rank r trains on rows r, r+W, r+2W, …
of it (W = world size), so the global batch, and the mathematics, do not depend on W. Only the
order in which floating-point sums are formed does: a run at world size 1 differs from one at
world size 2 in its last bits, and that is what `repro-gate check` reports as environment drift.

How the ranks' gradients are combined (params.json "combine"):
  allreduce  DistributedDataParallel: an all-reduce of every gradient bucket. With gloo on CPU it
             adds the ranks' contributions in a fixed order: the run is bit-for-bit reproducible.
  arrival    a parameter-server pattern: every rank splits its share into micro-batches and sends
             each micro-batch's gradient to rank 0 as soon as it is computed; rank 0 adds them to its
             own in the order they arrive (a receiver thread queues them while rank 0 computes) and
             broadcasts the sum. Float addition is not associative, so the arrival order, which
             depends on timing, changes the last bits of the weights from run to run; at world size
             1 there is nothing to wait for and the run is deterministic again.

Writes into --out (rank 0 only):
  metrics.json       test accuracy and loss, train.loss
  model.safetensors  every parameter as float32 (written with numpy)
  log.jsonl          one line per optimiser step: {"step": N, "loss": global minibatch loss}
"""
import argparse
import csv
import json
import math
import os
import queue
import random
import struct
import sys
import threading

import numpy as np
import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
PARAMS = {
    # name: (type, check, description)
    "learning_rate": (float, lambda v: v > 0, "a number > 0"),
    "epochs": (int, lambda v: v >= 1, "an integer >= 1"),
    "global_batch": (int, lambda v: v >= 1, "an integer >= 1"),
    "micro_batches": (int, lambda v: v >= 1, "an integer >= 1"),
    "hidden": (int, lambda v: v >= 1, "an integer >= 1"),
    "test_fraction": (float, lambda v: 0 < v < 1, "a number strictly between 0 and 1"),
    "split_seed": (int, lambda v: True, "an integer"),
    "combine": (str, lambda v: v in ("allreduce", "arrival"), '"allreduce" or "arrival"'),
}


class InputError(Exception):
    """Bad command line, parameters or data: one line on stderr, exit status 1."""


def load_params(path):
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}")
    if not isinstance(raw, dict) or sorted(raw) != sorted(PARAMS):
        raise InputError(f"{path} must hold exactly the keys {', '.join(sorted(PARAMS))}")
    params = {}
    for name, (kind, ok, what) in PARAMS.items():
        value = raw[name]
        if kind is str:
            valid = isinstance(value, str) and ok(value)
        else:
            valid = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
                     and (kind is float or float(value).is_integer()) and ok(kind(value)))
        if not valid:
            raise InputError(f"{path}: '{name}' must be {what}, got {json.dumps(value)}")
        params[name] = value if kind is str else kind(value)
    return params


def load_data(path, test_fraction, split_seed):
    """Features standardised on the training rows; the same stratified split as ../torch-mlp."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r][1:]
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}")
    x = np.array([[float(c) for c in r[:-1]] for r in rows], dtype=np.float64)
    y = np.array([int(r[-1]) for r in rows], dtype=np.int64)
    rng = random.Random(split_seed)
    train, test = [], []
    for c in sorted(set(y.tolist())):
        idx = [i for i in range(len(y)) if y[i] == c]
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        test += idx[:n_test]
        train += idx[n_test:]
    train, test = sorted(train), sorted(test)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    std[std == 0] = 1.0
    xs = torch.from_numpy(((x - mean) / std).astype(np.float32))
    ys = torch.from_numpy(y)
    return xs[train], ys[train], xs[test], ys[test]


def flat_grad(model):
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def set_grad(model, flat):
    offset = 0
    for p in model.parameters():
        p.grad = flat[offset:offset + p.numel()].view_as(p).clone()
        offset += p.numel()


def arrival_step(model, x, y, rows, global_batch, micro, rank, world):
    """Gradients of the global minibatch, summed at rank 0 in the order they arrive."""
    size = sum(p.numel() for p in model.parameters())

    def micro_grads():
        for part in torch.tensor_split(rows, micro):
            model.zero_grad(set_to_none=True)
            # Summed, not averaged, per row: the parts add up to the global batch's mean loss.
            loss = torch.nn.functional.cross_entropy(model(x[part]), y[part], reduction="sum") / global_batch
            loss.backward()
            yield flat_grad(model)

    total = torch.zeros(size)
    if rank == 0:
        arrived = queue.Queue()

        def receive():
            for src in range(1, world):
                for tag in range(micro):
                    buf = torch.empty(size)
                    dist.recv(buf, src=src, tag=tag)
                    arrived.put(buf)

        receiver = threading.Thread(target=receive, daemon=True)
        receiver.start()
        for g in micro_grads():
            total += g
            while not arrived.empty():  # whatever has come in meanwhile, in the order it came
                total += arrived.get()
        receiver.join()
        while not arrived.empty():
            total += arrived.get()
    else:
        for tag, g in enumerate(micro_grads()):
            dist.send(g, dst=0, tag=tag)
    dist.broadcast(total, src=0)
    set_grad(model, total)


def write_safetensors(path, tensors):
    """The safetensors layout with numpy only: u64 header length, JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--params", default=os.path.join(HERE, "params.json"))
    ap.add_argument("--data", default=os.path.join(HERE, "data", "wdbc.csv"))
    args = ap.parse_args(argv)
    params = load_params(args.params)

    # torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; repro-gate passes the backend.
    backend = os.environ.get("REPRO_GATE_DIST_BACKEND", "gloo")
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if params["global_batch"] % world:
        raise InputError(f"global_batch {params['global_batch']} must be divisible by the world size {world}")
    torch.set_num_threads(1)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)  # the same initial weights on every rank

    x_train, y_train, x_test, y_test = load_data(args.data, params["test_fraction"], params["split_seed"])
    model = torch.nn.Sequential(
        torch.nn.Linear(x_train.shape[1], params["hidden"]), torch.nn.Tanh(), torch.nn.Linear(params["hidden"], 2)
    )
    arrival = params["combine"] == "arrival"
    net = model if arrival else torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=params["learning_rate"], momentum=0.9)
    order = torch.Generator().manual_seed(args.seed)
    batch, n = params["global_batch"], len(y_train)
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        print(f"torch {torch.__version__}, backend {backend}, world size {world}, combine {params['combine']}", flush=True)
    log = open(os.path.join(args.out, "log.jsonl"), "w", encoding="utf-8") if rank == 0 else None
    step = 0
    for _epoch in range(params["epochs"]):
        perm = torch.randperm(n, generator=order)
        for start in range(0, n - batch + 1, batch):
            rows = perm[start:start + batch][rank::world]  # this rank's share of the global batch
            if arrival:
                arrival_step(model, x_train, y_train, rows, batch, params["micro_batches"], rank, world)
            else:
                opt.zero_grad(set_to_none=True)
                # DDP averages over ranks; each rank's mean over its equal share: the global mean.
                torch.nn.functional.cross_entropy(net(x_train[rows]), y_train[rows]).backward()
            opt.step()
            if log:
                with torch.no_grad():
                    loss = torch.nn.functional.cross_entropy(model(x_train[perm[start:start + batch]]), y_train[perm[start:start + batch]])
                log.write(json.dumps({"step": step, "loss": loss.item()}) + "\n")
            step += 1

    if rank == 0:
        log.close()
        with torch.no_grad():
            logits = model(x_test)
            metrics = {
                "accuracy": (logits.argmax(1) == y_test).double().mean().item(),
                "loss": torch.nn.functional.cross_entropy(logits, y_test).item(),
                "train": {"loss": torch.nn.functional.cross_entropy(model(x_train), y_train).item()},
            }
        with open(os.path.join(args.out, "metrics.json"), "w", encoding="utf-8") as fh:
            json.dump(metrics, fh, indent=2, sort_keys=True)
        write_safetensors(os.path.join(args.out, "model.safetensors"),
                          {k: v.detach().numpy() for k, v in model.state_dict().items()})
        print(f"{step} steps: test accuracy {metrics['accuracy']:.4f}, loss {metrics['loss']:.6f}", flush=True)
    dist.barrier()
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InputError as exc:
        print(f"train.py: error: {exc}", file=sys.stderr)
        sys.exit(1)
