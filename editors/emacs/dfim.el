;;; dfim.el --- dfim completions in Emacs through Eglot  -*- lexical-binding: t; -*-

;; Load it from your init file:  (load "/path/to/dfim/editors/emacs/dfim.el")
;; then M-x eglot in a Go, Python, ... buffer (or add `eglot-ensure' to the
;; mode's hook).  Eglot runs one server per buffer, so for these modes dfim
;; takes the place of gopls, pylsp, ...: completion-at-point (C-M-i, or
;; company/corfu) offers dfim's fills.  To run dfim beside them (the rass
;; multiplexer, or lsp-mode's add-on servers), see editors/README.md, Emacs.
;;
;; M-x dfim-fill-holes fills every <<fill>> (or <<fill:N>>) marker of the
;; buffer; M-x dfim-fill-region regenerates the region.  Eglot asks before
;; applying a server's edit unless `eglot-confirm-server-initiated-edits'
;; (`eglot-confirm-server-edits' in Emacs 30) is nil.
;;
;; Works with Eglot 1.9 (Debian's elpa-eglot, Emacs 28) and Emacs 29+.

;;; Code:

(require 'eglot)

(defvar dfim-program '("dfim" "serve")
  "The command that runs dfim's language server; a full path if dfim is not on PATH.")

(defvar dfim-initialization-options '(:invokedDebounceMs 0)
  "Settings sent to dfim as initializationOptions, e.g.
\(:engine \"native\" :model \"/models/x.gguf\" :steps 8 :maxTokens 64), or for a
remote engine \(:engine \"openai\" :endpoint \"http://127.0.0.1:8080\"
:remoteModel \"qwen2.5-coder:1.5b\" :timeoutMs 30000); the API key comes from
OPENAI_API_KEY or INCEPTION_API_KEY in the server's environment.
Booleans such as :crossFileContext need :json-false for false.")

(defvar dfim-modes
  '(go-mode go-ts-mode python-mode python-ts-mode js-mode js-ts-mode
    typescript-mode typescript-ts-mode tsx-ts-mode rust-mode rust-ts-mode
    c-mode c-ts-mode c++-mode c++-ts-mode java-mode java-ts-mode
    ruby-mode ruby-ts-mode sh-mode bash-ts-mode lua-mode)
  "Major modes whose buffers Eglot serves with dfim.")

(defun dfim-register ()
  "Put dfim first in `eglot-server-programs' for `dfim-modes'."
  (dolist (mode (reverse dfim-modes))
    (add-to-list 'eglot-server-programs
                 `(,mode . (,@dfim-program :initializationOptions ,dfim-initialization-options)))))

(dfim-register)

(defun dfim--server ()
  (or (eglot-current-server)
      (user-error "dfim: no language server in this buffer; run M-x eglot first")))

(defun dfim--uri ()
  (unless buffer-file-name
    (user-error "dfim: this buffer visits no file"))
  (funcall (if (fboundp 'eglot-path-to-uri) 'eglot-path-to-uri 'eglot--path-to-uri)
           buffer-file-name))

(defvar dfim-command-timeout 120
  "Seconds to wait for a fill command (a large model on a CPU is slow).")

(defun dfim--execute (command argument)
  ;; The server answers after Emacs has applied its workspace/applyEdit.
  (jsonrpc-request (dfim--server) :workspace/executeCommand
                   (list :command command :arguments (vector argument))
                   :timeout dfim-command-timeout))

(defun dfim-fill-holes ()
  "Fill every <<fill>> marker of this buffer; dfim edits it through Eglot."
  (interactive)
  (dfim--execute "dfim.fillHoles" (list :uri (dfim--uri))))

(defun dfim-fill-region (beg end)
  "Regenerate the text between BEG and END from what surrounds it."
  (interactive "r")
  (dfim--execute "dfim.fillSelection"
                 (list :uri (dfim--uri)
                       :range (list :start (eglot--pos-to-lsp-position beg)
                                    :end (eglot--pos-to-lsp-position end)))))

(provide 'dfim)
;;; dfim.el ends here
