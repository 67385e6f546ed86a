# Hyperparameters of the tiny character-level GPT, as plain Python assignments (the style of
# nanoGPT's config/*.py files). train.py reads this file, then applies --key=value overrides.
out_dir = 'out-tiny'
eval_interval = 20
eval_iters = 4
log_interval = 10

dataset = 'data/input.txt'
batch_size = 8
block_size = 32

# model
n_layer = 2
n_head = 2
n_embd = 32
dropout = 0.0
bias = False

# optimiser
learning_rate = 3e-3
max_iters = 60
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.99
grad_clip = 1.0

seed = 1337
