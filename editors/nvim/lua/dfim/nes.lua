-- dfim next-edit suggestions for Neovim: after you change one place, dfim
-- proposes the matching change at the next place (another use of a renamed
-- field, another call that needs the argument you added). The proposal is
-- drawn at its place: the text it replaces highlighted (hl_old) and the
-- line as it would read after it as virtual text (hl_new). `]e` (key)
-- jumps to it; pressed again there, it applies it. Leaving it alone and
-- typing elsewhere replaces it with a fresher one.
--
--   require('dfim').setup({ settings = { nextEdit = true } })
--   require('dfim.nes').setup()
--
-- The server answers textDocument/copilotInlineEdit (Copilot's request,
-- so copilot-lsp.nvim works with dfim too); it proposes nothing unless the
-- nextEdit setting is on (by default it is with a remote engine or a
-- pulled model, off with the built-in model). Neovim 0.7 and later.

local M = {}

local defaults = {
  key = ']e', -- normal-mode key: jump to the proposal, then apply it
  debounce_ms = 300, -- pause after a change before asking
  hl_old = 'DiffDelete',
  hl_new = 'DiffAdd',
  timeout_ms = 10000, -- request_sync's wait
}

M.config = vim.deepcopy(defaults)

local ns = vim.api.nvim_create_namespace('dfim_nes')
local pending = {} -- bufnr -> the proposed edit (copilotInlineEdit's edits[1])
local timers = {}
local uv = vim.uv or vim.loop

local function client_for(bufnr)
  return require('dfim').client(bufnr)
end

local function call(client, name, ...)
  if vim.fn.has('nvim-0.11') == 1 then
    return client[name](client, ...)
  end
  return client[name](...)
end

--- Forget and undraw bufnr's proposal.
function M.clear(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local e = pending[bufnr]
  pending[bufnr] = nil
  for _, b in ipairs({ bufnr, e and e.bufnr }) do
    if vim.api.nvim_buf_is_valid(b) then
      vim.api.nvim_buf_clear_namespace(b, ns, 0, -1)
    end
  end
end

--- The proposal pending in bufnr, or nil.
function M.pending(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return pending[bufnr]
end

local function byte_col(bufnr, pos, enc)
  return vim.lsp.util._get_line_byte_from_position(bufnr, pos, enc)
end

-- Draw edit e in bufnr: the replaced text highlighted, the line after the
-- edit as virtual text at the end of its first line.
local function draw(bufnr, e, enc)
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local sl, el = e.range.start.line, e.range['end'].line
  local sc, ec = byte_col(bufnr, e.range.start, enc), byte_col(bufnr, e.range['end'], enc)
  local first = vim.api.nvim_buf_get_lines(bufnr, sl, sl + 1, false)[1] or ''
  local last = vim.api.nvim_buf_get_lines(bufnr, el, el + 1, false)[1] or ''
  if sl ~= el or sc ~= ec then
    vim.api.nvim_buf_set_extmark(bufnr, ns, sl, sc, { end_row = el, end_col = ec, hl_group = M.config.hl_old })
  end
  local after = vim.split(first:sub(1, sc) .. e.text .. last:sub(ec + 1), '\n', { plain = true })
  vim.api.nvim_buf_set_extmark(bufnr, ns, sl, 0, {
    virt_text = { { '  ⇢ ' .. vim.trim(after[1]) .. (#after > 1 and ' …' or ''), M.config.hl_new } },
    virt_text_pos = 'eol',
  })
end

-- The buffer an edit is for: it may be another open file than the one
-- asked from (the server looks there once this one has nothing left).
local function target(bufnr, e)
  local uri = e.textDocument and e.textDocument.uri
  if uri and uri ~= vim.uri_from_bufnr(bufnr) then
    local b = vim.uri_to_bufnr(uri)
    return vim.api.nvim_buf_is_loaded(b) and b or nil
  end
  return bufnr
end

local function take(bufnr, client, result)
  local e = result and result.edits and result.edits[1]
  M.clear(bufnr)
  local tb = e and vim.api.nvim_buf_is_valid(bufnr) and target(bufnr, e)
  if not tb then
    return nil
  end
  e.bufnr = tb
  pending[bufnr] = e
  draw(tb, e, client.offset_encoding)
  return e
end

local function params(bufnr, client)
  local p = vim.lsp.util.make_position_params(0, client.offset_encoding)
  p.textDocument.version = vim.lsp.util.buf_versions[bufnr]
  return p
end

--- Ask for bufnr's next edit now; draws it when one comes.
function M.request(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = client_for(bufnr)
  if not client then
    return
  end
  call(client, 'request', 'textDocument/copilotInlineEdit', params(bufnr, client), function(err, result)
    if not err then
      take(bufnr, client, result)
    end
  end, bufnr)
end

--- Ask and wait (tests, mappings that need the answer): the edit, or nil.
function M.request_sync(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = client_for(bufnr)
  if not client then
    return nil
  end
  local res = call(client, 'request_sync', 'textDocument/copilotInlineEdit', params(bufnr, client), M.config.timeout_ms, bufnr)
  return take(bufnr, client, res and not res.err and res.result)
end

--- Jump to the pending proposal; at it, apply it. Returns what it did:
--- 'jumped', 'applied' or nil (nothing pending).
function M.jump_or_apply(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local e = pending[bufnr]
  local client = client_for(e and e.bufnr or bufnr)
  if not e or not client then
    return nil
  end
  local tb = e.bufnr or bufnr
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local sc = byte_col(tb, e.range.start, client.offset_encoding)
  if tb ~= vim.api.nvim_get_current_buf() or row - 1 ~= e.range.start.line or col ~= sc then
    if tb ~= vim.api.nvim_get_current_buf() then
      vim.api.nvim_set_current_buf(tb)
      pending[tb] = e -- ]e goes on from there
      pending[bufnr] = nil
    end
    vim.api.nvim_win_set_cursor(0, { e.range.start.line + 1, sc })
    return 'jumped'
  end
  M.clear(tb)
  vim.lsp.util.apply_text_edits({ { range = e.range, newText = e.text } }, tb, client.offset_encoding)
  local lines = vim.split(e.text, '\n', { plain = true })
  local end_row = e.range.start.line + #lines
  local end_col = (#lines == 1 and sc or 0) + #lines[#lines]
  pcall(vim.api.nvim_win_set_cursor, 0, { end_row, end_col })
  return 'applied'
end

local function schedule(bufnr)
  local t = timers[bufnr]
  if not t then
    t = uv.new_timer()
    timers[bufnr] = t
  end
  t:stop()
  t:start(M.config.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_buf_is_valid(bufnr) and bufnr == vim.api.nvim_get_current_buf() then
      M.request(bufnr)
    end
  end))
end

--- setup{key=, debounce_ms=, hl_old=, hl_new=, timeout_ms=}: ask after
--- every change (debounced) in buffers dfim is attached to, and map key.
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  local group = vim.api.nvim_create_augroup('dfim_nes', { clear = true })
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI' }, {
    group = group,
    callback = function(args)
      if client_for(args.buf) then
        M.clear(args.buf)
        schedule(args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd('BufUnload', {
    group = group,
    callback = function(args)
      pending[args.buf] = nil
      if timers[args.buf] then
        timers[args.buf]:close()
        timers[args.buf] = nil
      end
    end,
  })
  if M.config.key then
    vim.keymap.set('n', M.config.key, function()
      if not M.jump_or_apply() then
        vim.notify('dfim: no next edit', vim.log.levels.INFO)
      end
    end, { desc = 'dfim: jump to the next edit, then apply it' })
  end
end

return M
