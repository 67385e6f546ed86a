/**
 * Reads torch checkpoints (.pt, .pth, .ckpt) with the training's own Python and torch, on CPU and
 * with `weights_only=True` (no pickled code runs), so checkpoints are compared by what they hold
 * rather than by their bytes:
 *   describe FILE OUT       every leaf by key path: a tensor as dtype, shape and SHA-256 of its
 *                           bytes, anything else as its value; a string equal to the run's own
 *                           output folder OUT (or a path inside it) becomes "{out}…" and is listed
 *   diff FILE_A FILE_B OUT_A OUT_B   tensor by tensor: elements that differ, max abs/rel difference
 * Prints one JSON line. Kept as a string so the single-file bundles carry it.
 */
export const CHECKPOINT_MARK = 'REPRO_GATE_CHECKPOINT ';

// biome-ignore lint/complexity/noUselessStringRaw: Python source: a backslash in it must reach Python as written
export const CHECKPOINT_PY = String.raw`import hashlib, json, math, os, sys

MARK = "REPRO_GATE_CHECKPOINT "

def emit(doc):
    # Into the file the gate names (a checkpoint's leaves are far longer than a log line), else stdout.
    text = json.dumps(doc, sort_keys=True, allow_nan=False, default=str)
    path = os.environ.get("REPRO_GATE_RESULT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(MARK + text)
    sys.exit(0)

try:
    import torch
except Exception as e:
    emit({"unavailable": "torch cannot be imported here (%s)" % e})

import io, pickle, zipfile

# A torch checkpoint (the zip format torch.save writes since 1.6) read without torch.load: its
# pickle may reference tensors, numbers, strings and containers, and nothing else, so no pickled
# code runs whatever the file holds. (torch's own weights_only unpickler is the same idea, but
# before torch 2.0 it refuses plain Python floats, which every config dict holds.)
SAFE = {
    ("collections", "OrderedDict"), ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"),
    ("builtins", "complex"), ("_codecs", "encode"), ("torch", "Size"), ("torch", "device"),
    ("numpy.core.multiarray", "scalar"), ("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
    ("numpy", "dtype"), ("numpy._core.multiarray", "scalar"), ("numpy._core.multiarray", "_reconstruct"),
}

class Storage:
    def __init__(self, dtype):
        self.dtype = dtype

def rebuild_tensor(storage, offset, size, stride, *rest):
    flat = torch.frombuffer(bytearray(storage.raw), dtype=storage.dtype) if storage.raw else torch.empty(0, dtype=storage.dtype)
    return flat.as_strided(tuple(size), tuple(stride), offset)

def rebuild_parameter(data, *rest):
    return data

REBUILD = {"_rebuild_tensor_v2": rebuild_tensor, "_rebuild_tensor": rebuild_tensor,
           "_rebuild_parameter": rebuild_parameter, "_rebuild_parameter_with_state": rebuild_parameter}

class Restricted(pickle.Unpickler):
    def __init__(self, data, archive, prefix):
        super().__init__(data)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module, name):
        if module == "torch._utils" and name in REBUILD:
            return REBUILD[name]
        if module in ("torch", "torch.storage") and name.endswith("Storage"):
            # Only named in persistent ids, for the element type of the bytes that follow.
            kind = getattr(torch, name, None)
            return Storage(torch.uint8 if name == "UntypedStorage" or kind is None else kind.dtype)
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if (module, name) in SAFE:
            return super().find_class(module, name)
        raise pickle.UnpicklingError("it references %s.%s (only tensors, numbers, strings and containers are read)" % (module, name))

    def persistent_load(self, saved_id):
        typename, storage_type, key, location, numel = saved_id
        if typename != "storage" or not isinstance(storage_type, Storage):
            raise pickle.UnpicklingError("unexpected persistent id %r" % (typename,))
        s = Storage(storage_type.dtype)
        s.raw = self.archive.read("%s/data/%s" % (self.prefix, key))
        return s

def load(path):
    if not zipfile.is_zipfile(path):
        raise ValueError("not a zip-format torch checkpoint (saved with _use_new_zipfile_serialization=False or by torch < 1.6)")
    with zipfile.ZipFile(path) as archive:
        pkl = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pkl:
            raise ValueError("no data.pkl in the archive")
        prefix = pkl[0].split("/")[0]
        return Restricted(io.BytesIO(archive.read(pkl[0])), archive, prefix).load()

def normalise(value, out):
    if isinstance(value, str) and out and (value == out or value.startswith(out.rstrip("/") + "/")):
        return "{out}" + value[len(out.rstrip("/")):], True
    return value, False

def number(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
    return x

def leaves(obj, path, out, acc, embeds):
    if isinstance(obj, torch.Tensor):
        acc[path] = {"tensor": str(obj.dtype).replace("torch.", ""), "shape": list(obj.shape), "sha256": tensor_sha(obj)}
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            leaves(obj[k], (path + "." if path else "") + str(k), out, acc, embeds)
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            leaves(item, (path + "." if path else "") + str(i), out, acc, embeds)
    else:
        v, embedded = normalise(obj, out)
        if embedded:
            embeds.append(path)
        acc[path] = {"value": number(v) if isinstance(v, (int, float, str, bool, type(None))) else repr(v)}

def raw_bytes(t):
    t = t.detach().cpu().contiguous().reshape(-1)
    try:
        return t.view(torch.uint8).numpy().tobytes()
    except Exception:
        return repr(t.tolist()).encode()

def tensor_sha(t):
    return hashlib.sha256(raw_bytes(t)).hexdigest()

def describe(path, out):
    acc, embeds = {}, []
    leaves(load(path), "", out, acc, embeds)
    return {"leaves": acc, "embeds": embeds, "torch": torch.__version__}

def compare(name, a, b):
    row = {"name": name, "dtypeBefore": str(a.dtype).replace("torch.", ""), "dtypeAfter": str(b.dtype).replace("torch.", ""),
           "shapeBefore": list(a.shape), "shapeAfter": list(b.shape), "elementsBefore": a.numel(), "elementsAfter": b.numel()}
    if a.dtype != b.dtype or a.shape != b.shape:
        row.update(status="modified", compared=0, differing=None, maxAbsDiff=None, maxRelDiff=None, bitIdentical=False)
        return row
    same_bits = raw_bytes(a) == raw_bytes(b)
    a64, b64 = a.detach().cpu().double().reshape(-1), b.detach().cpu().double().reshape(-1)
    ne = (a64 != b64) & ~(torch.isnan(a64) & torch.isnan(b64))
    finite = torch.isfinite(a64) & torch.isfinite(b64) & ne
    diff = (a64 - b64).abs()
    row.update(status="identical" if same_bits else "modified", compared=a.numel(), differing=int(ne.sum()),
               bitIdentical=same_bits, nonFiniteDiffering=int((ne & ~finite).sum()),
               nanBefore=int(torch.isnan(a64).sum()), nanAfter=int(torch.isnan(b64).sum()))
    if finite.any():
        d = diff[finite]
        scale = torch.maximum(a64.abs(), b64.abs())[finite]
        row["maxAbsDiff"] = float(d.max())
        row["maxRelDiff"] = float((d / scale).max())
    else:
        row["maxAbsDiff"] = None
        row["maxRelDiff"] = None
    idx = ne.nonzero()
    if len(idx):
        i = int(idx[0][0])
        row["firstDifference"] = {"flatIndex": i, "before": number(float(a64[i])), "after": number(float(b64[i]))}
    return row

def diff(path_a, path_b, out_a, out_b):
    la, lb, ea, eb = {}, {}, [], []
    A, B = load(path_a), load(path_b)
    tensors_a, tensors_b = {}, {}
    def collect(obj, path, acc):
        if isinstance(obj, torch.Tensor):
            acc[path] = obj
        elif isinstance(obj, dict):
            for k in obj:
                collect(obj[k], (path + "." if path else "") + str(k), acc)
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                collect(item, (path + "." if path else "") + str(i), acc)
    collect(A, "", tensors_a)
    collect(B, "", tensors_b)
    leaves(A, "", out_a, la, ea)
    leaves(B, "", out_b, lb, eb)
    arrays = []
    for name in sorted(set(tensors_a) | set(tensors_b)):
        if name not in tensors_b:
            arrays.append({"name": name, "status": "removed"})
        elif name not in tensors_a:
            arrays.append({"name": name, "status": "added"})
        else:
            arrays.append(compare(name, tensors_a[name], tensors_b[name]))
    metadata = []
    for path in sorted(set(la) | set(lb)):
        a, b = la.get(path), lb.get(path)
        if (a and "tensor" in a) or (b and "tensor" in b):
            continue
        if a != b:
            metadata.append({"path": path, "before": a and a["value"], "after": b and b["value"]})
    return {"arrays": arrays, "metadata": metadata, "embeds": sorted(set(ea) | set(eb))}

try:
    if sys.argv[1] == "describe":
        emit(describe(sys.argv[2], sys.argv[3]))
    emit(diff(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]))
except SystemExit:
    raise
except Exception as e:
    emit({"error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")})
`;
