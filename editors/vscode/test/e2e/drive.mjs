// Drives code-server (started by run.sh, dfim.vsix installed) through
// headless Chromium with puppeteer-core, as a user would, and checks what
// the page shows. Each step saves a screenshot; a failure saves one more
// and exits 1. With --fake 1 the server runs the e2efake engine, which
// fills every hole with "e2e_fill()" ("name)" after "("), so the exact
// text is checked; with the built-in model only the shape is.

import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    chromium: { type: 'string' },
    puppeteer: { type: 'string' },
    shots: { type: 'string' },
    logs: { type: 'string' },
    project: { type: 'string' },
    fake: { type: 'string', default: '0' },
  },
});
const fake = opt.fake === '1';
const puppeteer = createRequire(import.meta.url)(opt.puppeteer);
const answerMs = fake ? 30_000 : 120_000;
const began = Date.now();

function log(msg) {
  console.log(`vscode e2e: ${((Date.now() - began) / 1000).toFixed(1)}s ${msg}`);
}

async function until(what, probe, ms = answerMs, every = 50) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(every);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Records, from the first paint on, every text of dfim's status bar item
// and every notification shown, so a toast that comes and goes between two
// probes is still seen.
function recorder() {
  const seen = { status: [], notes: [], frames: [] };
  window.__dfim = seen;
  const dfimItem = () =>
    [...document.querySelectorAll('.statusbar-item')].find((e) => /(^|\s)dfim(\s|$)/.test(e.textContent ?? ''));
  const scan = () => {
    const item = dfimItem();
    if (item) {
      const icon = item.querySelector('.codicon');
      const cls = icon ? [...icon.classList].find((c) => c.startsWith('codicon-') && c !== 'codicon-modifier-spin') : '';
      const text = `${cls ? `$(${cls.slice(8)}) ` : ''}${item.textContent.trim()}`;
      const last = seen.status[seen.status.length - 1];
      if (!last || last.text !== text) seen.status.push({ text, at: Date.now() });
    }
    // Show Denoising's frame: an extension decoration's ::after text.
    const frame = [...document.querySelectorAll('.monaco-editor .view-lines [class*="TextEditorDecorationType"]')]
      .map((e) => getComputedStyle(e, '::after').content)
      .filter((c) => c && c !== 'none' && c !== 'normal')
      .join(' ');
    const lastFrame = seen.frames[seen.frames.length - 1];
    if ((lastFrame?.text ?? '') !== frame) seen.frames.push({ text: frame, at: Date.now() });
    for (const n of document.querySelectorAll('.notification-list-item')) {
      const msg = n.querySelector('.notification-list-item-message')?.textContent ?? '';
      const sev = n.querySelector('.codicon-error') ? 'error' : n.querySelector('.codicon-warning') ? 'warning' : 'info';
      if (!seen.notes.some((x) => x.msg === msg && x.sev === sev)) seen.notes.push({ msg, sev, at: Date.now() });
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
}

const browser = await puppeteer.launch({
  executablePath: opt.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,900'],
  defaultViewport: { width: 1400, height: 900 },
});
const page = await browser.newPage();
let shot = 0;
async function screenshot(name) {
  const file = path.join(opt.shots, `${String(++shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const status = () => page.evaluate(() => window.__dfim?.status.at(-1)?.text ?? '');
const notes = () => page.evaluate(() => window.__dfim?.notes ?? []);
const errorNotes = async () => (await notes()).filter((n) => n.sev === 'error');
// Ghost text: the inline part (spans, one per token) and the lines below
// it (a view zone of whole lines).
const ghost = () =>
  page.evaluate(() => {
    const text = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
    const inline = text('.monaco-editor .view-lines .ghost-text-decoration, .monaco-editor .view-lines .ghost-text-decoration-preview').join('');
    const below = text('.monaco-editor .ghost-text .view-line');
    return [inline, ...below].join('\n').replace(/\u00a0/g, ' ');
  });
const suggestWidget = () => page.evaluate(() => !!document.querySelector('.monaco-editor .suggest-widget.visible'));

async function noErrors(when) {
  const errs = await errorNotes();
  check(errs.length === 0, `error notification ${when}: ${errs.map((e) => e.msg).join(' | ')}`);
}

async function key(k, mods = []) {
  for (const m of mods) await page.keyboard.down(m);
  await page.keyboard.press(k);
  for (const m of [...mods].reverse()) await page.keyboard.up(m);
}

async function runCommand(title) {
  await key('F1');
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { visible: true });
  await page.keyboard.type(title, { delay: 10 });
  await until(`"${title}" in the command palette`, () =>
    page.evaluate((t) => [...document.querySelectorAll('.quick-input-list .monaco-list-row')].some((r) => r.textContent.includes(t)), title),
  );
  await key('Enter');
}

async function openFile(name) {
  await key('p', ['Control']);
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { visible: true });
  await page.keyboard.type(name, { delay: 10 });
  await until(`${name} in Quick Open`, () =>
    page.evaluate((n) => [...document.querySelectorAll('.quick-input-list .monaco-list-row')].some((r) => r.textContent.includes(n)), name),
  );
  await key('Enter');
  await until(`${name} open`, () =>
    page.evaluate((n) => !!document.querySelector(`.tabs-container .tab.active[aria-label^="${n}"]`), name),
  );
  await page.waitForSelector('.monaco-editor.focused', { visible: true });
}

async function goToLine(n) {
  await key('g', ['Control']);
  await page.waitForSelector('.quick-input-widget .quick-input-box input', { visible: true });
  await page.keyboard.type(String(n));
  await key('Enter');
  await page.waitForSelector('.monaco-editor.focused');
}

async function save(file) {
  const before = fs.statSync(file).mtimeMs;
  await key('s', ['Control']);
  await until(`${path.basename(file)} saved`, () => fs.statSync(file).mtimeMs !== before, 10_000);
  return fs.readFileSync(file, 'utf8');
}

async function ghostShown(what, ms = answerMs) {
  return until(what, async () => (await ghost()).trim(), ms);
}

const now = () => page.evaluate(() => Date.now());

// ghostOrAnswered waits for the ghost text of a request made after from.
// With e2efake one must come; the built-in model may have nothing worth
// showing (a fill must compile where it lands), and then the request must
// still be answered (the status bar's latency) and the ghost text stay
// empty: what a user of the built-in model sees.
async function ghostOrAnswered(what, from) {
  if (fake) return ghostShown(what);
  const answered = () => page.evaluate((t) => window.__dfim.status.some((s) => s.at >= t && / \d+ ms$/.test(s.text)), from);
  await until(what, async () => (await ghost()).trim() !== '' || (await answered()));
  await sleep(500);
  const g = (await ghost()).trim();
  if (g === '') log(`${what}: answered, nothing worth showing from the built-in model`);
  return g;
}

const steps = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    steps.push(`${name} (${Date.now() - t0} ms)`);
    log(`ok: ${name}`);
  } catch (e) {
    log(`FAIL: ${name}: ${e.message}`);
    await screenshot('failure').catch(() => {});
    log(`status bar history: ${JSON.stringify((await page.evaluate(() => window.__dfim).catch(() => null)) ?? {})}`);
    await browser.close();
    process.exit(1);
  }
}

const mainGo = path.join(opt.project, 'main.go');
const holesGo = path.join(opt.project, 'holes.go');

await page.evaluateOnNewDocument(recorder);
await until('code-server answering', async () => (await fetch(opt.url).catch(() => ({ ok: false }))).ok, 60_000, 250);

await step('code-server loads and the dfim status bar item says ready', async () => {
  await page.goto(opt.url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  // The binary is only in ~/go/bin: found without dfim.path.
  await until('status bar ready', async () => /^\$\(sparkle\) dfim (e2efake|native) · built-in/.test(await status()), 90_000);
  await noErrors('at start');
  await screenshot('ready');
});

await step('an empty line of a function body: Tab, ghost text', async () => {
  await openFile('main.go');
  await goToLine(7);
  await sleep(500);
  let from = await now();
  await key('Tab');
  let g = await (fake ? ghostShown('ghost text after Tab', 15_000) : ghostOrAnswered('ghost text or an answer after Tab', from)).catch(() => '');
  if (g === '' && fake) {
    // Seen once on a loaded machine: the first request of a freshly opened
    // editor was dropped by VS Code. Once more, then it counts.
    log('no ghost text after the first Tab; Backspace and Tab again');
    await key('Backspace');
    from = await now();
    await key('Tab');
    g = await ghostShown('ghost text after Tab');
  }
  if (fake) check(g.includes('e2e_fill()'), `ghost text ${JSON.stringify(g)}, want e2e_fill()`);
  await screenshot('ghost-after-tab');
});

await step('typing keeps a ghost text, and the suggestion widget does not cover it', async () => {
  await page.keyboard.type('v := ', { delay: 60 });
  if (fake) {
    const g = await ghostShown('ghost text after typing');
    check(g.includes('e2e_fill()'), `ghost text ${JSON.stringify(g)}, want e2e_fill()`);
  } else if ((await ghostShown('ghost text after typing', 20_000).catch(() => '')) === '') {
    // The built-in model may fill nothing here; Alt+\ below must show one.
    log('the built-in model offered no ghost text after typing');
  }
  // editor.inlineSuggest.suppressSuggestions and editor.wordBasedSuggestions
  // "off" (the extension's defaults for Go).
  await sleep(300);
  check(!(await suggestWidget()), 'the suggestion widget is open over the ghost text');
  await screenshot('ghost-after-typing');
});

await step('Escape hides it; Alt+\\ asks for one', async () => {
  await key('Escape');
  await until('ghost text hidden', async () => (await ghost()).trim() === '', 5_000);
  await sleep(1500);
  check((await ghost()).trim() === '', 'a ghost text came back without being asked for');
  const from = await now();
  await key('\\', ['Alt']);
  const g = await ghostOrAnswered('ghost text after Alt+\\', from);
  if (fake) check(g.includes('e2e_fill()'), `ghost text ${JSON.stringify(g)}, want e2e_fill()`);
  await screenshot('alt-backslash');
});

await step('Tab accepts the ghost text', async () => {
  const g = (await ghost()).trim();
  if (!fake && g === '') {
    log('the built-in model offered nothing here to accept');
    await noErrors('with nothing to accept');
    return;
  }
  await key('Tab');
  await until('ghost text gone after accepting', async () => (await ghost()).trim() === '', 5_000);
  const text = await save(mainGo);
  const line = text.split('\n')[6];
  check(line.startsWith('\tv := ') && line.length > '\tv := '.length, `line 7 is ${JSON.stringify(line)} after accepting ${JSON.stringify(g)}`);
  if (fake) check(line === '\tv := e2e_fill()', `line 7 is ${JSON.stringify(line)}, want "\\tv := e2e_fill()"`);
  await noErrors('after accepting');
  await screenshot('accepted');
});

await step('Show Denoising: the steps in the status bar, then the last one becomes the ghost text', async () => {
  await runCommand('dfim: Show Denoising');
  await until('Show Denoising notification', async () => (await notes()).some((n) => /showing each denoising step/.test(n.msg)), 10_000);
  await key('End');
  await key('Enter');
  await page.keyboard.type('w := ', { delay: 30 });
  await key('Escape');
  const from = await page.evaluate(() => Date.now());
  await key('\\', ['Alt']);
  await ghostOrAnswered('ghost text with Show Denoising', from);
  // Well within the old 1.5 s linger: the frame must have given way.
  await sleep(400);
  const seen = await page.evaluate(() => window.__dfim);
  const frames = seen.frames.filter((f) => f.at >= from);
  const history = seen.status.filter((f) => f.at >= from);
  log(`denoising frames drawn: ${JSON.stringify(frames.map((f) => f.text))}; status: ${JSON.stringify(history.map((f) => f.text))}`);
  const drawn = frames.some((f) => f.text !== '') || history.some((f) => /masked/.test(f.text));
  // e2efake's two steps and its answer may come within one frame of the
  // page; the built-in model's may too on an idle machine (46 ms), or it may
  // settle the line in its first step. That the steps reach the page is
  // checked in test/extension.test.ts ('Show Denoising …', which asserts the
  // step decorations); here it is only reported.
  if (!drawn) log('the steps and the answer came within one paint: no step seen');
  check((seen.frames.at(-1)?.text ?? '') === '', `the last denoising frame lingers next to the ghost text: ${seen.frames.at(-1)?.text}`);
  check(!/masked/.test(await status()), `the status bar still counts denoising steps: ${await status()}`);
  await screenshot('denoising-ghost');
  await key('Escape');
  await runCommand('dfim: Show Denoising'); // off again
  await noErrors('after Show Denoising');
});

await step('Fill Holes in File rewrites the <<fill>> marker', async () => {
  await key('Escape');
  await openFile('holes.go');
  await runCommand('dfim: Fill Holes in File');
  if (fake) {
    await until('the marker filled', async () => (await page.evaluate(() => document.querySelector('.monaco-editor.focused .view-lines')?.textContent ?? '')).includes('e2e_fill()'));
    const text = await save(holesGo);
    check(text.includes('\te2e_fill()\n') && !text.includes('<<fill>>'), `holes.go after Fill Holes:\n${text}`);
  } else {
    await until('the marker filled or an explanation', async () => {
      const t = await page.evaluate(() => document.querySelector('.monaco-editor.focused .view-lines')?.textContent ?? '');
      return !t.includes('<<fill>>') || (await notes()).some((n) => /fill/i.test(n.msg) && n.sev !== 'error');
    });
  }
  await noErrors('after Fill Holes');
  await screenshot('fill-holes');
});

await step('the dfim output channel has the server log with its levels, no [error]', async () => {
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/dfim/i.test(e.name) && e.name.endsWith('.log')) files.push(p);
    }
  };
  walk(opt.logs);
  check(files.length > 0, `no dfim log under ${opt.logs}`);
  const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  check(/\[info\][^\n]*initialize/.test(text), `no [info] initialize line in the dfim output:\n${text.slice(-2000)}`);
  const errors = text.split('\n').filter((l) => /\[error\]/.test(l));
  check(errors.length === 0, `[error] lines in the dfim output:\n${errors.join('\n')}`);
});

log(`all ${steps.length} steps passed; notifications: ${JSON.stringify((await notes()).map((n) => `${n.sev}: ${n.msg}`))}`);
await browser.close();
