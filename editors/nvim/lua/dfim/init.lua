-- dfim for Neovim: starts `dfim serve` for the configured filetypes and
-- offers its completions. Neovim 0.12+ shows them as inline (ghost-text)
-- completions through vim.lsp.inline_completion. Older versions (0.7 to
-- 0.11) get a preview instead: after a pause in insert mode the first
-- suggestion (textDocument/inlineCompletion) is drawn as virtual text at the
-- cursor, <Tab> (accept_key) takes it, and moving, typing or leaving insert
-- mode clears it; 'completefunc' (<C-x><C-u>) lists every suggestion.
-- Commands:
--   :DfimFill        fill at the cursor (the first suggestion), or with a
--                    range (:'<,'>DfimFill) regenerate the selection
--   :DfimFillHoles   fill every <<fill>> marker of the buffer
--   :DfimStatus      server, engine, model and the last latency
--   :DfimPull NAME   download a model (dfim model pull NAME, e.g.
--                    open-dcoder-0.5b) and switch the servers to it
-- Works on Neovim 0.7 (vim.lsp.start_client) and later (vim.lsp.start).
-- The server does the work: this file only wires Neovim to it.

local M = {}

local uv = vim.uv or vim.loop
-- Neovim 0.11 made client functions methods (client:request()); 0.7 calls them with a dot.
local methods = vim.fn.has('nvim-0.11') == 1
local function call(client, name, ...)
  if methods then
    return client[name](client, ...)
  end
  return client[name](...)
end

local defaults = {
  -- The server command; put dfim on PATH or give its full path.
  cmd = { 'dfim', 'serve' },
  -- Filetypes to start the server for: those dfim checks with tree-sitter, and Lua.
  filetypes = {
    'go', 'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact',
    'rust', 'c', 'cpp', 'java', 'ruby', 'sh', 'bash', 'zsh', 'lua',
  },
  -- The project root is the nearest directory above the file holding one of these.
  root_markers = { '.git', 'go.mod', 'pyproject.toml', 'package.json', 'Cargo.toml' },
  -- Server settings (initializationOptions): engine, model, steps, maxTokens,
  -- debounceMs, invokedDebounceMs, languages, logLevel, denoiseSteps,
  -- endpoint, remoteModel, timeoutMs (remote engines; API keys come from the
  -- server's environment, never from here), crossFileContext,
  -- crossFileContextBytes, minConfidence (0 to 1: how sure a suggestion
  -- you did not ask for must be; 0 shows every one; default 0.6).
  settings = {},
  -- Neovim 0.12+: enable inline completions in attached buffers.
  inline = true,
  -- Without inline completions: set 'completefunc' in attached buffers.
  completefunc = true,
  -- Without inline completions (Neovim before 0.12, or inline = false): after
  -- preview_delay_ms without a keystroke in insert mode, draw the first
  -- suggestion as virtual text at the cursor (highlight preview_hl).
  preview = true,
  preview_delay_ms = 200,
  preview_hl = 'Comment',
  -- The insert-mode key that accepts the preview; without a preview it is
  -- the plain key (a buffer-local mapping, so it hides yours: with nvim-cmp
  -- or snippets on <Tab>, set false or another key and call
  -- require('dfim').accept() from your mapping; it returns true when it
  -- took a preview).
  accept_key = '<Tab>',
  -- How long :DfimFill and 'completefunc' wait for the server.
  timeout_ms = 10000,
}

M.config = vim.deepcopy(defaults)

-- What :DfimStatus reports.
local state = {
  clients = {}, -- root_dir -> client id (Neovim 0.7, which has no vim.lsp.start)
  server_info = {}, -- client id -> initialize's serverInfo (0.7 does not keep it)
  last_latency_ms = nil,
  last_items = nil,
  last_error = nil,
}

local MethodNotFound = -32601

local function notify(msg, level)
  vim.notify('dfim: ' .. msg, level or vim.log.levels.INFO)
end

--- The dfim client attached to bufnr, or nil.
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.lsp.get_clients then -- 0.10+
    return vim.lsp.get_clients({ bufnr = bufnr, name = 'dfim' })[1]
  end
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if c.name == 'dfim' then
      return c
    end
  end
  return nil
end

local function root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.fn.getcwd()
  local cur = dir
  while true do
    for _, marker in ipairs(M.config.root_markers) do
      if uv.fs_stat(cur .. '/' .. marker) then
        return cur
      end
    end
    local parent = vim.fn.fnamemodify(cur, ':h')
    if parent == cur then
      return dir
    end
    cur = parent
  end
end

local function on_attach(client, bufnr)
  local inline = vim.lsp.inline_completion
  if M.config.inline and inline and inline.enable then
    inline.enable(true, { bufnr = bufnr })
    return
  end
  if M.config.completefunc then
    vim.bo[bufnr].completefunc = "v:lua.require'dfim'.completefunc"
  end
  if M.config.preview then
    M.preview_attach(bufnr)
  end
end

--- The initializationOptions sent: the settings, as a JSON object even when
--- empty (vim.json encodes an empty table as [], which the server rejects).
function M.init_options()
  local s = M.config.settings
  if s == nil or next(s) == nil then
    return vim.empty_dict()
  end
  return s
end

local function client_config(bufnr)
  return {
    name = 'dfim',
    cmd = M.config.cmd,
    root_dir = root_dir(bufnr),
    init_options = M.init_options(),
    on_attach = on_attach,
    on_init = function(client, result)
      state.server_info[client.id] = result and result.serverInfo
    end,
    handlers = {
      -- Streamed only with settings.denoiseSteps; drawn by the VS Code extension.
      ['dfim/denoiseStep'] = function() end,
    },
  }
end

--- Starts (or reuses) the server for bufnr and attaches it. Returns the client id.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.fn.executable(M.config.cmd[1]) ~= 1 then
    notify(('cannot run %q: install dfim on PATH or pass cmd = { "/path/to/dfim", "serve" } to setup()'):format(M.config.cmd[1]),
      vim.log.levels.ERROR)
    return nil
  end
  local config = client_config(bufnr)
  if vim.lsp.start then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  -- Neovim 0.7: one client per root, attached buffer by buffer.
  local id = state.clients[config.root_dir]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or client.is_stopped() then
    id = vim.lsp.start_client(config)
    if not id then
      notify('the server did not start; see :lua vim.cmd("e " .. vim.lsp.get_log_path())', vim.log.levels.ERROR)
      return nil
    end
    state.clients[config.root_dir] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

-- Byte column in line `row` (0-based) of an LSP position, in the client's encoding.
local function byte_col(bufnr, position, encoding)
  return vim.lsp.util._get_line_byte_from_position(bufnr, position, encoding)
end

local function position_params(client)
  return vim.lsp.util.make_position_params(0, client.offset_encoding)
end

-- Completion items at the cursor, synchronously. Returns items, client (or nil, why).
local function request_items(bufnr)
  local client = M.client(bufnr)
  if not client then
    return nil, 'no dfim server attached to this buffer'
  end
  local params = position_params(client)
  params.context = { triggerKind = 1 } -- Invoked
  local start = uv.hrtime()
  local res, err = call(client, 'request_sync', 'textDocument/completion', params, M.config.timeout_ms, bufnr)
  if not res then
    state.last_error = err or 'no answer'
    return nil, ('no answer in %d ms (%s)'):format(M.config.timeout_ms, tostring(err))
  end
  if res.err then
    state.last_error = res.err.message
    return nil, res.err.message
  end
  local result = res.result or {}
  local items = result.items or result
  state.last_latency_ms = (uv.hrtime() - start) / 1e6
  state.last_items = #items
  state.last_error = nil
  return items, client
end

-- Pending multi-line or suffix-replacing items of the last completefunc call,
-- finished on CompleteDone (a completion word cannot hold a line break).
local pending = {}

--- 'completefunc' (older Neovim): the server's suggestions as completion items.
function M.completefunc(findstart, base)
  local bufnr = vim.api.nvim_get_current_buf()
  if findstart == 1 then
    pending = { items = {} }
    local items, client = request_items(bufnr)
    if not items then
      notify(client, vim.log.levels.WARN)
      return -3 -- cancel silently
    end
    local row, cursor = unpack(vim.api.nvim_win_get_cursor(0))
    row = row - 1
    local start = cursor
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
    for _, it in ipairs(items) do
      local edit = it.textEdit
      if edit and edit.range.start.line == row and edit.range['end'].line == row then
        local s = byte_col(bufnr, edit.range.start, client.offset_encoding)
        local e = byte_col(bufnr, edit.range['end'], client.offset_encoding)
        -- An edit that changes nothing is no suggestion.
        if s <= cursor and e >= cursor and line:sub(s + 1, e) ~= edit.newText then
          table.insert(pending.items, { text = edit.newText, start = s, stop = e })
          start = math.min(start, s)
        end
      end
    end
    pending.row, pending.cursor, pending.start = row, cursor, start
    return #pending.items > 0 and start or -3
  end
  local words = {}
  local line = vim.api.nvim_buf_get_lines(bufnr, pending.row, pending.row + 1, false)[1] or ''
  for i, it in ipairs(pending.items) do
    -- Items may start before `start` only if they share its text.
    local text = line:sub(pending.start + 1, it.start) .. it.text
    local first = vim.split(text, '\n', { plain = true })[1]
    table.insert(words, {
      word = first,
      abbr = first,
      menu = '[dfim]',
      info = text,
      icase = 1,
      dup = 1,
      empty = 1,
      user_data = { dfim = i },
    })
  end
  return words
end

-- Finishes an accepted item: the rest of a multi-line text, and the text
-- after the cursor that the item replaces.
local function complete_done()
  local item = vim.v.completed_item
  local ud = type(item) == 'table' and item.user_data
  if type(ud) ~= 'table' or not ud.dfim or not pending.items then
    return
  end
  local it = pending.items[ud.dfim]
  if not it then
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local word_end = pending.start + #item.word
  local stop = word_end + (it.stop - pending.cursor)
  local text = vim.api.nvim_buf_get_lines(bufnr, pending.row, pending.row + 1, false)[1] or ''
  local lines = vim.split(text:sub(pending.start + 1, it.start) .. it.text, '\n', { plain = true })
  if #lines == 1 and stop == word_end then
    return -- the word was the whole item
  end
  stop = math.min(stop, #text)
  vim.api.nvim_buf_set_text(bufnr, pending.row, pending.start, pending.row, stop, lines)
  local last = lines[#lines]
  local col = (#lines == 1 and pending.start or 0) + #last
  vim.api.nvim_win_set_cursor(0, { pending.row + #lines, col })
  pending = {}
end

-- The preview (Neovim before 0.12): one suggestion drawn as virtual text
-- at the cursor. The first line overlays the rest of the cursor's line with
-- what it would become (the fill in preview_hl, then the text after the
-- range it replaces); further lines are virt_lines below. It belongs to one
-- buffer, changedtick and cursor position, and any change of those clears it.
local ns = vim.api.nvim_create_namespace('dfim_preview')
local preview = {
  timer = nil, -- the pause before a request
  request = nil, -- { client, id } of the request in flight
  shown = nil, -- { bufnr, tick, row, col, start, stop, lines, mark }
  answers = 0, -- preview requests answered (tests wait on it)
}

-- s with its tabs expanded as they would be drawn from display column col
-- (virtual text draws a tab as one cell).
local function expand_tabs(s, col, ts)
  local out = {}
  for piece, tab in s:gmatch('([^\t]*)(\t?)') do
    table.insert(out, piece)
    col = col + vim.fn.strdisplaywidth(piece)
    if tab ~= '' then
      local pad = ts - (col % ts)
      table.insert(out, (' '):rep(pad))
      col = col + pad
    end
  end
  return table.concat(out)
end

local function cursor_pos()
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  return row - 1, col
end

--- Removes the preview and cancels its pending request.
function M.preview_clear()
  if preview.timer then
    preview.timer:stop()
    preview.timer:close()
    preview.timer = nil
  end
  if preview.request then
    local client, id = preview.request[1], preview.request[2]
    preview.request = nil
    if not (client.is_stopped and call(client, 'is_stopped')) then
      pcall(call, client, 'cancel_request', id)
    end
  end
  local shown = preview.shown
  preview.shown = nil
  if shown and vim.api.nvim_buf_is_valid(shown.bufnr) then
    vim.api.nvim_buf_clear_namespace(shown.bufnr, ns, 0, -1)
  end
end

-- The shown preview if it still belongs to the current buffer, text and cursor.
local function current_preview()
  local shown = preview.shown
  if not shown or shown.bufnr ~= vim.api.nvim_get_current_buf() then
    return nil
  end
  local row, col = cursor_pos()
  if shown.tick ~= vim.api.nvim_buf_get_changedtick(shown.bufnr) or shown.row ~= row or shown.col ~= col then
    return nil
  end
  return shown
end

-- Draws item (an InlineCompletionItem) at the cursor, if it applies there.
local function draw(bufnr, client, item, row, col)
  local text = item.insertText
  if type(text) == 'table' then
    text = text.value -- a StringValue (snippet): shown and inserted as text
  end
  if type(text) ~= 'string' or text == '' then
    return
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local start, stop = col, col
  if item.range then
    local r = item.range
    if r.start.line ~= row or r['end'].line ~= row then
      return -- spans other lines: <C-x><C-u> or :DfimFill show it
    end
    start = byte_col(bufnr, r.start, client.offset_encoding)
    stop = byte_col(bufnr, r['end'], client.offset_encoding)
  end
  -- The range may begin before the cursor only with the text typed there.
  local typed = line:sub(start + 1, col)
  if start > col or stop < col or text:sub(1, #typed) ~= typed then
    return
  end
  if line:sub(start + 1, stop) == text then
    return -- changes nothing (the ")" over the ")" after the cursor): accepting it would do nothing
  end
  local lines = vim.split(text, '\n', { plain = true })
  local shown_lines = vim.split(text:sub(#typed + 1), '\n', { plain = true })
  if #shown_lines == 1 and shown_lines[1] == '' and stop == col then
    return -- nothing to add
  end
  local ts = vim.bo[bufnr].tabstop
  local vcol = vim.fn.strdisplaywidth(line:sub(1, col))
  local rest = line:sub(stop + 1)
  local hl = M.config.preview_hl
  local first = expand_tabs(shown_lines[1], vcol, ts)
  local chunks = { { first, hl } }
  local virt_lines = {}
  if #shown_lines == 1 then
    if rest ~= '' then
      table.insert(chunks, { expand_tabs(rest, vcol + vim.fn.strdisplaywidth(first), ts), 'Normal' })
    end
  else
    for i = 2, #shown_lines do
      local l = { { expand_tabs(shown_lines[i], 0, ts), hl } }
      if i == #shown_lines and rest ~= '' then
        table.insert(l, { expand_tabs(rest, vim.fn.strdisplaywidth(l[1][1]), ts), 'Normal' })
      end
      table.insert(virt_lines, l)
    end
  end
  -- Cover what the overlay does not: the old text after the cursor.
  local old = vim.fn.strdisplaywidth(expand_tabs(line:sub(col + 1), vcol, ts))
  local new = 0
  for _, c in ipairs(chunks) do
    new = new + vim.fn.strdisplaywidth(c[1])
  end
  if old > new then
    table.insert(chunks, { (' '):rep(old - new), 'Normal' })
  end
  local opts = { virt_text = chunks, virt_text_pos = 'overlay', hl_mode = 'combine' }
  if #virt_lines > 0 then
    opts.virt_lines = virt_lines
  end
  local mark = vim.api.nvim_buf_set_extmark(bufnr, ns, row, col, opts)
  preview.shown = {
    bufnr = bufnr,
    tick = vim.api.nvim_buf_get_changedtick(bufnr),
    row = row,
    col = col,
    start = start,
    stop = stop,
    lines = lines,
    mark = mark,
  }
end

-- Asks the server for inline completions at the cursor (automatic: the
-- server's confidence gate applies) and draws the first that fits.
local function request_preview(bufnr)
  local client = M.client(bufnr)
  if not client or vim.api.nvim_get_current_buf() ~= bufnr or vim.fn.pumvisible() == 1
    or not vim.api.nvim_get_mode().mode:find('^i') then
    return
  end
  local row, col = cursor_pos()
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local params = position_params(client)
  params.context = { triggerKind = 2 } -- Automatic
  local start = uv.hrtime()
  local ok, id
  ok, id = call(client, 'request', 'textDocument/inlineCompletion', params, function(err, result)
    if not (preview.request and preview.request[2] == id) then
      return -- cancelled or superseded
    end
    preview.request = nil
    preview.answers = preview.answers + 1
    if err then
      state.last_error = err.message
      return
    end
    state.last_latency_ms = (uv.hrtime() - start) / 1e6
    local items = result and (result.items or result) or {}
    state.last_items = #items
    state.last_error = nil
    local r, c = cursor_pos()
    if vim.api.nvim_get_current_buf() ~= bufnr or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
      or r ~= row or c ~= col or not vim.api.nvim_get_mode().mode:find('^i') then
      return
    end
    for _, item in ipairs(items) do
      draw(bufnr, client, item, row, col)
      if preview.shown then
        return
      end
    end
  end, bufnr)
  if ok then
    preview.request = { client, id }
  end
end

-- After a keystroke or cursor move in insert mode: clear, then ask again
-- after the pause.
local function schedule_preview(bufnr)
  M.preview_clear()
  local timer = uv.new_timer()
  preview.timer = timer
  timer:start(M.config.preview_delay_ms, 0, vim.schedule_wrap(function()
    if preview.timer ~= timer then
      return
    end
    preview.timer = nil
    timer:close()
    request_preview(bufnr)
  end))
end

--- Accepts the preview at the cursor: inserts it and puts the cursor after
--- it. Returns true when there was one.
function M.accept()
  local shown = current_preview()
  if not shown then
    return false
  end
  M.preview_clear()
  local lines = shown.lines
  vim.api.nvim_buf_set_text(shown.bufnr, shown.row, shown.start, shown.row, shown.stop, lines)
  local col = (#lines == 1 and shown.start or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { shown.row + #lines, col })
  return true
end

--- The text the preview draws (fill and kept rest of the line), lines
--- joined with "\n", or nil: for a statusline or a test.
function M.preview_text()
  local shown = current_preview()
  if not shown then
    return nil
  end
  local mark = vim.api.nvim_buf_get_extmark_by_id(shown.bufnr, ns, shown.mark, { details = true })
  local details = mark and mark[3] or {}
  local out = {}
  local first = {}
  for _, c in ipairs(details.virt_text or {}) do
    table.insert(first, c[1])
  end
  table.insert(out, (table.concat(first):gsub('%s+$', '')))
  for _, l in ipairs(details.virt_lines or {}) do
    local parts = {}
    for _, c in ipairs(l) do
      table.insert(parts, c[1])
    end
    table.insert(out, table.concat(parts))
  end
  return table.concat(out, '\n')
end

--- The preview's namespace and how many preview requests were answered.
function M.preview_info()
  return { namespace = ns, answers = preview.answers, pending = preview.request ~= nil or preview.timer ~= nil }
end

-- For tests: draws an InlineCompletionItem at the cursor as an answer would.
function M._preview_draw(item)
  local bufnr = vim.api.nvim_get_current_buf()
  local row, col = cursor_pos()
  M.preview_clear()
  draw(bufnr, M.client(bufnr), item, row, col)
  return preview.shown ~= nil
end

--- Turns the preview on in bufnr: its autocmds and the accept key.
function M.preview_attach(bufnr)
  local group = vim.api.nvim_create_augroup('dfim_preview_' .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ 'InsertEnter', 'CursorMovedI', 'TextChangedI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      schedule_preview(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd({ 'InsertLeave', 'BufLeave', 'TextChangedP' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.preview_clear()
    end,
  })
  local key = M.config.accept_key
  if key and key ~= '' then
    vim.keymap.set('i', key, function()
      if current_preview() then
        return "<Cmd>lua require'dfim'.accept()<CR>"
      end
      return key
    end, { buffer = bufnr, expr = true, desc = 'dfim: accept the preview' })
  end
end

--- :DfimFill without a range: applies the first suggestion at the cursor.
function M.fill()
  local bufnr = vim.api.nvim_get_current_buf()
  local items, client = request_items(bufnr)
  if not items then
    notify(client, vim.log.levels.WARN)
    return false
  end
  -- The first suggestion that changes something.
  local it
  for _, item in ipairs(items) do
    local edit = item.textEdit
    if edit and not (edit.range.start.line == edit.range['end'].line
        and edit.newText == (vim.api.nvim_buf_get_text(bufnr, edit.range.start.line,
          byte_col(bufnr, edit.range.start, client.offset_encoding), edit.range['end'].line,
          byte_col(bufnr, edit.range['end'], client.offset_encoding), {})[1] or '')) then
      it = item
      break
    end
  end
  if not it then
    notify('no suggestion here')
    return false
  end
  vim.lsp.util.apply_text_edits({ it.textEdit }, bufnr, client.offset_encoding)
  return true
end

-- Runs a dfim command; the server edits the buffer with workspace/applyEdit.
local function run_command(bufnr, command, args, on_done)
  local client = M.client(bufnr)
  if not client then
    notify('no dfim server attached to this buffer', vim.log.levels.WARN)
    return false
  end
  local start = uv.hrtime()
  call(client, 'request', 'workspace/executeCommand', { command = command, arguments = args }, function(err)
    state.last_latency_ms = (uv.hrtime() - start) / 1e6
    if err then
      state.last_error = err.message
      if err.code == MethodNotFound then
        notify(('this dfim server does not run %s: update dfim'):format(command), vim.log.levels.ERROR)
      else
        notify(err.message, vim.log.levels.ERROR)
      end
    else
      state.last_error = nil
    end
    if on_done then
      on_done(err)
    end
  end, bufnr)
  return true
end

--- :DfimFillHoles: fills every <<fill>> (or <<fill:N>>) marker of the buffer.
function M.fill_holes(bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  return run_command(bufnr, 'dfim.fillHoles', { { uri = vim.uri_from_bufnr(bufnr) } }, on_done)
end

--- :'<,'>DfimFill: regenerates lines line1..line2 (1-based), or the
--- characterwise visual selection when it spans exactly those lines.
function M.fill_selection(line1, line2, bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = M.client(bufnr)
  if not client then
    notify('no dfim server attached to this buffer', vim.log.levels.WARN)
    return false
  end
  local lines = vim.api.nvim_buf_get_lines(bufnr, line1 - 1, line2, false)
  local scol, ecol = 0, #(lines[#lines] or '')
  local vs, ve = vim.fn.getpos("'<"), vim.fn.getpos("'>")
  if vim.fn.visualmode() == 'v' and vs[2] == line1 and ve[2] == line2 then
    scol = vs[3] - 1
    ecol = math.min(ve[3], #lines[#lines]) -- '> is inclusive: move past its last byte
    local last = lines[#lines]
    while ecol < #last and last:byte(ecol + 1) >= 0x80 and last:byte(ecol + 1) < 0xC0 do
      ecol = ecol + 1
    end
  end
  local enc = client.offset_encoding
  local range = {
    start = { line = line1 - 1, character = vim.lsp.util.character_offset(bufnr, line1 - 1, scol, enc) },
    ['end'] = { line = line2 - 1, character = vim.lsp.util.character_offset(bufnr, line2 - 1, ecol, enc) },
  }
  return run_command(bufnr, 'dfim.fillSelection', { { uri = vim.uri_from_bufnr(bufnr), range = range } }, on_done)
end

--- A short status for a statusline: "dfim 84 ms", or "" when not attached.
function M.status(bufnr)
  local client = M.client(bufnr)
  if not client then
    return ''
  end
  if state.last_latency_ms then
    return ('dfim %d ms'):format(state.last_latency_ms)
  end
  return 'dfim'
end

--- The lines :DfimStatus prints.
function M.status_lines(bufnr)
  local client = M.client(bufnr)
  if not client then
    return { 'dfim: no server attached to this buffer (filetype ' .. vim.bo.filetype .. ')' }
  end
  local info = state.server_info[client.id] or client.server_info or {}
  local settings = M.config.settings
  local out = {
    ('dfim: client %d, server %s %s, root %s'):format(client.id, info.name or '?', info.version or '',
      client.config.root_dir or '?'),
    ('engine %s, model %s'):format(settings.engine or 'native (default)',
      (settings.model == nil or settings.model == '') and 'built-in' or settings.model),
  }
  local mode
  if vim.lsp.inline_completion and vim.lsp.inline_completion.enable and M.config.inline then
    mode = 'inline completions'
  else
    mode = "completion items ('completefunc', <C-x><C-u>)"
    if M.config.preview then
      local key = M.config.accept_key
      mode = ('preview (virtual text%s) and '):format(key and key ~= '' and ', ' .. key .. ' accepts' or '') .. mode
    end
  end
  table.insert(out, 'mode: ' .. mode)
  if state.last_latency_ms then
    table.insert(out, ('last request: %d ms, %s item(s)'):format(state.last_latency_ms, tostring(state.last_items or '-')))
  end
  if state.last_error then
    table.insert(out, 'last error: ' .. state.last_error)
  end
  return out
end

--- :DfimPull NAME: runs `dfim model pull NAME` (a short name such as
--- open-dcoder-0.5b, or hf:ORG/NAME) in the background, shows its progress
--- lines, and on success switches settings.model to NAME in the running
--- servers (workspace/didChangeConfiguration) and for servers started later.
--- on_done(ok, message) is called at the end. Returns the job id.
function M.pull(name, on_done)
  local lines, last = {}, nil
  local function collect(_, data)
    for _, l in ipairs(data or {}) do
      -- A terminal progress bar redraws with \r; keep the last frame.
      l = l:gsub('.*\r', '')
      if l ~= '' then
        table.insert(lines, l)
        last = l
        notify('pull ' .. name .. ': ' .. l)
      end
    end
  end
  notify(('pulling %s (dfim model pull; this can take a while)'):format(name))
  local job = vim.fn.jobstart({ M.config.cmd[1], 'model', 'pull', name }, {
    stdout_buffered = true,
    on_stderr = collect,
    on_exit = function(_, code)
      vim.schedule(function()
        if code ~= 0 then
          local msg = last or ('dfim model pull exited with ' .. code)
          state.last_error = msg
          notify(msg, vim.log.levels.ERROR)
          if on_done then
            on_done(false, msg)
          end
          return
        end
        local settings = vim.deepcopy(M.config.settings or {})
        settings.model = name
        M.config.settings = settings
        local get = vim.lsp.get_clients or vim.lsp.get_active_clients
        for _, client in ipairs(get()) do
          if client.name == 'dfim' then
            call(client, 'notify', 'workspace/didChangeConfiguration', { settings = { dfim = settings } })
          end
        end
        notify(('pulled %s; completions now use it (settings.model = %q)'):format(name, name))
        if on_done then
          on_done(true, name)
        end
      end)
    end,
  })
  if job <= 0 then
    notify(('cannot run %q: install dfim on PATH or pass cmd to setup()'):format(M.config.cmd[1]), vim.log.levels.ERROR)
    if on_done then
      on_done(false, 'cannot run ' .. M.config.cmd[1])
    end
  end
  return job
end

local function define_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd('DfimFill', function(o)
    if o.range > 0 then
      M.fill_selection(o.line1, o.line2)
    else
      M.fill()
    end
  end, { range = true, desc = 'dfim: fill at the cursor, or regenerate the range' })
  cmd('DfimFillHoles', function()
    M.fill_holes()
  end, { desc = 'dfim: fill every <<fill>> marker of the buffer' })
  cmd('DfimPull', function(o)
    M.pull(o.args)
  end, { nargs = 1, desc = 'dfim: download a model (dfim model pull NAME) and switch to it' })
  cmd('DfimStatus', function()
    print(table.concat(M.status_lines(), '\n'))
  end, { desc = 'dfim: server, engine, model, last latency' })
end

--- setup{cmd=, filetypes=, root_markers=, settings=, inline=, completefunc=,
--- preview=, preview_delay_ms=, preview_hl=, accept_key=, timeout_ms=}
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes -- a list replaces, not merges
  end
  define_commands()
  local group = vim.api.nvim_create_augroup('dfim', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd('CompleteDone', { group = group, callback = complete_done })
  -- Buffers opened before setup.
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(M.config.filetypes, vim.bo[b].filetype) then
      M.attach(b)
    end
  end
end

return M
