// Suggestions that change nothing: the server drops them, and so does the
// client, whatever server it talks to (issue 27, item 13). A ghost text of
// ")" over the ")" already after the cursor shows nothing new, and
// accepting it leaves the line as it was.

/** The text of an inline completion item: a string or a snippet's value. */
export function itemText(insertText: string | { value: string }): string {
  return typeof insertText === 'string' ? insertText : insertText.value;
}

/**
 * dropNoOps keeps the items that change the document: an item whose text
 * is what its range already holds (textAt reads it) is dropped, and so is
 * an empty insertion.
 */
export function dropNoOps<R, T extends { insertText: string | { value: string }; range?: R }>(
  items: T[],
  textAt: (range: R) => string,
): T[] {
  return items.filter((it) => {
    const text = itemText(it.insertText);
    return it.range === undefined ? text !== '' : text !== textAt(it.range);
  });
}
