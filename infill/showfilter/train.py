"""Trains the show/hide filter of dfim's completions (infill/showfilter.go).

A logistic regression over features of a suggestion and its place, fitted on
the suggestions the built-in model makes for tasks generated from the
training corpus (never from the dev or held-out folders of
../shared/eval/RESERVED.md), and written to weights.json, which the binary
embeds. Run it as the README of this folder says; it needs only python3.
"""
import json, math, os, re, sys
WORD = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')

def features(lang, prefix, suffix, sugg, conf):
    s = sugg.strip()
    ls = prefix[prefix.rfind('\n')+1:]
    rest = suffix.split('\n', 1)[0]
    blank = ls.strip() == '' and rest.strip() == ''
    mid = rest.strip() != ''
    after_dot = ls.rstrip().endswith(('.', '('))
    lines = s.count('\n') + 1
    doclines = set(l.strip() for l in (prefix[-3000:] + '\n' + suffix[:1500]).split('\n') if len(l.strip()) >= 4)
    first = s.split('\n', 1)[0].strip()
    copy = 1.0 if first in doclines else 0.0
    near = prefix[-600:] + suffix[:300]
    ids = WORD.findall(s)
    known = set(WORD.findall(near))
    overlap = sum(1 for w in ids if w in known) / len(ids) if ids else 1.0
    return [1.0, conf, math.log1p(len(s)), float(lines > 1), float(blank), float(mid), copy, float(lang == 'python')]

NAMES = ['bias', 'confidence', 'log_chars', 'multi_line', 'blank_line', 'mid_line', 'copies_a_line', 'python']

def load(tasks_file, res_file):
    tasks = {}
    for l in open(tasks_file):
        t = json.loads(l); tasks[t['id']] = t
    X, y = [], []
    for l in open(res_file):
        r = json.loads(l)
        if r['empty']: continue
        t = tasks[r['id']]
        X.append(features(t['lang'], t['prefix'], t['suffix'], r['suggestion'], r['confidence']))
        y.append(1.0 if r['exact_match'] else 0.0)
    return X, y

def fit(X, y, l2=1e-2, iters=3000, lr=0.5):
    w = [0.0] * len(X[0])
    n = len(X)
    for it in range(iters):
        g = [0.0] * len(w)
        for x, t in zip(X, y):
            z = sum(a*b for a, b in zip(w, x))
            p = 1/(1+math.exp(-max(min(z, 30), -30)))
            for j in range(len(w)): g[j] += (p - t) * x[j]
        for j in range(len(w)):
            w[j] -= lr * (g[j]/n + (l2*w[j] if j else 0))
    return w

def score(w, x):
    z = sum(a*b for a, b in zip(w, x)); return 1/(1+math.exp(-z))

def auc(ss, y):
    pos = [s for s, t in zip(ss, y) if t]; neg = [s for s, t in zip(ss, y) if not t]
    if not pos or not neg: return float('nan')
    c = sum((p > q) + 0.5*(p == q) for p in pos for q in neg)
    return c/len(pos)/len(neg)

if __name__ == '__main__':
    # train.py TRAIN_TASKS TRAIN_RESULTS DEV_TASKS DEV_RESULTS
    train_tasks, train_res, dev_tasks, dev_res = sys.argv[1:5]
    X, y = load(train_tasks, train_res)
    print('train', len(X), 'pos', sum(y))
    w = fit(X, y)
    for n, v in zip(NAMES, w): print(f'{n:16s} {v:+.3f}')
    print('train auc', auc([score(w, x) for x in X], y), 'conf auc', auc([x[1] for x in X], y))
    Xd, yd = load(dev_tasks, dev_res)
    sd = [score(w, x) for x in Xd]
    print('dev', len(Xd), 'pos', sum(yd), 'auc', auc(sd, yd), 'conf auc', auc([x[1] for x in Xd], yd))
    N = sum(1 for _ in open(dev_tasks))
    for th in [0.05, 0.08, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.17, 0.2]:
        sel = [t for s, t in zip(sd, yd) if s >= th]
        print(f'th {th:.2f} shown {len(sel)/N:.3f} prec {sum(sel)/max(len(sel),1):.3f} exact {sum(sel)/N:.3f}')
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights.json'), 'w') as f:
        json.dump({'names': NAMES, 'weights': [round(v, 4) for v in w]}, f, indent=1)
        f.write('\n')
