-- End-to-end check of next-edit suggestions (textDocument/copilotInlineEdit)
-- with Neovim's built-in LSP client (0.7+), as copilot-lsp.nvim asks for
-- them and applies them. Run headless:
--   DFIM_BIN=... DFIM_FILE=main.go DFIM_OUT=out.json \
--     nvim --headless -u NONE -i NONE -c "luafile nes.lua"
-- The file declares person{nmae string}, used three times, and add(a, b, c)
-- called three times with two arguments. The script renames the field
-- where it is declared, then takes every next edit dfim proposes (asking
-- from the cursor, applying, asking again), then adds the third argument
-- to the first call and does the same. It writes a JSON report (the
-- buffer's final text, the edits taken) to DFIM_OUT.
local harness = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/harness.lua')

harness.run({ debounceMs = 0, nextEdit = true }, function(buf, id)
  local client = vim.lsp.get_client_by_id(id)
  local uri = vim.uri_from_bufnr(buf)
  client.notify('textDocument/didFocus', { textDocument = { uri = uri } })

  local function find(pat)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      local s, e = string.find(l, pat, 1, true)
      if s then return i - 1, s - 1, e end
    end
    error('not in the buffer: ' .. pat)
  end

  -- Ask from the cursor, apply the edit as copilot-lsp.nvim does, again.
  local taken = {}
  local function take_all(line, col)
    for _ = 1, 8 do
      local params = { textDocument = { uri = uri, version = vim.lsp.util.buf_versions[buf] },
        position = { line = line, character = col } }
      local res = vim.lsp.buf_request_sync(buf, 'textDocument/copilotInlineEdit', params, 60000)
      assert(res and res[id], 'no copilotInlineEdit response')
      assert(not res[id].err, 'copilotInlineEdit error: ' .. vim.inspect(res[id].err))
      local edits = res[id].result.edits
      if #edits == 0 then return end
      local e = edits[1]
      assert(e.textDocument.uri == uri and e.command and e.command.command, 'edit shape: ' .. vim.inspect(e))
      client.notify('textDocument/didShowInlineEdit', { item = { command = e.command } })
      e.newText = e.text
      vim.lsp.util.apply_text_edits({ e }, buf, 'utf-16')
      table.insert(taken, { line = e.range.start.line, character = e.range.start.character, text = e.text })
      line, col = e.range.start.line, e.range.start.character + #e.text
    end
  end

  -- 1. Rename the field where it is declared (one incremental change).
  local l, s, e = find('nmae string')
  vim.api.nvim_buf_set_text(buf, l, s, l, s + 4, { 'name' })
  take_all(l, s + 4)
  local renamed = #taken

  -- 2. Add the third argument to the first call.
  l, s, e = find('add(1, 2)')
  vim.api.nvim_buf_set_text(buf, l, e - 1, l, e - 1, { ', 0' })
  take_all(l, e + 2)

  -- 3. dfim's own plugin (editors/nvim, on 'runtimepath'): rename the
  -- other field, then ]e's function jumps to each proposal and applies it.
  local nes = require('dfim.nes')
  l, s, e = find('age  int')
  vim.api.nvim_buf_set_text(buf, l, s, l, s + 3, { 'years' })
  vim.api.nvim_win_set_cursor(0, { l + 1, s + 5 })
  local plugin = {}
  for _ = 1, 6 do
    local p = nes.request_sync(buf)
    if not p then break end
    local marks = vim.api.nvim_buf_get_extmarks(buf, vim.api.nvim_create_namespace('dfim_nes'), 0, -1, {})
    assert(#marks > 0, 'proposal not drawn')
    local j = nes.jump_or_apply(buf)
    local a = nes.jump_or_apply(buf)
    assert(j == 'jumped' and a == 'applied', 'jump then apply: ' .. tostring(j) .. ', ' .. tostring(a))
    table.insert(plugin, p.text)
  end
  assert(#plugin > 0, 'the plugin took no next edit after the rename of age')

  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') .. '\n'
  return { renamed = renamed, taken = taken, plugin = plugin, text = text }
end)
