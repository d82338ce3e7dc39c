#!/usr/bin/env python3
"""Kernel-only step times of Llama-shaped models with random BF16 weights on one GPU.

usage: python3 bench/gpu_steps.py OUT.csv        (writes OUT.csv and OUT_meta.json beside it)
       GPU_STEPS_DRY=1 python3 bench/gpu_steps.py /tmp/x.csv   (tiny shapes on the CPU: logic check)

A calibration source for llmcap's step-time model (docs/models.md, bench/fidelity). It measures,
on whatever CUDA GPU it finds:
  membw_copy / membw_read  device-to-device copy (bytes read + written) and a reduction (bytes
                           read) over 64 MiB .. 4 GiB;
  gemm_bf16 / gemm_fp8     y = x W^T for the projection shapes of Llama-3.1-8B and -70B (TP1)
                           against M = tokens, 1 .. 8192 (FP8: torch._scaled_mm, per-tensor
                           scales, fast accumulation), weights rotated so they never sit in L2;
  decode                   a whole Llama-3.1-8B decode step (32 layers, final norm, LM head,
                           FP32 logits, argmax) for B sequences that each attend kv_len tokens
                           of a uniform, contiguous KV cache (one per layer), batch 1..256;
  prefill                  a whole 8B prefill step of nseq sequences of kv_len tokens from an
                           empty cache (causal attention, KV written to the cache, LM head on
                           each sequence's last token), 128 .. 16384 tokens;
  decode70 / prefill70     the same for 4 layers of the Llama-3.1-70B shape at TP1 (no LM
                           head): per-layer times of the 70B class.
Each layer is RMSNorm, fused QKV projection, rotary embedding (unfused PyTorch ops), KV-cache
write, attention through torch SDPA (FlashAttention backend where it accepts the call; decode
folds each KV head's query group into the query length, as flash-decoding does), output
projection, residual add, RMSNorm, fused gate/up projection, SiLU x up, down projection,
residual add. Every measured region is captured in a CUDA graph and timed with CUDA events over
graph replays, after warm-ups, so host (Python, launch) time is excluded: these are GPU kernel
times, without any serving engine's scheduling, sampling or paging costs. Reported: median,
min and max over the replays, per call.

It keeps to a time budget (GPU_STEPS_BUDGET_S, default 240 s): sections run in priority order
and later ones are skipped, with a note in the meta file, when time runs short. Rows are
written as they are measured, so a run cut short still leaves its data."""
import json
import math
import os
import platform
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

T0 = time.time()
BUDGET = float(os.environ.get("GPU_STEPS_BUDGET_S", "240"))
DRY = os.environ.get("GPU_STEPS_DRY") == "1"

# Hugging Face config.json values (meta-llama/Llama-3.1-8B, meta-llama/Llama-3.1-70B)
LLAMA_8B = dict(name="llama-3.1-8b", hidden=4096, heads=32, kv_heads=8, head_dim=128,
                inter=14336, layers=32, vocab=128256)
LLAMA_70B = dict(name="llama-3.1-70b", hidden=8192, heads=64, kv_heads=8, head_dim=128,
                 inter=28672, layers=80, vocab=128256)
if DRY:
    LLAMA_8B = dict(name="dry-small", hidden=256, heads=4, kv_heads=2, head_dim=64, inter=512,
                    layers=2, vocab=1000)
    LLAMA_70B = dict(name="dry-large", hidden=512, heads=8, kv_heads=2, head_dim=64, inter=1024,
                     layers=4, vocab=1000)

COLS = ["section", "shape", "dtype", "layers", "lm_head", "nseq", "tokens", "kv_len", "m", "n",
        "k", "bytes", "inner", "reps", "median_ms", "min_ms", "max_ms", "tflops", "gbps"]


def left():
    return BUDGET - (time.time() - T0)


def log(msg):
    print(f"[{time.time() - T0:6.1f}s] {msg}", flush=True)


def smi():
    try:
        q = ("name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,"
             "temperature.gpu,clocks_throttle_reasons.active")
        return subprocess.run(["nvidia-smi", f"--query-gpu={q}", "--format=csv"],
                              capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:  # no nvidia-smi (dry run) or it failed: note and go on
        return f"unavailable: {e}"


class Timer:
    """Per-call time of fn(i), i = 0..inner-1, captured `inner` times in one CUDA graph."""

    def __init__(self, dev):
        self.cuda = dev.type == "cuda"
        self.pool = torch.cuda.graph_pool_handle() if self.cuda else None

    def time(self, fn, inner, reps):
        if not self.cuda:
            fn(0)
            ts = []
            for _ in range(reps):
                t = time.perf_counter()
                for i in range(inner):
                    fn(i)
                ts.append((time.perf_counter() - t) * 1e3 / inner)
            return stats(ts)
        # warm-up on a side stream (cuBLAS handles, workspaces, autotuning) before capture
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for i in range(min(inner, 3)):
                fn(i)
        torch.cuda.current_stream().wait_stream(s)
        torch.cuda.synchronize()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            for i in range(inner):
                fn(i)
        for _ in range(2):
            g.replay()
        torch.cuda.synchronize()
        e0 = torch.cuda.Event(enable_timing=True)
        e1 = torch.cuda.Event(enable_timing=True)
        ts = []
        for _ in range(reps):
            e0.record()
            g.replay()
            e1.record()
            e1.synchronize()
            ts.append(e0.elapsed_time(e1) / inner)
        del g
        return stats(ts)


def stats(ts):
    ts = sorted(ts)
    n = len(ts)
    med = ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])
    return med, ts[0], ts[-1]


class Writer:
    def __init__(self, path):
        self.f = open(path, "w")
        self.f.write(",".join(COLS) + "\n")
        self.rows = []

    def row(self, **kv):
        r = {c: kv.get(c, "") for c in COLS}
        self.rows.append(r)
        out = []
        for c in COLS:
            v = r[c]
            out.append(f"{v:.6g}" if isinstance(v, float) else str(v))
        self.f.write(",".join(out) + "\n")
        self.f.flush()


def rms_norm(x, w, eps=1e-5):
    if hasattr(F, "rms_norm"):
        return F.rms_norm(x, (x.shape[-1],), w, eps)
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps).to(x.dtype) * w


def rope(x, cos, sin):
    x1, x2 = x.chunk(2, -1)
    return x * cos + torch.cat((-x2, x1), -1) * sin


class Attn:
    """torch SDPA, on the FlashAttention backend where it takes the call (probed once per kind
    of call), else on whatever backend SDPA picks; a manual softmax where SDPA is missing."""

    def __init__(self, dev, dtype):
        self.mode = {}
        self.has_sdpa = hasattr(F, "scaled_dot_product_attention")
        self.flash_ctx = None
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
            self.flash_ctx = lambda: sdpa_kernel([SDPBackend.FLASH_ATTENTION])
        except Exception:
            pass
        hd = LLAMA_8B["head_dim"]
        q = torch.randn(2, 4, 64, hd, device=dev, dtype=dtype)
        k = torch.randn(2, 2, 64, hd, device=dev, dtype=dtype)
        # decode: [B, kv_heads, group, hd] against [B, kv_heads, ctx, hd], non-causal
        self.mode["decode"] = self._probe(lambda: self._call(q[:, :2, :4], k, k, False, False))
        # prefill: [B, heads, T, hd] against [B, kv_heads, T, hd], causal, grouped
        self.mode["prefill"] = "fail"
        for m in ("flash_gqa", "gqa", "expand"):
            self.prefill = m
            self.use_flash = self.mode["decode"] == "flash"  # for "expand"
            try:
                self.prefill_attn(q, k, k)
            except Exception:
                continue
            self.mode["prefill"] = m + ("/flash" if m == "expand" and self.use_flash else "")
            if not self.has_sdpa:
                self.mode["prefill"] = "manual"
            break

    def _call(self, q, k, v, causal, gqa, flash=None):
        if not self.has_sdpa:
            if gqa:
                r = q.shape[1] // k.shape[1]
                k, v = k.repeat_interleave(r, 1), v.repeat_interleave(r, 1)
            s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(q.shape[-1])
            if causal:
                t = q.shape[-2]
                s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
            return (s.softmax(-1) @ v.float()).to(q.dtype)
        kw = {"enable_gqa": True} if gqa else {}
        use_flash = self.use_flash if flash is None else flash
        if use_flash and self.flash_ctx is not None:
            with self.flash_ctx():
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal, **kw)
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, **kw)

    def _probe(self, f):
        if not self.has_sdpa:
            f()
            return "manual"
        for flash in (True, False):
            self.use_flash = flash
            try:
                f()
                return "flash" if flash and self.flash_ctx is not None else "sdpa-default"
            except Exception:
                continue
        return "fail"

    def decode_attn(self, q, k, v):
        self.use_flash = self.mode["decode"] == "flash"
        return self._call(q, k, v, False, False)

    def prefill_attn(self, q, k, v):
        if self.prefill == "expand":
            self.use_flash = self.mode["decode"] == "flash"
            r = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(r, 1), v.repeat_interleave(r, 1)
            return self._call(q, k, v, True, False)
        if self.prefill == "flash_gqa":
            return self._call(q, k, v, True, True, flash=True)
        return self._call(q, k, v, True, True, flash=False)


class Stack:
    """`layers` Llama layers with random weights (std 1/sqrt(fan-in)), an optional LM head, and
    a KV cache of kv_cap tokens per layer, laid out so that any (batch, kv_len) with
    batch x kv_len <= kv_cap is a contiguous [batch, kv_heads, kv_len, head_dim] view."""

    def __init__(self, cfg, layers, lm_head, kv_cap, dev, dtype):
        self.c, self.L, self.dev, self.dtype = cfg, layers, dev, dtype
        h, hd = cfg["hidden"], cfg["head_dim"]
        self.q, self.kv = cfg["heads"] * hd, cfg["kv_heads"] * hd

        def w(n, k):
            return torch.empty(n, k, device=dev, dtype=dtype).normal_(0.0, k ** -0.5)
        self.w = []
        for _ in range(layers):
            self.w.append(dict(qkv=w(self.q + 2 * self.kv, h), o=w(h, self.q),
                               gu=w(2 * cfg["inter"], h), d=w(h, cfg["inter"]),
                               n1=torch.ones(h, device=dev, dtype=dtype),
                               n2=torch.ones(h, device=dev, dtype=dtype)))
        self.lm = w(cfg["vocab"], h) if lm_head else None
        self.nf = torch.ones(h, device=dev, dtype=dtype)
        self.kv_cap = kv_cap
        self.cache = torch.empty(layers, 2, kv_cap * self.kv, device=dev, dtype=dtype)
        self.cache.normal_(0.0, 1.0)

    def view(self, l, which, b, t):
        n = b * self.c["kv_heads"] * t * self.c["head_dim"]
        return self.cache[l, which, :n].view(b, self.c["kv_heads"], t, self.c["head_dim"])

    def rot(self, pos):
        hd = self.c["head_dim"]
        inv = 1.0 / (500000.0 ** (torch.arange(0, hd, 2, device=self.dev).float() / hd))
        f = pos.float()[:, None] * inv[None, :]
        e = torch.cat((f, f), -1)
        return e.cos().to(self.dtype), e.sin().to(self.dtype)

    def head(self, x):
        if self.lm is None:
            return x
        return F.linear(rms_norm(x, self.nf), self.lm).float().argmax(-1)

    def mlp(self, x, w):
        g, u = F.linear(rms_norm(x, w["n2"]), w["gu"]).chunk(2, -1)
        return x + F.linear(F.silu(g) * u, w["d"])

    def decode_fn(self, attn, b, t, x, cos, sin):
        """One decode step: b sequences, one new token each, attending t cached tokens (the new
        token's K and V are written at position t - 1)."""
        c = self.c
        nh, kh, hd = c["heads"], c["kv_heads"], c["head_dim"]

        def fn(_i):
            y = x
            for l, w in enumerate(self.w):
                qkv = F.linear(rms_norm(y, w["n1"]), w["qkv"])
                q, k, v = qkv.split([self.q, self.kv, self.kv], -1)
                q = rope(q.view(b, nh, hd), cos, sin)
                k = rope(k.view(b, kh, hd), cos, sin)
                kc, vc = self.view(l, 0, b, t), self.view(l, 1, b, t)
                kc[:, :, t - 1] = k
                vc[:, :, t - 1] = v.view(b, kh, hd)
                o = attn.decode_attn(q.view(b, kh, nh // kh, hd), kc, vc)
                y = y + F.linear(o.reshape(b, self.q), w["o"])
                y = self.mlp(y, w)
            return self.head(y)
        return fn

    def prefill_fn(self, attn, ns, t, x, cos, sin):
        """One prefill step: ns sequences of t new tokens each, empty cache before."""
        c = self.c
        nh, kh, hd = c["heads"], c["kv_heads"], c["head_dim"]

        def fn(_i):
            y = x
            for l, w in enumerate(self.w):
                qkv = F.linear(rms_norm(y, w["n1"]), w["qkv"])
                q, k, v = qkv.split([self.q, self.kv, self.kv], -1)
                q = rope(q.view(ns, t, nh, hd), cos, sin).transpose(1, 2)
                k = rope(k.view(ns, t, kh, hd), cos, sin).transpose(1, 2)
                v = v.view(ns, t, kh, hd).transpose(1, 2)
                self.view(l, 0, ns, t).copy_(k)
                self.view(l, 1, ns, t).copy_(v)
                o = attn.prefill_attn(q, k, v)
                y = y + F.linear(o.transpose(1, 2).reshape(ns * t, self.q), w["o"])
                y = self.mlp(y, w)
            return self.head(y.view(ns, t, -1)[:, -1])
        return fn


def mem_probe(tm, wr, dev, dtype):
    sizes = [64, 256, 1024, 4096] if not DRY else [1, 4]
    for mib in sizes:
        n = mib * 2 ** 20 // 2
        a = torch.empty(n, device=dev, dtype=dtype).normal_()
        b = torch.empty_like(a)
        for sec, fn, nbytes in (("membw_copy", lambda i: b.copy_(a), 4 * n),
                                ("membw_read", lambda i: a.sum(dtype=torch.float32), 2 * n)):
            med, lo, hi = tm.time(fn, 10, 7)
            wr.row(section=sec, dtype="bf16", bytes=nbytes, inner=10, reps=7, median_ms=med,
                   min_ms=lo, max_ms=hi, gbps=nbytes / med * 1e-6)
            log(f"{sec} {mib} MiB: {nbytes / med * 1e-6:.0f} GB/s")
        del a, b


GEMM_M = [1, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]


def gemm_shapes(c):
    h, hd = c["hidden"], c["head_dim"]
    q, kv = c["heads"] * hd, c["kv_heads"] * hd
    return [("qkv", q + 2 * kv, h), ("o", h, q), ("gate_up", 2 * c["inter"], h),
            ("down", h, c["inter"])]


def gemm_sweep(tm, wr, dev, dtype, fp8):
    shapes = [(LLAMA_8B, s) for s in gemm_shapes(LLAMA_8B)]
    shapes.append((LLAMA_8B, ("lm_head", LLAMA_8B["vocab"], LLAMA_8B["hidden"])))
    shapes += [(LLAMA_70B, s) for s in gemm_shapes(LLAMA_70B)]
    ms = GEMM_M if not DRY else [1, 16, 64]
    for cfg, (op, n, k) in shapes:
        if fp8 and op == "lm_head":
            continue
        if left() < 60:
            log("gemm: out of time budget, skipping the rest")
            return False
        wbytes = n * k * (1 if fp8 else 2)
        nw = max(1, math.ceil(256 * 2 ** 20 / wbytes))  # rotate weights: > 5x the 50 MB L2
        if DRY:
            nw = 2
        ws = []
        for _ in range(nw):
            wt = torch.empty(n, k, device=dev, dtype=dtype).normal_(0.0, k ** -0.5)
            ws.append(wt.to(torch.float8_e4m3fn).t() if fp8 else wt)  # fp8: [k, n] column-major
        one = torch.ones((), device=dev, dtype=torch.float32)
        for m in ms:
            x = torch.empty(m, k, device=dev, dtype=dtype).normal_()
            if fp8:
                x = x.to(torch.float8_e4m3fn)

                def fn(i, x=x):
                    return torch._scaled_mm(x, ws[i % nw], one, one, out_dtype=dtype,
                                            use_fast_accum=True)
            else:
                def fn(i, x=x):
                    return F.linear(x, ws[i % nw])
            flops = 2.0 * m * n * k
            est = max(flops / 6e14, (wbytes + 2 * m * (n + k)) / 2.5e12)
            inner = nw * max(1, min(64, math.ceil(2e-3 / est / nw)))
            try:
                med, lo, hi = tm.time(fn, inner, 5)
            except Exception as e:
                wr.row(section="gemm_fp8" if fp8 else "gemm_bf16", shape=f"{cfg['name']}:{op}",
                       m=m, n=n, k=k, median_ms=float("nan"))
                log(f"gemm {op} m={m}: failed: {type(e).__name__}: {str(e)[:120]}")
                continue
            wr.row(section="gemm_fp8" if fp8 else "gemm_bf16", shape=f"{cfg['name']}:{op}",
                   dtype="fp8" if fp8 else "bf16", m=m, n=n, k=k, bytes=wbytes, inner=inner,
                   reps=5, median_ms=med, min_ms=lo, max_ms=hi, tflops=flops / med * 1e-9,
                   gbps=wbytes / med * 1e-6)
        log(f"gemm {'fp8' if fp8 else 'bf16'} {cfg['name']}:{op} done "
            f"(m=8192: {wr.rows[-1]['tflops'] if wr.rows[-1]['tflops'] != '' else 'n/a'} TFLOPS)")
        del ws
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    return True


def run_stack(tm, wr, attn, cfg, layers, lm_head, kv_cap, decode_grid, prefill_grid, tag,
              dev, dtype, min_left):
    st = Stack(cfg, layers, lm_head, kv_cap, dev, dtype)
    log(f"{tag}: {cfg['name']} x{layers} layers built")
    h = cfg["hidden"]
    for b, t in decode_grid:
        if b * t > kv_cap:
            continue
        if left() < min_left:
            log(f"{tag}: out of time budget, skipping the rest of decode")
            break
        x = torch.empty(b, h, device=dev, dtype=dtype).normal_()
        cos, sin = st.rot(torch.full((b,), t - 1, device=dev))
        cos, sin = cos[:, None, :], sin[:, None, :]
        try:
            med, lo, hi = tm.time(st.decode_fn(attn, b, t, x, cos, sin), 1, 9)
        except Exception as e:
            log(f"{tag} decode b={b} kv={t} failed: {type(e).__name__}: {str(e)[:160]}")
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            continue
        wr.row(section="decode" + tag, shape=cfg["name"], dtype="bf16", layers=layers,
               lm_head=int(lm_head), nseq=b, tokens=b, kv_len=t, inner=1, reps=9, median_ms=med,
               min_ms=lo, max_ms=hi)
        log(f"{tag} decode b={b:3d} kv={t:5d}: {med:.3f} ms")
    for ns, t in prefill_grid:
        if ns * t > kv_cap:
            continue
        if left() < min_left:
            log(f"{tag}: out of time budget, skipping the rest of prefill")
            break
        x = torch.empty(ns * t, h, device=dev, dtype=dtype).normal_()
        cos, sin = st.rot(torch.arange(t, device=dev))
        cos, sin = cos[:, None, :], sin[:, None, :]
        try:
            med, lo, hi = tm.time(st.prefill_fn(attn, ns, t, x, cos, sin), 1, 5)
        except Exception as e:
            log(f"{tag} prefill ns={ns} t={t} failed: {type(e).__name__}: {str(e)[:160]}")
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            continue
        wr.row(section="prefill" + tag, shape=cfg["name"], dtype="bf16", layers=layers,
               lm_head=int(lm_head), nseq=ns, tokens=ns * t, kv_len=t, inner=1, reps=5,
               median_ms=med, min_ms=lo, max_ms=hi)
        log(f"{tag} prefill ns={ns} t={t:5d}: {med:.3f} ms")
    del st
    if dev.type == "cuda":
        torch.cuda.empty_cache()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    meta_path = os.path.splitext(out)[0] + "_meta.json"
    dev = torch.device("cuda" if torch.cuda.is_available() and not DRY else "cpu")
    dtype = torch.bfloat16 if not DRY else torch.float32
    meta = dict(script="bench/gpu_steps.py", started_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                        time.gmtime()),
                torch=torch.__version__, cuda=torch.version.cuda, python=platform.python_version(),
                budget_s=BUDGET, dry=DRY, smi_start=smi(), notes=[])
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(0)
        meta.update(device=p.name, sms=p.multi_processor_count, memory_bytes=p.total_memory)
        torch.backends.cuda.matmul.allow_tf32 = False
    log(f"torch {torch.__version__} cuda {torch.version.cuda} on {meta.get('device', 'cpu')}")
    wr = Writer(out)
    tm = Timer(dev)

    def save():
        meta["elapsed_s"] = time.time() - T0
        meta["smi_end"] = smi()
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1)

    try:
        attn = Attn(dev, dtype)
        meta["attention"] = attn.mode
        log(f"attention: {attn.mode}")
        save()
        mem_probe(tm, wr, dev, dtype)
        gemm_sweep(tm, wr, dev, dtype, fp8=False)
        save()
        if DRY:
            dec8 = [(b, t) for b in (1, 4) for t in (16, 64)]
            pre8 = [(1, 16), (2, 32)]
            dec70, pre70, cap8, cap70 = dec8, pre8, 256, 256
        else:
            dec8 = [(b, t) for t in (256, 1024, 4096, 16384)
                    for b in (1, 2, 4, 8, 16, 32, 64, 128, 256)]
            pre8 = [(1, t) for t in (128, 256, 512, 1024, 2048, 4096, 8192, 16384)]
            pre8 += [(4, 512), (16, 512), (8, 1024), (2, 4096)]
            dec70 = [(b, t) for t in (1024, 4096) for b in (1, 4, 16, 64, 256)]
            pre70 = [(1, t) for t in (128, 512, 2048, 8192)]
            cap8, cap70 = 262144, 1048576
        run_stack(tm, wr, attn, LLAMA_8B, LLAMA_8B["layers"], True, cap8, dec8, pre8, "",
                  dev, dtype, 45)
        save()
        if left() > 40:
            run_stack(tm, wr, attn, LLAMA_70B, 4, False, cap70, dec70, pre70, "70", dev, dtype, 15)
        else:
            meta["notes"].append("70B-shape section skipped: time budget")
        save()
        fp8 = (dev.type == "cuda" and hasattr(torch, "float8_e4m3fn")
               and torch.cuda.get_device_capability(0) >= (8, 9))
        if fp8 and left() > 60:
            gemm_sweep(tm, wr, dev, dtype, fp8=True)
        else:
            meta["notes"].append("fp8 GEMM sweep skipped (no fp8 or time budget)")
    except Exception as e:
        meta["notes"].append(f"aborted: {type(e).__name__}: {e}")
        log(f"aborted: {type(e).__name__}: {e}")
        raise
    finally:
        save()
    # a short summary last (the device tool returns the end of the output)
    for r in wr.rows:
        if r["section"] in ("decode", "prefill") and r["kv_len"] in (1024, 2048):
            print(f"{r['section']:8s} nseq={r['nseq']:<4} tokens={r['tokens']:<6} "
                  f"kv_len={r['kv_len']:<6} {r['median_ms']:.3f} ms")
    log(f"done: {len(wr.rows)} rows in {out}")


if __name__ == "__main__":
    main()
