#!/usr/bin/env python3
"""A tiny character-level GPT in the style of nanoGPT, trained on CPU in a few seconds.

    python3 train.py config/train_tiny.py --out_dir=DIR --seed=N [--key=value ...]

It is gated by repro-gate *as it is*: hyperparameters in a Python config file plus --key=value
overrides (configurator.py), losses only printed ("step 40: train loss 2.6, val loss 2.7"), and
a torch checkpoint (out_dir/ckpt.pt) that, like nanoGPT's, stores the config dict, out_dir
included. Nothing here knows about repro-gate.

Deterministic on CPU: seeded, torch.use_deterministic_algorithms(True), one thread.
"""
import math
import os
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

import configurator

HERE = os.path.dirname(os.path.abspath(__file__))

# Defaults; config/*.py and --key=value override them (configurator.py).
config = dict(
    out_dir="out",
    eval_interval=20,
    eval_iters=4,
    log_interval=10,
    dataset="data/input.txt",
    batch_size=8,
    block_size=32,
    n_layer=2,
    n_head=2,
    n_embd=32,
    dropout=0.0,
    bias=False,
    learning_rate=3e-3,
    max_iters=60,
    weight_decay=0.1,
    beta1=0.9,
    beta2=0.99,
    grad_clip=1.0,
    seed=1337,
)
configurator.apply(config, sys.argv[1:])
c = config

torch.manual_seed(c["seed"])
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

with open(os.path.join(HERE, c["dataset"]), encoding="utf-8") as fh:
    text = fh.read()
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
data = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]


def get_batch(split):
    d = train_data if split == "train" else val_data
    ix = torch.randint(len(d) - c["block_size"], (c["batch_size"],))
    x = torch.stack([d[i : i + c["block_size"]] for i in ix])
    y = torch.stack([d[i + 1 : i + 1 + c["block_size"]] for i in ix])
    return x, y


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"], bias=c["bias"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=c["bias"])
        mask = torch.tril(torch.ones(c["block_size"], c["block_size"]))
        self.register_buffer("bias", mask.view(1, 1, c["block_size"], c["block_size"]))

    def forward(self, x):
        B, T, C = x.size()
        h = c["n_head"]
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, h, C // h).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"])
        self.attn = CausalSelfAttention()
        self.ln_2 = nn.LayerNorm(c["n_embd"])
        self.mlp = nn.Sequential(
            nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=c["bias"]),
            nn.GELU(),
            nn.Linear(4 * c["n_embd"], c["n_embd"], bias=c["bias"]),
        )

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(vocab_size, c["n_embd"]),
                wpe=nn.Embedding(c["block_size"], c["n_embd"]),
                h=nn.ModuleList([Block() for _ in range(c["n_layer"])]),
                ln_f=nn.LayerNorm(c["n_embd"]),
            )
        )
        self.lm_head = nn.Linear(c["n_embd"], vocab_size, bias=False)

    def forward(self, idx, targets):
        pos = torch.arange(idx.size(1))
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


model = GPT(len(chars))
optimizer = torch.optim.AdamW(
    model.parameters(), lr=c["learning_rate"], betas=(c["beta1"], c["beta2"]), weight_decay=c["weight_decay"]
)


@torch.no_grad()
def estimate_loss():
    model.eval()
    out = {}
    for split in ("train", "val"):
        out[split] = torch.stack([model(*get_batch(split)) for _ in range(c["eval_iters"])]).mean().item()
    model.train()
    return out


best_val_loss = float("inf")
for iter_num in range(c["max_iters"] + 1):
    if iter_num % c["eval_interval"] == 0:
        losses = estimate_loss()
        print(f"step {iter_num}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}", flush=True)
        best_val_loss = min(best_val_loss, losses["val"])
    if iter_num == c["max_iters"]:
        break
    loss = model(*get_batch("train"))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), c["grad_clip"])
    optimizer.step()
    if iter_num % c["log_interval"] == 0:
        print(f"iter {iter_num}: loss {loss.item():.4f}", flush=True)

os.makedirs(c["out_dir"], exist_ok=True)
checkpoint = {
    "model": model.state_dict(),
    "optimizer": optimizer.state_dict(),
    "model_args": {k: c[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "bias", "dropout")},
    "iter_num": iter_num,
    "best_val_loss": best_val_loss,
    "config": config,  # out_dir included, as nanoGPT's checkpoints have it
}
torch.save(checkpoint, os.path.join(c["out_dir"], "ckpt.pt"))
print(f"saving checkpoint to {c['out_dir']}", flush=True)
