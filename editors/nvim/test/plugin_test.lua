-- Headless test of the dfim plugin against the real `dfim serve`. Run by
-- run.sh, which sets:
--   DFIM_BIN      the dfim binary
--   DFIM_ENGINE   optional engine name (e2efake fills every hole with known text)
--   DFIM_WORKDIR  a scratch directory for the test files
--   DFIM_LOG      optional server log file
-- Prints TAP ("ok 1 - …", "not ok 2 - …", "# SKIP …") and exits 1 when a test fails.

local bin = assert(os.getenv('DFIM_BIN'), 'DFIM_BIN not set')
local engine = os.getenv('DFIM_ENGINE') or ''
local fake = engine == 'e2efake'
local workdir = assert(os.getenv('DFIM_WORKDIR'), 'DFIM_WORKDIR not set')
local answer_ms = 120000 -- the built-in model on a slow shared CPU

local out = io.stdout
local n, failed = 0, 0

local function report(line)
  out:write(line .. '\n')
  out:flush()
end

local Skip = {}
local function skip(why)
  error(setmetatable({ why = why }, Skip), 0)
end

local function test(name, fn)
  n = n + 1
  local ok, err = xpcall(fn, function(e)
    if getmetatable(e) == Skip then
      return e
    end
    return debug.traceback(tostring(e), 2)
  end)
  if ok then
    report(('ok %d - %s'):format(n, name))
  elseif getmetatable(err) == Skip then
    report(('ok %d - %s # SKIP %s'):format(n, name, err.why))
  else
    failed = failed + 1
    report(('not ok %d - %s'):format(n, name))
    for l in tostring(err):gmatch('[^\n]+') do
      report('#   ' .. l)
    end
  end
end

local function eq(got, want, what)
  if got ~= want then
    error(('%s: got %s, want %s'):format(what, vim.inspect(got), vim.inspect(want)), 2)
  end
end

local function write(name, text)
  local path = workdir .. '/' .. name
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
  return path
end

-- Messages the server shows (window/showMessage) and the plugin's notifications.
local messages = {}
local show = vim.lsp.handlers['window/showMessage']
vim.lsp.handlers['window/showMessage'] = function(err, result, ctx, config)
  table.insert(messages, result and result.message or '')
  return show(err, result, ctx, config)
end
local plain_notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(messages, msg)
  return plain_notify(msg, level, opts)
end

local serve = { bin, 'serve' }
if os.getenv('DFIM_LOG') then
  vim.list_extend(serve, { '--log-file', os.getenv('DFIM_LOG'), '--log-level', 'debug' })
end
local settings = { invokedDebounceMs = 0 }
if engine ~= '' then
  settings.engine = engine
end

vim.cmd('filetype on')
local dfim = require('dfim')
dfim.setup({ cmd = serve, settings = settings, timeout_ms = answer_ms })

write('go.mod', 'module example.com/t\n\ngo 1.22\n')
local main = write('main.go', 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "dfim"\n\tfmt.Println()\n}\n')

-- The tests run in a coroutine: await() gives the main loop back, so that
-- keys fed with nvim_feedkeys are typed (insert mode, autocmds, timers) as
-- a user would type them.
local uv = vim.uv or vim.loop
local function await(ms, cond)
  local co = coroutine.running()
  local deadline = uv.now() + ms
  local function poll()
    if cond() or uv.now() > deadline then
      local ok, err = coroutine.resume(co)
      if not ok then
        report('not ok - the test runner failed: ' .. tostring(err))
        vim.cmd('cquit 1')
      end
    else
      vim.defer_fn(poll, 20)
    end
  end
  vim.defer_fn(poll, 20)
  coroutine.yield()
  return cond()
end

local function feed(keys)
  -- 'm': with mappings (the plugin's accept key), typed after await() yields.
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'm', false)
end

local function main_tests()
test('empty settings go to the server as a JSON object, not []', function()
  local saved = dfim.config.settings
  dfim.config.settings = {}
  local encoded = vim.fn.json_encode(dfim.init_options())
  dfim.config.settings = saved
  eq(encoded, '{}', 'initializationOptions for settings = {}')
  eq(vim.fn.json_decode(vim.fn.json_encode(dfim.init_options())).invokedDebounceMs, 0, 'settings given are sent')
end)

local client
test('opening a Go file starts dfim serve and attaches it', function()
  vim.cmd('edit ' .. vim.fn.fnameescape(main))
  eq(vim.bo.filetype, 'go', 'filetype')
  assert(vim.wait(answer_ms, function()
    client = dfim.client(0)
    return client ~= nil and client.initialized
  end, 20), 'no initialized dfim client attached in time')
  eq(client.config.root_dir, vim.fn.resolve(workdir), 'root_dir (the directory with go.mod)')
  if vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    report('# inline completions (Neovim 0.12+)')
  else
    eq(vim.bo.completefunc, "v:lua.require'dfim'.completefunc", "'completefunc'")
  end
end)

test("'completefunc' offers the server's completion items at the cursor", function()
  if not client then
    skip('no client')
  end
  -- Between "(" and ")": the cursor cannot sit after the last character in normal mode.
  vim.api.nvim_win_set_cursor(0, { 7, 13 })
  local start = dfim.completefunc(1, '')
  if start == -3 then
    if fake then
      error('no items from the e2efake engine, which always fills: ' .. table.concat(messages, ' | '))
    end
    report('# the built-in model offered nothing here')
    return
  end
  assert(type(start) == 'number' and start >= 0 and start <= 13, 'start column ' .. tostring(start))
  local words = dfim.completefunc(0, '')
  assert(#words > 0, 'findstart found items but the list is empty')
  for _, w in ipairs(words) do
    assert(type(w.word) == 'string' and not w.word:find('\n'), 'a word is one line: ' .. vim.inspect(w))
    eq(w.menu, '[dfim]', 'menu')
  end
  if fake then
    assert(words[1].word:find('name', 1, true), 'e2efake fills "name)" after "(": ' .. vim.inspect(words[1]))
  end
  report('# first item: ' .. vim.inspect(words[1].word))
end)

test('<C-x><C-u> in insert mode completes and replaces the text the item covers', function()
  if not client then
    skip('no client')
  end
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_win_set_cursor(0, { 7, 13 }) -- on the ")"; "i" inserts before it
  local before = vim.api.nvim_buf_get_lines(buf, 6, 7, false)[1]
  local keys = vim.api.nvim_replace_termcodes('i<C-x><C-u><C-y><Esc>', true, false, true)
  vim.api.nvim_feedkeys(keys, 'x', false)
  local after = vim.api.nvim_buf_get_lines(buf, 6, 7, false)[1]
  if fake then
    -- The item "name)" replaces the ")" after the cursor: CompleteDone removed it.
    eq(after, '\tfmt.Println(name)', 'line 7 after accepting the completion')
  end
  report('# line 7: ' .. vim.inspect(after))
  vim.api.nvim_buf_set_lines(buf, 6, 7, false, { before })
end)

test(':DfimFill applies the first suggestion at the cursor', function()
  if not client then
    skip('no client')
  end
  vim.api.nvim_win_set_cursor(0, { 7, 13 })
  local before = vim.api.nvim_buf_get_lines(0, 6, 7, false)[1]
  vim.cmd('DfimFill')
  local after = vim.api.nvim_buf_get_lines(0, 6, 7, false)[1]
  if fake then
    eq(after, '\tfmt.Println(name)', 'line 7 after :DfimFill')
  elseif after == before then
    report('# the built-in model offered nothing here')
  else
    assert(after:sub(1, 13) == '\tfmt.Println(', 'the text before the cursor changed: ' .. after)
  end
  report('# line 7: ' .. vim.inspect(after))
end)

-- Runs a command through the plugin and waits for the server's answer.
local function run(start)
  local done, err = false, nil
  local shown = #messages
  if not start(function(e)
    done, err = true, e
  end) then
    error('the command did not start: ' .. table.concat(messages, ' | '))
  end
  assert(vim.wait(answer_ms, function()
    return done
  end, 20), 'no answer in time')
  if err and err.code == -32601 then
    skip("this dfim server does not answer workspace/executeCommand yet (MethodNotFound)")
  end
  assert(not err, 'command failed: ' .. vim.inspect(err))
  return table.concat(vim.list_slice(messages, shown + 1), ' | ')
end

test(':DfimFillHoles rewrites the <<fill>> markers of the buffer', function()
  if not client then
    skip('no client')
  end
  -- e2efake fills with a call of e2e_fill: the file defines it, or the
  -- compile check (FillHoles writes only what compiles) refuses the fill.
  local text = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "dfim"\n\t<<fill>>\n\tfmt.Println(name)\n}\n'
    .. '\nfunc e2e_fill() {}\n'
  vim.cmd('edit ' .. vim.fn.fnameescape(write('holes.go', text)))
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.wait(answer_ms, function()
    return dfim.client(buf) ~= nil
  end, 20), 'dfim not attached to holes.go')
  local said = run(function(cb)
    return dfim.fill_holes(buf, cb)
  end)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local joined = table.concat(lines, '\n')
  if fake then
    eq(lines[7], '\te2e_fill()', 'line 7 after :DfimFillHoles')
  elseif joined:find('<<fill>>', 1, true) then
    assert(said:find('not filled'), 'markers left and no message saying why: ' .. said)
    report('# not filled: ' .. said)
    return
  end
  assert(not joined:find('<<fill>>', 1, true), 'markers left: ' .. joined)
  eq(lines[1], 'package main', 'line 1')
  eq(lines[#lines - 3], '\tfmt.Println(name)', 'the line after the hole')
  report('# filled: ' .. vim.inspect(lines[7]))
end)

test(":'<,'>DfimFill regenerates the selected lines, the rest kept", function()
  if not client then
    skip('no client')
  end
  local text = 'package main\n\nfunc add(a, b int) int {\n\treturn a - b\n}\n\nfunc e2e_fill() {}\n' -- e2efake's fill compiles
  vim.cmd('edit ' .. vim.fn.fnameescape(write('select.go', text)))
  local buf = vim.api.nvim_get_current_buf()
  assert(vim.wait(answer_ms, function()
    return dfim.client(buf) ~= nil
  end, 20), 'dfim not attached to select.go')
  local said = run(function(cb)
    return dfim.fill_selection(4, 4, buf, cb)
  end)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  eq(lines[3], 'func add(a, b int) int {', 'the line before the selection')
  eq(lines[#lines - 2], '}', 'the line after the selection')
  if fake then
    eq(lines[4], 'e2e_fill()', 'line 4 after the fill')
  elseif lines[4] == '\treturn a - b' then
    assert(said:find('not filled'), 'unchanged and no message saying why: ' .. said)
  end
end)

test(':DfimStatus names the server, the engine and the last latency', function()
  if not client then
    skip('no client')
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(main))
  local text = table.concat(dfim.status_lines(), '\n')
  assert(text:find('server dfim', 1, true), text)
  assert(text:find('engine ' .. (engine ~= '' and engine or 'native'), 1, true), text)
  assert(text:find('last request: %d+ ms'), text)
  assert(dfim.status():match('^dfim %d+ ms$'), dfim.status())
  vim.cmd('DfimStatus') -- must not raise
end)

local function preview_marks(buf)
  return vim.api.nvim_buf_get_extmarks(buf, dfim.preview_info().namespace, 0, -1, { details = true })
end

-- The text of an extmark's overlay (trailing padding dropped) and virt_lines.
local function mark_text(mark)
  local d = mark[4]
  local parts = {}
  for _, c in ipairs(d.virt_text or {}) do
    table.insert(parts, c[1])
  end
  local out = { (table.concat(parts):gsub('%s+$', '')) }
  for _, l in ipairs(d.virt_lines or {}) do
    local p = {}
    for _, c in ipairs(l) do
      table.insert(p, c[1])
    end
    table.insert(out, table.concat(p))
  end
  return table.concat(out, '\n'), d
end

local preview_buf, previewed
test('older Neovim: a pause in insert mode draws the first suggestion as virtual text', function()
  if not client then
    skip('no client')
  end
  if vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    skip('Neovim 0.12+ shows inline completions instead')
  end
  local text = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "dfim"\n\tfmt.Println()\n}\n'
  vim.cmd('edit ' .. vim.fn.fnameescape(write('preview.go', text)))
  preview_buf = vim.api.nvim_get_current_buf()
  assert(await(answer_ms, function()
    return dfim.client(preview_buf) ~= nil
  end), 'dfim not attached to preview.go')
  local answers = dfim.preview_info().answers
  vim.api.nvim_win_set_cursor(0, { 7, 13 }) -- on the ")"
  feed('i')
  assert(await(answer_ms, function()
    return dfim.preview_info().answers > answers or dfim.preview_text() ~= nil
  end), 'no answer to the preview request in time')
  eq(vim.api.nvim_get_mode().mode, 'i', 'mode')
  local marks = preview_marks(preview_buf)
  if #marks == 0 then
    if fake then
      error('no preview from the e2efake engine, which always fills: ' .. table.concat(messages, ' | '))
    end
    report('# the built-in model offered nothing here (or nothing above minConfidence)')
    return
  end
  eq(#marks, 1, 'preview extmarks')
  local got, d = mark_text(marks[1])
  -- Never a preview that changes nothing: the ")" over the ")" after the
  -- cursor, which <Tab> would "accept" leaving the line as it was.
  assert(got ~= ')', 'a preview that changes nothing was drawn: ' .. vim.inspect(got))
  eq(marks[1][2] .. ':' .. marks[1][3], '6:13', 'extmark position (row:col, 0-based)')
  eq(d.virt_text_pos, 'overlay', 'virt_text_pos')
  eq(d.virt_text[1][2], 'Comment', 'highlight of the fill')
  eq(got, dfim.preview_text(), 'preview_text()')
  if fake then
    -- "name)" replaces the ")" after the cursor: the overlay shows the new line's end.
    eq(got, 'name)', 'preview text')
  end
  eq(vim.api.nvim_buf_get_lines(preview_buf, 6, 7, false)[1], '\tfmt.Println()', 'the buffer is unchanged')
  previewed = got
  report('# preview: ' .. vim.inspect(got))
end)

test('moving the cursor clears the preview; it comes back after a pause', function()
  if not previewed then
    skip('no preview shown')
  end
  feed('<Left>')
  assert(await(5000, function()
    for _, m in ipairs(preview_marks(preview_buf)) do
      if m[3] == 13 then
        return false
      end
    end
    return true
  end), 'the preview at column 13 is still there after <Left>')
  feed('<Right>')
  assert(await(answer_ms, function()
    local m = preview_marks(preview_buf)[1]
    return m ~= nil and m[3] == 13 and dfim.preview_text() ~= nil
  end), 'no preview back at column 13 after <Right>')
  if fake then
    eq(dfim.preview_text(), 'name)', 'preview text')
  end
end)

test('<Tab> accepts the preview: the buffer has the fill, the cursor after it', function()
  if not previewed or not dfim.preview_text() then
    skip('no preview shown')
  end
  local want = dfim.preview_text()
  -- What the overlay draws in the fill's highlight: the fill's first line
  -- (on one line, the rest of the line follows it); virt_lines the others.
  local d = preview_marks(preview_buf)[1][4]
  local fill_first, more = d.virt_text[1][1], #(d.virt_lines or {})
  feed('<Tab>')
  assert(await(5000, function()
    return vim.api.nvim_buf_get_lines(preview_buf, 6, 7, false)[1] ~= '\tfmt.Println()'
  end), 'line 7 unchanged after <Tab>')
  local line = vim.api.nvim_buf_get_lines(preview_buf, 6, 7, false)[1]
  local cursor = vim.api.nvim_win_get_cursor(0)
  if fake then
    eq(line, '\tfmt.Println(name)', 'line 7 after <Tab>')
  end
  eq(#vim.api.nvim_buf_get_lines(preview_buf, 0, -1, false), 8 + more, 'line count')
  if more == 0 then
    eq(line, '\tfmt.Println(' .. want, 'line 7 after <Tab>')
    -- After the fill, before what it kept of the line (the ")" unless it replaced it).
    eq(table.concat(cursor, ':'), '7:' .. (13 + #fill_first), 'cursor (after the fill)')
  else
    -- A fill of several lines (the built-in model's, drawn with tabs as spaces).
    eq(line, '\tfmt.Println(' .. fill_first, 'line 7 after <Tab>')
    eq(cursor[1], 7 + more, 'cursor line (the last of the fill)')
  end
  eq(vim.api.nvim_get_mode().mode, 'i', 'still in insert mode')
end)

test('leaving insert mode clears the preview; without one <Tab> types a tab', function()
  if not preview_buf then
    skip('no preview buffer')
  end
  feed('<Esc>')
  assert(await(5000, function()
    return vim.api.nvim_get_mode().mode == 'n'
  end), 'still in insert mode after <Esc>')
  eq(#preview_marks(preview_buf), 0, 'preview extmarks after <Esc>')
  eq(dfim.preview_info().pending, false, 'a preview request pending after <Esc>')
  -- In one go, before any pause: no preview exists when <Tab> arrives.
  -- The file as it was before <Tab> accepted a fill (of one line or several).
  vim.api.nvim_buf_set_lines(preview_buf, 0, -1, false, vim.split(
    'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "dfim"\n\tfmt.Println(name)\n}', '\n'))
  vim.api.nvim_win_set_cursor(0, { 8, 0 })
  feed('O<Tab>x<Esc>')
  assert(await(5000, function()
    return vim.api.nvim_get_mode().mode == 'n' and #vim.api.nvim_buf_get_lines(preview_buf, 0, -1, false) == 9
  end), 'O<Tab>x<Esc> did not finish: mode ' .. vim.api.nvim_get_mode().mode .. ', lines '
    .. vim.inspect(vim.api.nvim_buf_get_lines(preview_buf, 0, -1, false)))
  eq(vim.api.nvim_buf_get_lines(preview_buf, 7, 8, false)[1], '\tx', 'line 8: <Tab> typed a tab')
  eq(#preview_marks(preview_buf), 0, 'preview extmarks in normal mode')
end)

test('a multi-line preview: virt_lines with tabs drawn as spaces, <Tab> inserts every line; typing clears it', function()
  if not preview_buf then
    skip('no preview buffer')
  end
  local delay = dfim.config.preview_delay_ms
  dfim.config.preview_delay_ms = 600000 -- no answer of the server in between
  vim.api.nvim_buf_set_lines(preview_buf, 0, -1, false,
    { 'package main', '', 'func f(name string) {', '\tif name', '}' })
  vim.api.nvim_win_set_cursor(0, { 4, 0 })
  feed('A')
  assert(await(5000, function()
    return vim.api.nvim_get_mode().mode == 'i'
  end), 'not in insert mode')
  local pos = { line = 3, character = 8 }
  local item = { insertText = ' == "" {\n\t\treturn\n\t}', range = { start = pos, ['end'] = pos } }
  assert(dfim._preview_draw(item), 'the item was not drawn')
  local marks = preview_marks(preview_buf)
  eq(#marks, 1, 'preview extmarks')
  local got, d = mark_text(marks[1])
  -- Never a preview that changes nothing: the ")" over the ")" after the
  -- cursor, which <Tab> would "accept" leaving the line as it was.
  assert(got ~= ')', 'a preview that changes nothing was drawn: ' .. vim.inspect(got))
  eq(got, ' == "" {\n                return\n        }', 'overlay and virt_lines (tabstop 8)')
  eq(d.virt_lines[1][1][2], 'Comment', 'highlight of the virt_lines')
  feed('<Tab>')
  assert(await(5000, function()
    return #vim.api.nvim_buf_get_lines(preview_buf, 0, -1, false) == 7
  end), 'not inserted: ' .. vim.inspect(vim.api.nvim_buf_get_lines(preview_buf, 0, -1, false)))
  eq(table.concat(vim.api.nvim_buf_get_lines(preview_buf, 0, -1, false), '\n'),
    'package main\n\nfunc f(name string) {\n\tif name == "" {\n\t\treturn\n\t}\n}', 'the buffer after <Tab>')
  eq(table.concat(vim.api.nvim_win_get_cursor(0), ':'), '6:2', 'cursor (after the fill)')
  pos = { line = 5, character = 2 }
  assert(dfim._preview_draw({ insertText = '\n\treturn', range = { start = pos, ['end'] = pos } }), 'second item not drawn')
  feed('z')
  assert(await(5000, function()
    return #preview_marks(preview_buf) == 0
  end), 'the preview is still drawn after typing')
  eq(vim.api.nvim_buf_get_lines(preview_buf, 5, 6, false)[1], '\t}z', 'line 6 after typing z')
  feed('<Esc>')
  assert(await(5000, function()
    return vim.api.nvim_get_mode().mode == 'n'
  end), 'still in insert mode')
  dfim.config.preview_delay_ms = delay
end)

test(':DfimPull reports a failed pull (the real dfim, offline, empty cache) and keeps the model', function()
  local env = { HF_HUB_OFFLINE = vim.env.HF_HUB_OFFLINE, XDG_CACHE_HOME = vim.env.XDG_CACHE_HOME }
  vim.env.HF_HUB_OFFLINE, vim.env.XDG_CACHE_HOME = '1', workdir .. '/cache'
  local result
  dfim.pull('open-dcoder-0.5b', function(ok, msg)
    result = { ok = ok, msg = msg }
  end)
  await(30000, function()
    return result ~= nil
  end)
  vim.env.HF_HUB_OFFLINE, vim.env.XDG_CACHE_HOME = env.HF_HUB_OFFLINE, env.XDG_CACHE_HOME
  assert(result, 'the pull never ended')
  eq(result.ok, false, 'ok')
  assert(result.msg:find('HF_HUB_OFFLINE', 1, true), 'message: ' .. result.msg)
  eq(dfim.config.settings.model, settings.model, 'settings.model after a failed pull')
end)

test(':DfimPull switches settings.model to the pulled name', function()
  -- A stand-in for dfim that only knows `model pull NAME`.
  local fake = write('fake-dfim', '#!/bin/sh\n[ "$1 $2" = "model pull" ] || exit 2\n' ..
    'echo "model.gguf ok (1 kB) in 1ms, 1 MB/s" >&2\nprintf "%s\\t/tmp/x.gguf\\n" "$3"\n')
  vim.fn.setfperm(fake, 'rwxr-xr-x')
  local cmd, old = dfim.config.cmd, vim.deepcopy(dfim.config.settings)
  dfim.config.cmd = { fake, 'serve' }
  local result
  dfim.pull('tiny-test', function(ok, msg)
    result = { ok = ok, msg = msg }
  end)
  await(30000, function()
    return result ~= nil
  end)
  dfim.config.cmd = cmd
  local got = dfim.config.settings.model
  dfim.config.settings = old
  assert(result and result.ok, 'pull failed: ' .. vim.inspect(result))
  eq(got, 'tiny-test', 'settings.model')
  assert(vim.tbl_contains(messages, 'dfim: pull tiny-test: model.gguf ok (1 kB) in 1ms, 1 MB/s'),
    'no progress line among ' .. vim.inspect(messages))
end)

test('the server shuts down cleanly when the client stops', function()
  if not client then
    skip('no client')
  end
  local id = client.id
  vim.lsp.stop_client(id)
  -- A client is forgotten once its server process has exited.
  assert(vim.wait(15000, function()
    return vim.lsp.get_client_by_id(id) == nil
  end, 50), 'the server did not exit after shutdown')
end)

report('1..' .. n)
vim.cmd(failed > 0 and 'cquit 1' or 'qall!')
end

local ok, err = coroutine.resume(coroutine.create(main_tests))
if not ok then
  report('not ok - the test runner failed: ' .. tostring(err))
  vim.cmd('cquit 1')
end
