/**
 * Reads a Python config file (plain assignments, as nanoGPT, MMEngine and Detectron2 configs are
 * written) with the training's own interpreter and Python's `ast`: nothing in the file is executed.
 * Top-level assignments and class attributes (as `Class.attr`) whose values are literals become
 * keys; any other value is kept as its source text. Prints one JSON line; a syntax error prints
 * its line and column. Kept as a string so the single-file bundles carry it.
 */
export const PYCONFIG_MARK = 'REPRO_GATE_PYCONFIG ';

export const PYCONFIG_PY = String.raw`import ast, json, math, os, sys

MARK = "REPRO_GATE_PYCONFIG "

def result(doc):
    # Into the file the gate names (a JSON document can be far longer than a log line), else stdout.
    text = json.dumps(doc, sort_keys=True, allow_nan=False, default=str)
    path = os.environ.get("REPRO_GATE_RESULT")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(MARK + text)

def plain(v):
    # JSON has no NaN/Infinity, tuples or sets; the baseline is JSON.
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted((plain(x) for x in v), key=repr)
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, complex) or isinstance(v, bytes):
        return repr(v)
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
        return str(v)
    return v

def value(node, source):
    # dict(a=1, b=2), as MMEngine and Detectron2 configs write their sections.
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args \
            and all(k.arg is not None for k in node.keywords):
        return {k.arg: value(k.value, source) for k in node.keywords}
    try:
        return plain(ast.literal_eval(node))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        # Not a literal (a call, a name, arithmetic): compared as its source text.
        return ast.get_source_segment(source, node) or ast.dump(node)

def names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in names(t)]
    return []

def assignments(body, source, out):
    # Class attributes nest under the class name, so they flatten to Class.attr like any section.
    for node in body:
        if isinstance(node, ast.Assign):
            targets = [n for t in node.targets for n in names(t)]
            if len(targets) == 1 or all(isinstance(t, ast.Name) for t in node.targets):
                for n in targets:
                    out[n] = value(node.value, source)
            else:
                for n in targets:
                    out[n] = ast.get_source_segment(source, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            for n in names(node.target):
                out[n] = value(node.value, source)
        elif isinstance(node, ast.ClassDef):
            inner = {}
            assignments(node.body, source, inner)
            out[node.name] = inner

path = sys.argv[1]
try:
    with open(path, "rb") as f:
        source = f.read().decode("utf-8-sig")
    tree = ast.parse(source, path)
except SyntaxError as e:
    result({"error": e.msg, "line": e.lineno, "column": e.offset})
    sys.exit(0)
except (OSError, UnicodeDecodeError, ValueError, RecursionError, MemoryError) as e:
    result({"error": str(e)})
    sys.exit(0)
out = {}
assignments(tree.body, source, out)
result({"values": out})
`;
