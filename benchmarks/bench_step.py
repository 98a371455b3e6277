"""Where one step of the fast scorer's LSTM goes, and ways to do it, in one run.

    python benchmarks/bench_step.py [--rows 4096] [--hidden 128] [--threads 1]

One LSTM step of the fast scorer is a (rows x H) @ (H x 4H) product plus the gate arithmetic
on (rows, 4H). This times, at the scorer's bucket shape, the product alone (the ceiling the
issue measures against) and several ways to do the whole step, each checked against the
current one (largest difference printed). Timings are printed, never asserted.

  current     the scorer's step: product, add the input projection, three sigmoids and two
              tanh on the strided gate views, in place
  sig-block   gates reordered (i, f, o | g): one sigmoid over a contiguous 3H block
  all-sigmoid tanh(x) = 2 sigmoid(2x) - 1: g's rows pre-doubled, one sigmoid over all 4H
  sigmoid-only all-sigmoid, and tanh(c) = 2 sigmoid(2c) - 1 too: no tanh at all
  addmm-out   the input projection enters as the product's C matrix (beta = 1), no add pass
  elementwise the current step without its product (what the gates cost alone)
"""
from __future__ import annotations

import argparse
import time

import torch


def timed(fn, repeat: int) -> float:
    for _ in range(5):
        fn()
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    R, H = args.rows, args.hidden
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4 * H, H, generator=g) / H ** 0.5        # weight_hh, gates (i, f, g, o)
    w_t = w.t().contiguous()
    xproj = torch.randn(R, 4 * H, generator=g)
    h0, c0 = torch.randn(R, H, generator=g), torch.randn(R, H, generator=g)
    flops = 2 * R * H * 4 * H
    print(f"rows {R}, hidden {H}, {torch.get_num_threads()} threads")

    def current(h=h0.clone(), c=c0.clone()):
        gates = torch.mm(h, w_t).add_(xproj)
        i, f, gg, o = gates.chunk(4, dim=1)
        c.mul_(f.sigmoid_()).addcmul_(i.sigmoid_(), gg.tanh_())
        torch.mul(o.sigmoid_(), torch.tanh(c), out=h)
        return h, c

    perm = torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])
    w_blk, x_blk = w[perm].t().contiguous(), xproj[:, perm].contiguous()

    def sig_block(h=h0.clone(), c=c0.clone()):
        gates = torch.mm(h, w_blk).add_(x_blk)
        s = gates[:, :3 * H].sigmoid_()
        gg = gates[:, 3 * H:].tanh_()
        c.mul_(s[:, H:2 * H]).addcmul_(s[:, :H], gg)
        torch.mul(s[:, 2 * H:], torch.tanh(c), out=h)
        return h, c

    scale = torch.ones(4 * H)
    scale[2 * H:3 * H] = 2.0
    w_sig, x_sig = (w * scale[:, None]).t().contiguous(), xproj * scale

    def all_sigmoid(h=h0.clone(), c=c0.clone()):
        s = torch.mm(h, w_sig).add_(x_sig).sigmoid_()
        i, f, gg, o = s.chunk(4, dim=1)
        gg.mul_(2.0).sub_(1.0)
        c.mul_(f).addcmul_(i, gg)
        torch.mul(o, torch.tanh(c), out=h)
        return h, c

    def sigmoid_only(h=h0.clone(), c=c0.clone()):
        s = torch.mm(h, w_sig).add_(x_sig).sigmoid_()
        i, f, gg, o = s.chunk(4, dim=1)
        gg.mul_(2.0).sub_(1.0)
        c.mul_(f).addcmul_(i, gg)
        torch.mul(c, 2.0, out=h).sigmoid_().mul_(2.0).sub_(1.0).mul_(o)
        return h, c

    buf = torch.empty(R, 4 * H)

    def addmm_out(h=h0.clone(), c=c0.clone()):
        buf.copy_(xproj)
        gates = torch.addmm(buf, h, w_t, out=buf)
        i, f, gg, o = gates.chunk(4, dim=1)
        c.mul_(f.sigmoid_()).addcmul_(i.sigmoid_(), gg.tanh_())
        torch.mul(o.sigmoid_(), torch.tanh(c), out=h)
        return h, c

    pre = torch.mm(h0, w_t)

    def elementwise(h=h0.clone(), c=c0.clone()):
        gates = pre.clone().add_(xproj)
        i, f, gg, o = gates.chunk(4, dim=1)
        c.mul_(f.sigmoid_()).addcmul_(i.sigmoid_(), gg.tanh_())
        torch.mul(o.sigmoid_(), torch.tanh(c), out=h)
        return h, c

    ref_h, ref_c = current(h0.clone(), c0.clone())
    t_mm = timed(lambda: torch.mm(h0, w_t), args.repeat)
    print(f"{'product alone':>12}: {t_mm * 1e6:8.1f} us  {flops / t_mm / 1e9:6.0f} GFLOP/s  (the ceiling)")
    for name, fn in [("current", current), ("sig-block", sig_block), ("all-sigmoid", all_sigmoid),
                     ("sigmoid-only", sigmoid_only),
                     ("addmm-out", addmm_out), ("elementwise", elementwise)]:
        h, c = fn(h0.clone(), c0.clone())
        err = max((h - ref_h).abs().max().item(), (c - ref_c).abs().max().item())
        t = timed(lambda: fn(h0.clone(), c0.clone()), args.repeat)
        share = "" if name == "elementwise" else f"  {t_mm / t:5.0%} of the product's rate"
        print(f"{name:>12}: {t * 1e6:8.1f} us{share}  (largest difference {err:.1e})")


if __name__ == "__main__":
    main()
