"""Configuration the way nanoGPT's configurator.py does it, without its exec():

    python3 train.py config/train_tiny.py --learning_rate=1e-3 --max_iters=100

The first argument that does not start with -- names a Python config file of plain assignments;
every --key=value argument then overrides one of train.py's globals, keeping its type. (nanoGPT
exec()s the config file; this example reads it with ast.literal_eval, which gives the same values
for files of literal assignments.)
"""
import ast
import sys


def apply(config, argv):
    for arg in argv:
        if not arg.startswith("--"):
            with open(arg, encoding="utf-8") as fh:
                tree = ast.parse(fh.read(), arg)
            for node in tree.body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    name = node.targets[0].id
                    if name not in config:
                        sys.exit(f"{arg}: unknown config key {name!r}")
                    config[name] = ast.literal_eval(node.value)
            continue
        key, sep, raw = arg[2:].partition("=")
        if not sep or key not in config:
            sys.exit(f"unknown or malformed override {arg!r}: use --key=value with a key of {sorted(config)}")
        try:
            value = ast.literal_eval(raw)
        except (SyntaxError, ValueError):
            value = raw  # a bare string such as --out_dir=somewhere
        if type(value) is not type(config[key]) and not (isinstance(config[key], float) and isinstance(value, int)):
            sys.exit(f"override {arg!r}: expected {type(config[key]).__name__}, got {type(value).__name__}")
        config[key] = type(config[key])(value)
