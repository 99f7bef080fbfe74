#!/usr/bin/env python3
"""Golden figures from PyTorch for darknet-nn's parity tests (tests/torch_parity.rs).

What it writes: darknet-nn/tests/golden/torch_golden.json, one object per case, every
tensor as nested lists of float64 values (torch.float64 throughout, so the Rust f64 layers
are compared at ~1e-10 and the f32 layers at ~1e-5). Inputs and weights are fixed
closed-form values (sines and cosines of their indices), not random draws, so the file
does not depend on torch's random generator.

Cases:
  linear            nn.Linear(3, 2): forward, input and parameter gradients
  batch_norm        nn.BatchNorm1d(3), non-default affine: two training steps (outputs,
                    gradients of the first, running statistics after each step), then an
                    evaluation-mode forward and backward
  gru_cell          nn.GRUCell(3, 4): one step forward and backward (r, z, n layout)
  gru               nn.GRU(3, 4), 4 steps, batch 2, explicit h0: outputs, h_n, gradients
                    through time of a loss on every output plus the final state
  bce_with_logits   nn.BCEWithLogitsLoss(pos_weight=...) (mean), logits up to +-40
  nll_log_softmax   nn.LogSoftmax(dim=1) then nn.NLLLoss() (mean)
  adam              torch.optim.Adam(lr=0.01, weight_decay=0.1), three steps with given
                    gradients on a (2, 3) matrix and a (3,) vector

How to regenerate (needs Python 3 and torch; CPU is enough):

    pip install torch        # the tests were produced with the version in "torch_version"
    python3 darknet-nn/tests/golden/make_torch_golden.py

then run `cargo test -p darknet-nn --test torch_parity`. The JSON file is committed, so the
tests run without Python.
"""

import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)


def fill(shape, a, b=0.0, f=math.sin):
    """A tensor of `shape` whose flat element k is f(a * k + b)."""
    n = 1
    for s in shape:
        n *= s
    return torch.tensor([f(a * k + b) for k in range(n)]).reshape(shape)


def t(x):
    return x.detach().tolist()


def linear():
    lin = torch.nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.copy_(fill((2, 3), 0.7, 0.1))
        lin.bias.copy_(fill((2,), 1.3, 0.5))
    x = fill((4, 3), 0.9, 0.3, math.cos).requires_grad_(True)
    g = fill((4, 2), 1.1, 0.2)
    y = lin(x)
    y.backward(g)
    return {
        "weight": t(lin.weight), "bias": t(lin.bias), "x": t(x), "d_out": t(g),
        "y": t(y), "dx": t(x.grad), "d_weight": t(lin.weight.grad), "d_bias": t(lin.bias.grad),
    }


def batch_norm():
    bn = torch.nn.BatchNorm1d(3)  # momentum 0.1, eps 1e-5
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        bn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    bn.train()
    steps = []
    for s in range(2):
        x = (fill((5, 3), 1.3, 0.4 * s) * (1.0 + s) + 0.2 * s).requires_grad_(True)
        g = fill((5, 3), 0.8, 1.0 + s, math.cos)
        bn.zero_grad()
        y = bn(x)
        y.backward(g)
        steps.append({
            "x": t(x), "d_out": t(g), "y": t(y), "dx": t(x.grad),
            "d_weight": t(bn.weight.grad), "d_bias": t(bn.bias.grad),
            "running_mean": t(bn.running_mean), "running_var": t(bn.running_var),
            "num_batches_tracked": int(bn.num_batches_tracked),
        })
    bn.eval()
    bn.zero_grad()
    x = fill((4, 3), 0.6, 0.9).requires_grad_(True)
    g = fill((4, 3), 0.5, 0.1, math.cos)
    y = bn(x)
    y.backward(g)
    return {
        "weight": t(bn.weight), "bias": t(bn.bias), "train": steps,
        "eval": {"x": t(x), "d_out": t(g), "y": t(y), "dx": t(x.grad),
                 "d_weight": t(bn.weight.grad), "d_bias": t(bn.bias.grad)},
    }


def gru_params(mod, suffix):
    return {
        "weight_ih": t(getattr(mod, "weight_ih" + suffix)),
        "weight_hh": t(getattr(mod, "weight_hh" + suffix)),
        "bias_ih": t(getattr(mod, "bias_ih" + suffix)),
        "bias_hh": t(getattr(mod, "bias_hh" + suffix)),
    }


def gru_grads(mod, suffix):
    return {
        "d_weight_ih": t(getattr(mod, "weight_ih" + suffix).grad),
        "d_weight_hh": t(getattr(mod, "weight_hh" + suffix).grad),
        "d_bias_ih": t(getattr(mod, "bias_ih" + suffix).grad),
        "d_bias_hh": t(getattr(mod, "bias_hh" + suffix).grad),
    }


def set_gru(mod, suffix, inp, hid):
    with torch.no_grad():
        getattr(mod, "weight_ih" + suffix).copy_(fill((3 * hid, inp), 0.37, 0.1) * 0.6)
        getattr(mod, "weight_hh" + suffix).copy_(fill((3 * hid, hid), 0.53, 0.7, math.cos) * 0.6)
        getattr(mod, "bias_ih" + suffix).copy_(fill((3 * hid,), 0.91, 0.2) * 0.3)
        getattr(mod, "bias_hh" + suffix).copy_(fill((3 * hid,), 0.29, 1.1, math.cos) * 0.3)


def gru_cell():
    cell = torch.nn.GRUCell(3, 4)
    set_gru(cell, "", 3, 4)
    x = fill((5, 3), 0.77, 0.3).requires_grad_(True)
    h = (fill((5, 4), 0.41, 0.9, math.cos) * 0.8).requires_grad_(True)
    g = fill((5, 4), 1.7, 0.05)
    h_new = cell(x, h)
    h_new.backward(g)
    out = {"x": t(x), "h": t(h), "d_out": t(g), "h_new": t(h_new),
           "dx": t(x.grad), "dh": t(h.grad)}
    out.update(gru_params(cell, ""))
    out.update(gru_grads(cell, ""))
    return out


def gru():
    steps, batch, inp, hid = 4, 2, 3, 4
    mod = torch.nn.GRU(inp, hid)  # sequence first: (steps, batch, features)
    set_gru(mod, "_l0", inp, hid)
    xs = fill((steps, batch, inp), 0.63, 0.2).requires_grad_(True)
    h0 = (fill((1, batch, hid), 0.81, 0.4, math.cos) * 0.5).requires_grad_(True)
    g_out = fill((steps, batch, hid), 1.3, 0.6)
    g_last = fill((batch, hid), 0.45, 0.3, math.cos)
    out, h_n = mod(xs, h0)
    loss = (out * g_out).sum() + (h_n[0] * g_last).sum()
    loss.backward()
    res = {"xs": t(xs), "h0": t(h0[0]), "d_outputs": t(g_out), "d_h_last": t(g_last),
           "outputs": t(out), "h_n": t(h_n[0]), "dxs": t(xs.grad), "dh0": t(h0.grad[0])}
    res.update(gru_params(mod, "_l0"))
    res.update(gru_grads(mod, "_l0"))
    return res


def bce():
    logits = (fill((4, 3), 1.9, 0.3) * 6.0)
    with torch.no_grad():
        logits[0, 0] = 40.0
        logits[1, 1] = -40.0
        logits[2, 2] = 0.0
    logits.requires_grad_(True)
    targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.25], [1.0, 1.0, 0.0], [0.0, 0.5, 1.0]])
    pos_weight = torch.tensor([2.0, 0.5, 3.0])
    res = {"logits": t(logits), "targets": t(targets), "pos_weight": t(pos_weight)}
    for name, pw in (("weighted", pos_weight), ("plain", None)):
        if logits.grad is not None:
            logits.grad = None
        loss = torch.nn.BCEWithLogitsLoss(pos_weight=pw)(logits, targets)
        loss.backward()
        res[name] = {"loss": loss.item(), "grad": t(logits.grad)}
    return res


def nll_log_softmax():
    z = (fill((5, 4), 1.37, 0.2) * 3.0).requires_grad_(True)
    targets = [0, 3, 1, 1, 2]
    lp = torch.nn.LogSoftmax(dim=1)(z)
    lp.retain_grad()
    loss = torch.nn.NLLLoss()(lp, torch.tensor(targets))
    loss.backward()
    return {"logits": t(z), "targets": targets, "log_probs": t(lp), "loss": loss.item(),
            "d_log_probs": t(lp.grad), "d_logits": t(z.grad)}


def adam():
    w = fill((2, 3), 0.5, 0.1).requires_grad_(True)
    b = fill((3,), 0.8, 0.4, math.cos).requires_grad_(True)
    opt = torch.optim.Adam([w, b], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    res = {"lr": 0.01, "weight_decay": 0.1, "w0": t(w), "b0": t(b), "steps": []}
    for s in range(3):
        gw = fill((2, 3), 1.1, 0.3 * s, math.cos) * (0.5 + s)
        gb = fill((3,), 0.7, 0.2 * s) * (1.0 - 0.3 * s)
        opt.zero_grad()
        w.grad = gw.clone()
        b.grad = gb.clone()
        opt.step()
        res["steps"].append({"grad_w": t(gw), "grad_b": t(gb), "w": t(w), "b": t(b)})
    return res


def main():
    out = {
        "torch_version": torch.__version__,
        "linear": linear(),
        "batch_norm": batch_norm(),
        "gru_cell": gru_cell(),
        "gru": gru(),
        "bce_with_logits": bce(),
        "nll_log_softmax": nll_log_softmax(),
        "adam": adam(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path, "with torch", torch.__version__)


if __name__ == "__main__":
    main()
