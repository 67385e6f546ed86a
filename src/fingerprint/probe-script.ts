/**
 * The environment probe, run with the training's own python inside the training's own runtime so it
 * sees what the training sees. Kept as a string so the single-file action bundle carries it.
 */
export const PROBE_PY = String.raw`# Environment probe: run by repro-gate with the training's own python, in the training's own
# runtime (host or container), with the training's environment. Prints one JSON line.
# Standard library only; optional frameworks are imported only when installed.
import json, os, platform, subprocess, sys

facts = {}

def put(key, value):
    if value is not None and value != "":
        facts[key] = value

def os_release():
    try:
        with open("/etc/os-release") as f:
            pairs = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
        return pairs.get("PRETTY_NAME", "").strip('"')
    except OSError:
        return platform.platform()

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") or line.startswith("Model"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

# Instruction-set flags that change which kernels BLAS and compilers pick, hence the numbers; the
# model name beside them is noise when these are equal.
NUMERIC_ISA = {
    "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl",
    "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8", "amx_tile",
    "asimd", "asimdhp", "fphp", "sve", "sve2", "bf16", "i8mm",
}

def cpu_isa():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags") or line.startswith("Features"):
                    return " ".join(sorted(set(line.split(":", 1)[1].split()) & NUMERIC_ISA))
    except OSError:
        pass
    return None

put("os", os_release())
put("kernel", platform.release())
put("arch", platform.machine())
put("cpu.model", cpu_model())
put("cpu.isa", cpu_isa())
put("cpu.count", os.cpu_count())
put("python.version", platform.python_version())
put("python.implementation", platform.python_implementation())

try:
    from importlib import metadata
    pkgs = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name:
            pkgs[name] = dist.version
    for name in sorted(pkgs):
        put("package." + name, pkgs[name])
except Exception as exc:  # a broken site-packages must not break the gate
    put("package.error", str(exc))

def installed(name):
    return "package." + name in facts

if installed("numpy"):
    try:
        import numpy
        cfg = numpy.show_config(mode="dicts") if "mode" in numpy.show_config.__code__.co_varnames else None
        if cfg:
            blas = cfg.get("Build Dependencies", {}).get("blas", {})
            put("blas", " ".join(str(blas.get(k, "")) for k in ("name", "version")).strip())
        else:
            info = getattr(numpy.__config__, "blas_opt_info", {}) or getattr(numpy.__config__, "blas_ilp64_opt_info", {})
            put("blas", ",".join(info.get("libraries", [])))
    except Exception:
        pass

if installed("torch"):
    try:
        import torch
        put("torch.cuda", torch.version.cuda)
        put("torch.cudnn", torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None)
        put("torch.cuda_available", torch.cuda.is_available())
        if torch.cuda.is_available():
            put("torch.gpu_count", torch.cuda.device_count())
    except Exception:
        pass

try:
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
        capture_output=True, text=True, timeout=20,
    )
    if out.returncode == 0:
        gpus = [l.strip() for l in out.stdout.splitlines() if l.strip()]
        put("gpu.count", len(gpus))
        for i, line in enumerate(gpus):
            parts = [p.strip() for p in line.split(",")]
            put("gpu.%d.name" % i, parts[0])
            if len(parts) > 1:
                put("gpu.driver", parts[1])
            if len(parts) > 2:
                put("gpu.%d.memory" % i, parts[2])
    ver = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=20)
    for token in ver.stdout.split("CUDA Version:")[1:2]:
        put("cuda.driver_api", token.split()[0])
except (OSError, subprocess.SubprocessError):
    pass

for name in json.loads(sys.argv[1]) if len(sys.argv) > 1 else []:
    if name in os.environ:
        put("env." + name, os.environ[name])

# A distributed training's collective settings, as each rank inherits them.
for name in json.loads(sys.argv[2]) if len(sys.argv) > 2 else []:
    if name in os.environ:
        put("distributed.env." + name, os.environ[name])

MARK = "REPRO_GATE_ENV "
def result(doc):
    # Into the file the gate names (a JSON document can be far longer than a log line), else stdout.
    text = json.dumps(doc, sort_keys=True, allow_nan=False, default=str)
    path = os.environ.get("REPRO_GATE_RESULT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(MARK + text)

result(facts)
`;
