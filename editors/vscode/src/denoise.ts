// The model behind "Show Denoising": which dfim/denoiseStep notification is
// the one to draw for each document, and the text to draw. Pure, so the
// ordering rules are tested without VS Code; extension.ts turns a frame into
// a decoration at the frame's position.

import type { DenoiseStepParams } from './protocol';

/** How the server writes a position the model has not decided yet. */
export const Mask = '░';

/** What to draw for one document: the latest step of its latest completion. */
export interface DenoiseFrame {
  uri: string;
  version: number;
  position: { line: number; character: number };
  step: number;
  /** Each hole's text so far, Mask where still masked. */
  holes: string[];
  /** Masked and total positions over all holes. */
  masked: number;
  total: number;
}

function count(text: string): { masked: number; total: number } {
  let masked = 0;
  let total = 0;
  for (const ch of text) {
    total++;
    if (ch === Mask) masked++;
  }
  return { masked, total };
}

/**
 * Keeps the frame to draw per document: the latest step of candidate 0 (the
 * other candidates denoise the same span). Notifications arrive in the order
 * sent, so a later one is newer, except that a completion of an older
 * document version may still be streaming after an edit: its steps are
 * dropped.
 */
export class DenoiseTracker {
  private frames = new Map<string, DenoiseFrame>();

  /** Applies a notification; returns the frame to draw, or undefined when it changes nothing. */
  apply(p: DenoiseStepParams): DenoiseFrame | undefined {
    if (!p || !p.textDocument || typeof p.textDocument.uri !== 'string' || !Array.isArray(p.holes) || !p.position) return undefined;
    if ((p.candidate ?? 0) !== 0) return undefined;
    const uri = p.textDocument.uri;
    const prev = this.frames.get(uri);
    if (prev && p.textDocument.version < prev.version) return undefined;
    let masked = 0;
    let total = 0;
    for (const h of p.holes) {
      const c = count(typeof h === 'string' ? h : '');
      masked += c.masked;
      total += c.total;
    }
    const frame: DenoiseFrame = {
      uri,
      version: p.textDocument.version,
      position: { line: p.position.line, character: p.position.character },
      step: p.step,
      holes: p.holes.map((h) => (typeof h === 'string' ? h : '')),
      masked,
      total,
    };
    this.frames.set(uri, frame);
    return frame;
  }

  frame(uri: string): DenoiseFrame | undefined {
    return this.frames.get(uri);
  }

  /** Forgets a document's frame (the completion ended or the document closed). */
  clear(uri: string): void {
    this.frames.delete(uri);
  }
}

/** Share of positions decided, 0 to 1 (1 for an empty hole). */
export function resolved(f: DenoiseFrame): number {
  return f.total === 0 ? 1 : (f.total - f.masked) / f.total;
}

/**
 * The first hole as one line of decoration text: a decoration cannot span
 * lines, so line breaks show as "⏎" and tabs as two spaces; longer text is
 * cut at maxChars (in code points) with "…".
 */
export function decorationText(f: DenoiseFrame, maxChars = 120): string {
  const text = (f.holes[0] ?? '').replace(/\r?\n/g, '⏎').replace(/\t/g, '  ');
  const chars = [...text];
  return chars.length > maxChars ? chars.slice(0, maxChars - 1).join('') + '…' : text;
}

/** A short line for the status bar and hover: "step 3 · 12/40 masked". */
export function stepSummary(f: DenoiseFrame): string {
  const holes = f.holes.length > 1 ? ` · ${f.holes.length} holes` : '';
  return `step ${f.step + 1} · ${f.masked}/${f.total} masked${holes}`;
}
