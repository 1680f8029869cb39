// The messages the extension exchanges with `dfim serve` beyond what
// vscode-languageclient handles by itself (inline completions go through its
// InlineCompletionItemFeature): dfim's commands and its dfim/denoiseStep
// notification. No `vscode` import, so Node tests drive it over a plain
// vscode-jsonrpc connection to the real server.

import {
  ErrorCodes,
  ExecuteCommandRequest,
  NotificationType,
  ResponseError,
  type Position,
  type Range,
} from 'vscode-languageserver-protocol';

/** Commands the server runs through workspace/executeCommand; it answers with workspace/applyEdit. */
export const FillHolesCommand = 'dfim.fillHoles';
export const FillSelectionCommand = 'dfim.fillSelection';

/** Params of dfim/denoiseStep (lsp/complete.go denoiseStepParams). */
export interface DenoiseStepParams {
  textDocument: { uri: string; version: number };
  /** Where the completion was asked for: the first hole starts here. */
  position: Position;
  candidate: number;
  step: number;
  /** Each hole's text so far; positions still masked are "░". */
  holes: string[];
}

export const DenoiseStepNotification = new NotificationType<DenoiseStepParams>('dfim/denoiseStep');

/** The slice of a connection (MessageConnection or LanguageClient) the helpers use. */
export interface RequestSender {
  sendRequest<R>(method: string, params: unknown): Promise<R>;
}

/**
 * Runs one of dfim's commands. The server applies the edit itself with
 * workspace/applyEdit before it answers; a server too old to know the
 * command answers MethodNotFound, which becomes an error saying what to do.
 */
export async function runDfimCommand(conn: RequestSender, command: string, args: unknown[]): Promise<unknown> {
  try {
    return await conn.sendRequest(ExecuteCommandRequest.method, { command, arguments: args });
  } catch (e) {
    if (e instanceof ResponseError && e.code === ErrorCodes.MethodNotFound) {
      throw new Error(`this dfim server does not run ${command}: update dfim (or set dfim.path to a newer binary)`);
    }
    throw e;
  }
}

export function fillHolesArgs(uri: string): unknown[] {
  return [{ uri }];
}

export function fillSelectionArgs(uri: string, range: Range): unknown[] {
  return [{ uri, range }];
}

/** Whether a failed request was just cancelled (by a newer keystroke), which is not worth showing. */
export function isCancellation(e: unknown): boolean {
  return e instanceof ResponseError && (e.code === -32800 /* RequestCancelled */ || e.code === -32802 /* ServerCancelled */);
}
