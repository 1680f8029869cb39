-- End-to-end check of `dfim serve` with Neovim's built-in LSP client
-- (0.7+: vim.lsp.start_client and buf_attach_client). Run headless:
--   DFIM_BIN=... DFIM_ARGS="--engine x" DFIM_FILE=main.go DFIM_OUT=out.json \
--     nvim --headless -u NONE -i NONE -c "luafile nvim.lua"
-- Writes a JSON report to DFIM_OUT and exits 0 on success, 1 on failure.
local harness = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/harness.lua')

harness.run({ debounceMs = 0 }, function(buf, id)
  -- Type a new line in the body (incremental didChange), then ask for
  -- completions after its dot: the file calls fmt.Println further down,
  -- which the built-in model's copy expert finds.
  vim.api.nvim_buf_set_lines(buf, 7, 7, false, { '\tfmt.' })
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 7, character = 5 } }
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/completion', params, 90000)
  assert(res and res[id], 'no completion response')
  assert(not res[id].err, 'completion error: ' .. vim.inspect(res[id].err))
  local items = res[id].result and res[id].result.items or {}
  assert(#items > 0, 'no completion items')
  for _, it in ipairs(items) do
    assert(it.textEdit and it.textEdit.range.start.line == 7, 'item without a textEdit on the cursor line: ' .. vim.inspect(it))
  end

  -- A typing storm on a comment line at the end: every keystroke's request
  -- is cancelled by the next; then quiet requests must all work and the
  -- server must count no request failed inside it (cancelled parses once
  -- left every later completion failing).
  -- The document grows to a few KB first: the parser checks its
  -- cancellation flag only every 100 parse actions.
  local client = vim.lsp.get_client_by_id(id)
  local more = {}
  for f = 1, 60 do
    vim.list_extend(more, { '', ('func f%d(x int) int {'):format(f), ('\tif x > %d {'):format(f), '\t\treturn x + 1', '\t}', '\treturn 0', '}' })
  end
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, more)
  local last = vim.api.nvim_buf_line_count(buf)
  vim.api.nvim_buf_set_lines(buf, last, last, false, { '// typed: ' })
  local storm = { sent = 0, answered = 0 }
  for i = 1, 150 do
    local line = vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
    vim.api.nvim_buf_set_text(buf, last, #line, last, #line, { 'a' })
    local sent, rid = client.request('textDocument/completion',
      { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = last, character = #line + 1 } },
      function() storm.answered = storm.answered + 1 end, buf)
    assert(sent, 'storm request not sent')
    storm.sent = storm.sent + 1
    vim.wait(i % 5, function() return false end)
    client.cancel_request(rid)
  end
  local line = vim.api.nvim_buf_get_lines(buf, last, last + 1, false)[1]
  for q = 1, 5 do
    local r = vim.lsp.buf_request_sync(buf, 'textDocument/completion',
      { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = last, character = #line } }, 90000)
    assert(r and r[id] and not r[id].err, 'quiet request ' .. q .. ' after the storm: ' .. vim.inspect(r))
  end
  local st = vim.lsp.buf_request_sync(buf, 'dfim/stats', {}, 10000)
  assert(st and st[id] and st[id].result, 'no dfim/stats answer: ' .. vim.inspect(st))
  storm.failed = st[id].result.failed
  assert(storm.failed == 0, storm.failed .. ' requests failed inside the server; last: ' .. tostring(st[id].result.lastFailure))

  return { items = #items, first = items[1].textEdit.newText, storm = storm }
end)
