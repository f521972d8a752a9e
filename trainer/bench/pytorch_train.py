#!/usr/bin/python3
"""Times optimizer steps of the `tiny-llama` bench preset in plain PyTorch.

The PyTorch side of trainer/bench/compare.ts. Run it with Debian's python3-torch (1.13) and
nothing else:

    /usr/bin/python3 trainer/bench/pytorch_train.py --method lora --steps 5

It builds the model of trainer/src/bench/presets.ts (a Llama: RMSNorm, rotate-half RoPE,
causal attention, SwiGLU MLP, untied LM head) on random token ids, trains either LoRA on the
frozen base or every weight, and prints one JSON line on stdout with the fields of
`whet bench train --json`. What it ran on (BLAS, threads, CPU capability) goes to stderr.

Each step: forward, mean cross-entropy over next tokens, backward, clip_grad_norm_(1.0),
AdamW step, zero_grad; 3 warm-up steps, then --steps timed ones, as `whet bench train` does.
"""

import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

THREADS = 2
WARMUP_STEPS = 3
SEED = 1
IGNORED = -100

# The preset as trainer/src/bench/presets.ts defines it; compare.ts passes its own copy with
# --preset so that the two sides cannot drift apart.
TINY_LLAMA = {
    'vocab_size': 4096,
    'hidden_size': 256,
    'intermediate_size': 688,
    'num_layers': 4,
    'num_heads': 4,
    'num_kv_heads': 4,
    'head_dim': 64,
    'rms_norm_eps': 1e-5,
    'rope_theta': 10000.0,
    'sequence_length': 256,
    'batch_size': 8,
    'lora_rank': 8,
    'lora_alpha': 16,
    'lora_targets': ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
}

ATTENTION_MODULES = ('q_proj', 'k_proj', 'v_proj', 'o_proj')
MLP_MODULES = ('gate_proj', 'up_proj', 'down_proj')


def log(message):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Model: Hugging Face's Llama and PEFT's LoRA semantics, written out in plain PyTorch.


class RMSNorm(nn.Module):
    def __init__(self, width, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        # x: (B, T, C)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Projection(nn.Module):
    """y = x W^T, plus PEFT's LoRA branch (x A^T) B^T * alpha / r when rank > 0; W is (out, in)."""

    def __init__(self, in_features, out_features, rank, alpha):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.lora_A = nn.Parameter(torch.empty(rank, in_features)) if rank else None
        self.lora_B = nn.Parameter(torch.zeros(out_features, rank)) if rank else None
        self.scaling = alpha / rank if rank else 0.0

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora_A is None:
            return y
        return y + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, p, lora_for):
        super().__init__()
        C, NH, NKV, HD = p['hidden_size'], p['num_heads'], p['num_kv_heads'], p['head_dim']
        self.heads, self.kv_heads, self.head_dim = NH, NKV, HD
        self.q_proj = Projection(C, NH * HD, *lora_for('q_proj'))
        self.k_proj = Projection(C, NKV * HD, *lora_for('k_proj'))
        self.v_proj = Projection(C, NKV * HD, *lora_for('v_proj'))
        self.o_proj = Projection(NH * HD, C, *lora_for('o_proj'))

    def forward(self, x, cos, sin, mask):
        # x: (B, T, C); cos, sin: (T, HD); mask: (T, T), 0 where visible and -inf above the diagonal
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.heads, self.head_dim).transpose(1, 2)  # (B, NH, T, HD)
        k = self.k_proj(x).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)  # (B, NKV, T, HD)
        v = self.v_proj(x).view(B, T, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        if groups > 1:
            k = k.repeat_interleave(groups, dim=1)
            v = v.repeat_interleave(groups, dim=1)
        # torch 1.13 has no fused scaled_dot_product_attention: this is transformers' eager path.
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask  # (B, NH, T, T)
        weights = torch.softmax(scores, dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(B, T, self.heads * self.head_dim)
        return self.o_proj(out)


class Mlp(nn.Module):
    def __init__(self, p, lora_for):
        super().__init__()
        C, I = p['hidden_size'], p['intermediate_size']
        self.gate_proj = Projection(C, I, *lora_for('gate_proj'))
        self.up_proj = Projection(C, I, *lora_for('up_proj'))
        self.down_proj = Projection(I, C, *lora_for('down_proj'))

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Decoder(nn.Module):
    def __init__(self, p, lora_for):
        super().__init__()
        self.input_layernorm = RMSNorm(p['hidden_size'], p['rms_norm_eps'])
        self.self_attn = Attention(p, lora_for)
        self.post_attention_layernorm = RMSNorm(p['hidden_size'], p['rms_norm_eps'])
        self.mlp = Mlp(p, lora_for)

    def forward(self, x, cos, sin, mask):
        mid = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return mid + self.mlp(self.post_attention_layernorm(mid))


class Llama(nn.Module):
    def __init__(self, p, method):
        super().__init__()

        def lora_for(module):
            if method == 'lora' and module in p['lora_targets']:
                return p['lora_rank'], p['lora_alpha']
            return 0, 0

        V, C, T, HD = p['vocab_size'], p['hidden_size'], p['sequence_length'], p['head_dim']
        self.embed_tokens = nn.Embedding(V, C)
        self.layers = nn.ModuleList(Decoder(p, lora_for) for _ in range(p['num_layers']))
        self.norm = RMSNorm(C, p['rms_norm_eps'])
        self.lm_head = nn.Parameter(torch.empty(V, C))
        inverse_frequencies = 1.0 / (p['rope_theta'] ** (torch.arange(0, HD, 2, dtype=torch.float32) / HD))
        angles = torch.outer(torch.arange(T, dtype=torch.float32), inverse_frequencies)
        angles = torch.cat((angles, angles), dim=-1)  # (T, HD): entry i and i + HD/2 share an angle
        self.register_buffer('cos', angles.cos(), persistent=False)
        self.register_buffer('sin', angles.sin(), persistent=False)
        self.register_buffer('mask', torch.full((T, T), float('-inf')).triu(1), persistent=False)

    def forward(self, ids):
        # ids: (B, T) -> logits (B, T, V)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return F.linear(self.norm(x), self.lm_head)


def initialise(model, generator):
    """As `whet bench train`: weights N(0, 0.02), norm weights 1 + N(0, 0.02), PEFT's LoRA init."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith('lora_A'):
                bound = 1.0 / math.sqrt(parameter.shape[1])
                parameter.uniform_(-bound, bound, generator=generator)
            elif name.endswith('lora_B'):
                parameter.zero_()
            elif name.endswith('norm.weight'):
                parameter.normal_(1.0, 0.02, generator=generator)
            else:
                parameter.normal_(0.0, 0.02, generator=generator)


def select_trainable(model, method):
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(method == 'full' or 'lora_' in name)
    return [parameter for parameter in model.parameters() if parameter.requires_grad]


# ----------------------------------------------------------------------------------------------
# Matrix-product FLOPs per optimizer step, counted as `whet bench train` counts them.


def matmul_flops_per_step(p, method):
    """2 m n k for every matrix product of the projections, the LoRA pairs and the LM head that a step runs.

    As on the TypeScript side, attention's own products (Q K^T, P V and their gradients) are not
    counted: there they live inside the attention kernel, not in `matmul`. With N = B * T rows, a
    projection of `in` -> `out` features costs
      forward                      2 N in out, plus LoRA's 2 N in r + 2 N r out
      weight gradient              2 N in out, when the weight trains (full fine-tuning)
      input gradient               2 N in out, when anything before the input trains
      LoRA gradients               dB 2 N r out, d(x A^T) 2 N out r, dA 2 N r in,
                                   and 2 N r in more for the input gradient when it is needed
    and the LM head (C -> V) the same as a projection without LoRA. Autograd skips the gradient of
    a tensor nothing trainable depends on: with LoRA, the first layer's q/k/v inputs (the frozen
    embedding through a frozen norm) get none, so neither their base nor their LoRA input gradient
    is computed. The embedding's gradient is a scatter, not a product.
    """
    N = p['batch_size'] * p['sequence_length']
    C, I, V = p['hidden_size'], p['intermediate_size'], p['vocab_size']
    attention_width = p['num_heads'] * p['head_dim']
    kv_width = p['num_kv_heads'] * p['head_dim']
    r = p['lora_rank']
    full = method == 'full'

    def projection(fin, fout, module, input_needs_gradient):
        lora = method == 'lora' and module in p['lora_targets']
        flops = 2 * N * fin * fout
        if full:
            flops += 2 * N * fin * fout
        if input_needs_gradient:
            flops += 2 * N * fin * fout
        if lora:
            flops += 2 * N * fin * r + 2 * N * r * fout  # forward
            flops += 2 * N * r * fout + 2 * N * fout * r + 2 * N * r * fin  # dB, d(x A^T), dA
            if input_needs_gradient:
                flops += 2 * N * r * fin
        return flops

    def trains(module):
        return full or (method == 'lora' and module in p['lora_targets'])

    # Whether the residual stream here depends on a trainable parameter: from the embedding on in
    # full fine-tuning; with LoRA, from the first trained projection on (norm weights are frozen).
    stream = full
    total = 0
    for _ in range(p['num_layers']):
        attention_input = stream
        total += projection(C, attention_width, 'q_proj', attention_input)
        total += projection(C, kv_width, 'k_proj', attention_input)
        total += projection(C, kv_width, 'v_proj', attention_input)
        attention_output = attention_input or any(trains(m) for m in ('q_proj', 'k_proj', 'v_proj'))
        total += projection(attention_width, C, 'o_proj', attention_output)
        stream = stream or attention_output or trains('o_proj')
        mlp_input = stream
        total += projection(C, I, 'gate_proj', mlp_input)
        total += projection(C, I, 'up_proj', mlp_input)
        down_input = mlp_input or trains('gate_proj') or trains('up_proj')
        total += projection(I, C, 'down_proj', down_input)
        stream = stream or down_input or trains('down_proj')
    total += 2 * N * C * V  # LM head forward
    if full:
        total += 2 * N * C * V
    if stream:
        total += 2 * N * C * V
    return total


def profiled_flops(step):
    """Runs one step under autograd's profiler: (mm/addmm FLOPs, bmm FLOPs) from the recorded shapes."""
    with torch.autograd.profiler.profile(record_shapes=True) as profile:
        step()
    products = 0
    batched = 0
    for event in profile.function_events:
        shapes = event.input_shapes
        if event.name in ('aten::mm', 'aten::addmm'):
            a, b = (shapes[1], shapes[2]) if event.name == 'aten::addmm' else (shapes[0], shapes[1])
            products += 2 * a[0] * a[1] * b[1]
        elif event.name == 'aten::bmm':
            a, b = shapes[0], shapes[1]
            batched += 2 * a[0] * a[1] * a[2] * b[2]
    return products, batched


# ----------------------------------------------------------------------------------------------
# What the run uses


def loaded_libraries(word):
    with open('/proc/self/maps') as maps:
        return sorted({line.split()[-1] for line in maps if word in line.split()[-1].split('/')[-1]})


def set_up_blas():
    """Pins OpenBLAS to THREADS threads and names the BLAS torch's products run on, as threadpoolctl would."""
    descriptions = {}
    for path in loaded_libraries('blas'):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(library, 'openblas_get_config'):
            # torch.set_num_threads reaches OpenMP only, not the pthread build of OpenBLAS.
            library.openblas_set_num_threads(THREADS)
            library.openblas_get_config.restype = ctypes.c_char_p
            library.openblas_get_corename.restype = ctypes.c_char_p
            config = library.openblas_get_config().decode()
            core = library.openblas_get_corename().decode()
            threads = library.openblas_get_num_threads()
            descriptions.setdefault(f'{config}, core {core}, {threads} threads', []).append(path)
        elif hasattr(library, 'bli_info_get_version_str'):
            library.bli_info_get_version_str.restype = ctypes.c_char_p
            descriptions.setdefault(f'BLIS {library.bli_info_get_version_str().decode()}', []).append(path)
        elif hasattr(library, 'sgemm_'):
            descriptions.setdefault('reference BLAS (netlib: unblocked, single-threaded)', []).append(path)
    found = [f'{name} ({", ".join(paths)})' for name, paths in descriptions.items()]
    return '; '.join(found) or 'none found among the loaded libraries'


def report_environment():
    capabilities = [line for line in torch.__config__.show().splitlines() if 'CPU capability' in line]
    capability = capabilities[0].split(':', 1)[1].strip() if capabilities else 'unknown'
    log(f'torch: {torch.__version__}, CPU capability {capability}, {torch.get_num_threads()} threads')
    log(f'blas: {set_up_blas()}')
    overrides = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')
    set_overrides = [f'{name}={os.environ[name]}' for name in overrides if name in os.environ]
    unset = ' and '.join(overrides) + ' unset'
    log(f'environment: {", ".join(set_overrides) if set_overrides else unset}')


# ----------------------------------------------------------------------------------------------


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--method', choices=['lora', 'full'], default='lora')
    parser.add_argument('--steps', type=int, default=5, help='timed steps, after 3 warm-up steps')
    parser.add_argument('--preset', help='the preset as JSON (keys of TINY_LLAMA); default: tiny-llama')
    parser.add_argument(
        '--check-flops',
        action='store_true',
        help='profile one step and compare its products with the analytic count, then exit',
    )
    arguments = parser.parse_args()
    if arguments.steps < 1:
        parser.error(f'--steps must be at least 1, got {arguments.steps}')
    preset = dict(TINY_LLAMA)
    if arguments.preset:
        given = json.loads(arguments.preset)
        unknown = sorted(set(given) - set(TINY_LLAMA))
        if unknown:
            parser.error(f'--preset: unknown keys {", ".join(unknown)}')
        preset.update(given)
    if preset['num_heads'] % preset['num_kv_heads'] != 0:
        heads, kv_heads = preset['num_heads'], preset['num_kv_heads']
        parser.error(f'--preset: num_kv_heads ({kv_heads}) must divide num_heads ({heads})')
    return arguments, preset


def main():
    arguments, p = parse_arguments()
    torch.set_num_threads(THREADS)
    report_environment()
    generator = torch.Generator().manual_seed(SEED)
    model = Llama(p, arguments.method)
    initialise(model, generator)
    trainable = select_trainable(model, arguments.method)
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    B, T, V = p['batch_size'], p['sequence_length'], p['vocab_size']
    ids = torch.randint(0, V, (B, T), generator=generator)
    # Row t predicts token t + 1; a row's last position predicts nothing. As on the TypeScript side
    # (weight 0 there), every position's logits are computed, which spares the copy and the zero
    # fill that slicing off the last position would cost forward and backward.
    targets = torch.cat((ids[:, 1:], torch.full((B, 1), IGNORED)), dim=1).reshape(-1)

    def step():
        logits = model(ids)
        loss = F.cross_entropy(logits.view(-1, V), targets, ignore_index=IGNORED)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    expected = matmul_flops_per_step(p, arguments.method)
    if arguments.check_flops:
        products, batched = profiled_flops(step)
        log(f'flops per step: analytic {expected}, profiled {products} (+ {batched} in attention bmm)')
        sys.exit(0 if products == expected else 1)

    for _ in range(WARMUP_STEPS):
        step()
    started = time.perf_counter()
    for _ in range(arguments.steps):
        step()
    seconds = time.perf_counter() - started
    result = {
        'tokens_per_s': arguments.steps * B * T / seconds,
        'gflop_per_s': arguments.steps * expected / seconds / 1e9,
        'ms_per_step': seconds * 1000 / arguments.steps,
        'backend': 'pytorch',
        'method': arguments.method,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
