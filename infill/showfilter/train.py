"""Trains the show/hide filter of dfim's completions (infill/showfilter.go).

A logistic regression over the features infill computes for each suggestion
(infill.ShowFeatureNames; `dfim eval --results` writes them as
show_features), fitted on the suggestions the built-in model makes for tasks
generated from the training corpus (never from the dev or held-out folders
of ../shared/eval/RESERVED.md), and written to weights.json, which the binary
embeds. Reading the features from eval keeps training and the binary in
agreement by construction. Run it as the README of this folder says; it
needs only python3.

    train.py TRAIN_TASKS TRAIN_RESULTS DEV_TASKS DEV_RESULTS [HELD_TASKS HELD_RESULTS]

It prints the weights, ROC AUC, and for a range of thresholds the share of
tasks shown, the precision and the exact matches on dev (and on held-out
code, to confirm, never to choose), with and without the editors' default
confidence gate (0.6) beside the filter.
"""
import json, math, os, sys

NAMES = ['bias', 'confidence', 'mean_confidence', 'log_chars', 'log_tokens', 'multi_line',
         'blank_line', 'mid_line', 'after_open', 'copies_a_line', 'copied_share', 'repetition',
         'type_checked', 'scope_checked', 'python']
MIN_CONFIDENCE = 0.6  # infill.DefaultMinConfidence, the editors' default


def load(tasks_file, res_file):
    """Returns the features, labels (exact match) and task count."""
    n = sum(1 for _ in open(tasks_file))
    X, y = [], []
    for l in open(res_file):
        r = json.loads(l)
        f = r.get('show_features')
        if r['empty'] or not f:
            continue
        if len(f) != len(NAMES):
            sys.exit(f'{res_file}: {len(f)} features, want {len(NAMES)}: rerun dfim eval with this dfim')
        X.append(f)
        y.append(1.0 if r['exact_match'] else 0.0)
    return X, y, n


def fit(X, y, l2=1e-3, iters=4000, lr=0.5):
    # Standardise for the descent, then fold the scaling back into the weights.
    k = len(X[0])
    mu = [sum(x[j] for x in X) / len(X) for j in range(k)]
    sd = [math.sqrt(sum((x[j] - mu[j]) ** 2 for x in X) / len(X)) or 1.0 for j in range(k)]
    mu[0], sd[0] = 0.0, 1.0
    Z = [[(x[j] - mu[j]) / sd[j] for j in range(k)] for x in X]
    w = [0.0] * k
    n = len(Z)
    for _ in range(iters):
        g = [0.0] * k
        for z, t in zip(Z, y):
            s = sum(a * b for a, b in zip(w, z))
            p = 1 / (1 + math.exp(-max(min(s, 30), -30)))
            d = p - t
            for j in range(k):
                g[j] += d * z[j]
        for j in range(k):
            w[j] -= lr * (g[j] / n + (l2 * w[j] if j else 0))
    out = [w[j] / sd[j] for j in range(k)]
    out[0] = w[0] - sum(w[j] * mu[j] / sd[j] for j in range(1, k))
    return out


def score(w, x):
    z = sum(a * b for a, b in zip(w, x))
    return 1 / (1 + math.exp(-max(min(z, 30), -30)))


def auc(ss, y):
    pos = [s for s, t in zip(ss, y) if t]
    neg = [s for s, t in zip(ss, y) if not t]
    if not pos or not neg:
        return float('nan')
    c = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return c / len(pos) / len(neg)


def table(name, w, X, y, n):
    s = [score(w, x) for x in X]
    print(f'{name}: {len(X)} suggestions of {n} tasks, {int(sum(y))} exact; auc {auc(s, y):.3f}, confidence alone {auc([x[1] for x in X], y):.3f}')
    for th in [0.05, 0.1, 0.15, 0.2, 0.22, 0.25, 0.28, 0.3, 0.32, 0.35, 0.4, 0.45, 0.5]:
        row = f'  th {th:.2f}'
        for gate in (0.0, MIN_CONFIDENCE):
            sel = [t for v, t, x in zip(s, y, X) if v >= th and x[1] >= gate]
            row += f' | gate {gate:.1f}: shown {len(sel)/n:.3f} prec {sum(sel)/max(len(sel), 1):.3f} exact {sum(sel)/n:.3f}'
        print(row)


if __name__ == '__main__':
    args = sys.argv[1:]
    X, y, n = load(args[0], args[1])
    w = fit(X, y)
    for name, v in zip(NAMES, w):
        print(f'{name:16s} {v:+.3f}')
    table('train', w, X, y, n)
    table('dev', w, *load(args[2], args[3]))
    if len(args) >= 6:
        table('held-out', w, *load(args[4], args[5]))
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights.json'), 'w') as f:
        json.dump({'names': NAMES, 'weights': [round(v, 4) for v in w]}, f, indent=1)
        f.write('\n')
