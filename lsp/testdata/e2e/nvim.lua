-- End-to-end check of `dfim serve` with Neovim's built-in LSP client
-- (0.7+: vim.lsp.start_client and buf_attach_client). Run headless:
--   DFIM_BIN=... DFIM_ARGS="--engine x" DFIM_FILE=main.go DFIM_OUT=out.json \
--     nvim --headless -u NONE -i NONE -c "luafile nvim.lua"
-- Writes a JSON report to DFIM_OUT and exits 0 on success, 1 on failure.
local out = os.getenv('DFIM_OUT')

local function finish(report)
  local f = assert(io.open(out, 'w'))
  f:write(vim.fn.json_encode(report))
  f:close()
  vim.cmd(report.ok and 'qall!' or 'cquit! 1')
end

local ok, err = pcall(function()
  local cmd = { os.getenv('DFIM_BIN'), 'serve' }
  for a in string.gmatch(os.getenv('DFIM_ARGS') or '', '%S+') do
    table.insert(cmd, a)
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('DFIM_FILE')))
  vim.bo.filetype = 'go'
  local buf = vim.api.nvim_get_current_buf()
  local ready, exit_code = false, nil
  local id = vim.lsp.start_client({
    name = 'dfim',
    cmd = cmd,
    root_dir = vim.fn.getcwd(),
    flags = { debounce_text_changes = 0 }, -- send each edit at once
    on_init = function() ready = true end,
    on_exit = function(code) exit_code = code end,
  })
  assert(id, 'start_client failed')
  assert(vim.lsp.buf_attach_client(buf, id), 'buf_attach_client failed')
  assert(vim.wait(60000, function() return ready end, 20), 'server did not initialize in 60s')

  -- Open a new line in the body (incremental didChange), then ask for
  -- completions on it, where a block of statements fits.
  vim.api.nvim_buf_set_lines(buf, 7, 7, false, { '\t' })
  local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 7, character = 1 } }
  local res = vim.lsp.buf_request_sync(buf, 'textDocument/completion', params, 90000)
  assert(res and res[id], 'no completion response')
  assert(not res[id].err, 'completion error: ' .. vim.inspect(res[id].err))
  local items = res[id].result and res[id].result.items or {}
  assert(#items > 0, 'no completion items')
  for _, it in ipairs(items) do
    assert(it.textEdit and it.textEdit.range.start.line == 7, 'item without a textEdit on the cursor line: ' .. vim.inspect(it))
  end

  vim.lsp.stop_client(id)
  assert(vim.wait(10000, function() return exit_code ~= nil end, 20), 'server did not exit after shutdown')
  return { ok = exit_code == 0, items = #items, first = items[1].textEdit.newText, exit_code = exit_code }
end)
if ok then
  finish(err)
else
  finish({ ok = false, error = tostring(err) })
end
