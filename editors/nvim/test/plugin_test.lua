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
  local text = 'package main\n\nimport "fmt"\n\nfunc main() {\n\tname := "dfim"\n\t<<fill>>\n\tfmt.Println(name)\n}\n'
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
  eq(lines[#lines - 1], '\tfmt.Println(name)', 'the line after the hole')
  report('# filled: ' .. vim.inspect(lines[7]))
end)

test(":'<,'>DfimFill regenerates the selected lines, the rest kept", function()
  if not client then
    skip('no client')
  end
  local text = 'package main\n\nfunc add(a, b int) int {\n\treturn a - b\n}\n'
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
  eq(lines[#lines], '}', 'the line after the selection')
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
