//! Zed extension for dfim: registers `dfim serve` as a language server.
//! Zed starts only language servers that an extension registers; this one
//! finds `dfim` on the worktree's PATH (or `lsp.dfim.binary.path`) and
//! passes `lsp.dfim.initialization_options` through to the server.

use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result};

struct Dfim;

impl zed::Extension for Dfim {
    fn new() -> Self {
        Dfim
    }

    fn language_server_command(&mut self, id: &LanguageServerId, worktree: &zed::Worktree) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree(id.as_ref(), worktree).ok().and_then(|s| s.binary);
        let path = binary
            .as_ref()
            .and_then(|b| b.path.clone())
            .or_else(|| worktree.which("dfim"))
            .ok_or_else(|| "dfim not found on PATH: install it, or set lsp.dfim.binary.path in settings.json".to_string())?;
        let args = binary
            .as_ref()
            .and_then(|b| b.arguments.clone())
            .unwrap_or_else(|| vec!["serve".to_string()]);
        Ok(zed::Command { command: path, args, env: worktree.shell_env() })
    }

    fn language_server_initialization_options(
        &mut self,
        id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        Ok(LspSettings::for_worktree(id.as_ref(), worktree).ok().and_then(|s| s.initialization_options))
    }
}

zed::register_extension!(Dfim);
