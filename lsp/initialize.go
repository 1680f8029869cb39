package lsp

import (
	"crypto/subtle"
	"encoding/json"
	"slices"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// initializeParams is the part of InitializeParams dfim reads, including
// LSP 3.17's general.positionEncodings that go.lsp.dev/protocol lacks.
type initializeParams struct {
	ClientInfo            *protocol.ClientInfo `json:"clientInfo"`
	InitializationOptions json.RawMessage      `json:"initializationOptions"`
	RootURI               string               `json:"rootUri"`
	RootPath              string               `json:"rootPath"` // deprecated; older clients
	WorkspaceFolders      []struct {
		URI string `json:"uri"`
	} `json:"workspaceFolders"`
	Capabilities struct {
		General struct {
			PositionEncodings []Encoding `json:"positionEncodings"`
		} `json:"general"`
		Window struct {
			WorkDoneProgress bool `json:"workDoneProgress"`
		} `json:"window"`
		Workspace struct {
			Configuration bool `json:"configuration"`
			WorkspaceEdit struct {
				DocumentChanges bool `json:"documentChanges"`
			} `json:"workspaceEdit"`
		} `json:"workspace"`
	} `json:"capabilities"`
}

type serverCapabilities struct {
	PositionEncoding         Encoding                          `json:"positionEncoding"`
	TextDocumentSync         *protocol.TextDocumentSyncOptions `json:"textDocumentSync"`
	CompletionProvider       *protocol.CompletionOptions       `json:"completionProvider"`
	InlineCompletionProvider *InlineCompletionOptions          `json:"inlineCompletionProvider"`
	ExecuteCommandProvider   *protocol.ExecuteCommandOptions   `json:"executeCommandProvider"`
}

type initializeResult struct {
	Capabilities serverCapabilities   `json:"capabilities"`
	ServerInfo   *protocol.ServerInfo `json:"serverInfo,omitempty"`
}

// initialize negotiates the position encoding (utf-8 when offered) and
// takes settings from initializationOptions. It runs on the read loop, so its
// reply is written before a following exit is read.
func (s *Server) initialize(r *request) {
	var p initializeParams
	if err := decode(r.params, &p); err != nil {
		r.respond(nil, err)
		return
	}
	if s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(clientToken(p.InitializationOptions)), []byte(s.opts.Token)) != 1 {
		s.log.Warn("initialize without the shared token refused; closing the connection")
		r.respond(nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest,
			"dfim: this server needs its shared token as initializationOptions.token"))
		s.conn.Close()
		return
	}
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		r.respond(nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "dfim: initialize sent twice"))
		return
	}
	s.enc = UTF16
	if slices.Contains(p.Capabilities.General.PositionEncodings, UTF8) {
		s.enc = UTF8
	}
	s.progressOK = p.Capabilities.Window.WorkDoneProgress
	s.docChangesOK = p.Capabilities.Workspace.WorkspaceEdit.DocumentChanges
	s.configPull = p.Capabilities.Workspace.Configuration
	s.indexRoot = workspaceRoot(&p)
	enc := s.enc
	s.state = stateInitialized
	s.mu.Unlock()
	if s.opts.OnInitialize != nil {
		s.opts.OnInitialize()
	}
	if s.clientLog != nil {
		// The specification lets window/logMessage go during initialize.
		s.clientLog.attach(s.sendLog)
	}

	client := ""
	if p.ClientInfo != nil {
		client = p.ClientInfo.Name + " " + p.ClientInfo.Version
	}
	s.log.Info("initialize", zap.String("client", client), zap.String("positionEncoding", string(enc)),
		zap.String("root", workspaceRoot(&p)))
	r.respond(&initializeResult{
		Capabilities: serverCapabilities{
			PositionEncoding: enc,
			TextDocumentSync: &protocol.TextDocumentSyncOptions{
				OpenClose: true,
				Change:    protocol.TextDocumentSyncKindIncremental,
				Save:      &protocol.SaveOptions{},
			},
			CompletionProvider:       &protocol.CompletionOptions{TriggerCharacters: []string{".", "("}},
			InlineCompletionProvider: &InlineCompletionOptions{},
			ExecuteCommandProvider:   &protocol.ExecuteCommandOptions{Commands: commands},
		},
		ServerInfo: &protocol.ServerInfo{Name: "dfim", Version: s.opts.Version},
	}, nil)
	// Settings go after the reply: a bad one is reported with showMessage,
	// which clients accept only once initialized.
	s.applySettings(p.InitializationOptions)
}

// clientToken is the "token" of initializationOptions (at the top level or
// under "dfim"), or "".
func clientToken(raw json.RawMessage) string {
	var opts struct {
		Token string `json:"token"`
		DFIM  struct {
			Token string `json:"token"`
		} `json:"dfim"`
	}
	if json.Unmarshal(raw, &opts) != nil {
		return ""
	}
	if opts.Token != "" {
		return opts.Token
	}
	return opts.DFIM.Token
}

// initialized starts loading the engine and indexing the workspace, with
// progress the client can show. A client that answers
// workspace/configuration is asked for its settings first, so that the
// engine it names is the one loaded (and no index is built when it turned
// crossFileContext off).
func (s *Server) initialized(*request) {
	s.mu.Lock()
	pull := s.configPull
	s.mu.Unlock()
	if !pull {
		s.ensureLoading()
		s.startIndex()
		return
	}
	go func() {
		s.pullSettings()
		s.ensureLoading()
		s.startIndex()
	}()
}
