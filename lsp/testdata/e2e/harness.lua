-- What the headless-Neovim end-to-end scripts (nvim.lua, nes.lua) share:
-- start `dfim serve` on a Go file with Neovim's built-in LSP client (0.7+:
-- vim.lsp.start_client and buf_attach_client), run a check, write its JSON
-- report to DFIM_OUT and exit 0 on success, 1 on failure. The Go test sets
-- DFIM_BIN, DFIM_ARGS (serve flags, space-separated), DFIM_FILE and
-- DFIM_OUT. A script loads it with dofile from its own folder.
local M = {}

local function finish(report)
  local f = assert(io.open(os.getenv('DFIM_OUT'), 'w'))
  f:write(vim.fn.json_encode(report))
  f:close()
  vim.cmd(report.ok and 'qall!' or 'cquit! 1')
end

-- run opens DFIM_FILE as Go, starts the server with init_options, waits for
-- it to initialize and calls check(buf, id). The report check returns gets
-- ok (the server exited 0 after shutdown) and exit_code; an error becomes
-- { ok = false, error = ... }.
function M.run(init_options, check)
  local ok, res = pcall(function()
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
      init_options = init_options,
      on_init = function() ready = true end,
      on_exit = function(code) exit_code = code end,
    })
    assert(id, 'start_client failed')
    assert(vim.lsp.buf_attach_client(buf, id), 'buf_attach_client failed')
    assert(vim.wait(60000, function() return ready end, 20), 'server did not initialize in 60s')

    local report = check(buf, id)

    vim.lsp.stop_client(id)
    assert(vim.wait(10000, function() return exit_code ~= nil end, 20), 'server did not exit after shutdown')
    report.ok, report.exit_code = exit_code == 0, exit_code
    return report
  end)
  if ok then
    finish(res)
  else
    finish({ ok = false, error = tostring(res) })
  end
end

return M
