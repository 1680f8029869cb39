package lsp

import (
	"strings"
	"sync"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// messageTypeDebug is LSP 3.18's MessageType.Debug, which
// go.lsp.dev/protocol lacks. Clients that predate it log it as they log
// any type they do not know (VS Code: as a plain line).
const messageTypeDebug protocol.MessageType = 5

// clientLog sends the session's log entries to the client as
// window/logMessage, each with its level, once the client has sent
// initialize; before that, and when a notification cannot be sent (the
// connection is gone), entries go to the core it wraps (stderr or the log
// file). An editor that shows a server's stderr as errors then shows dfim's
// log with its levels, as it shows other language servers'.
type clientLog struct {
	// mu guards send.
	mu   sync.Mutex
	send func(protocol.MessageType, string) error // nil: not attached
}

// attach starts forwarding entries through send.
func (l *clientLog) attach(send func(protocol.MessageType, string) error) {
	l.mu.Lock()
	l.send = send
	l.mu.Unlock()
}

// detach sends entries to the wrapped core again.
func (l *clientLog) detach() { l.attach(nil) }

func (l *clientLog) sender() func(protocol.MessageType, string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.send
}

// wrap is a zap.WrapCore for the session's logger.
func (l *clientLog) wrap(base zapcore.Core) zapcore.Core {
	// The client stamps time and level; the message keeps the logger's name and fields.
	cfg := zap.NewDevelopmentEncoderConfig()
	cfg.TimeKey, cfg.LevelKey, cfg.CallerKey, cfg.StacktraceKey = "", "", "", ""
	return &clientLogCore{log: l, base: base, enc: zapcore.NewConsoleEncoder(cfg)}
}

// clientLogCore is the zapcore.Core of clientLog: base decides the level
// (it follows the logLevel setting) and takes the entries the client cannot.
type clientLogCore struct {
	log  *clientLog
	base zapcore.Core
	enc  zapcore.Encoder // holds the fields of With
}

func (c *clientLogCore) Enabled(l zapcore.Level) bool { return c.base.Enabled(l) }

func (c *clientLogCore) With(fields []zapcore.Field) zapcore.Core {
	enc := c.enc.Clone()
	for _, f := range fields {
		f.AddTo(enc)
	}
	return &clientLogCore{log: c.log, base: c.base.With(fields), enc: enc}
}

func (c *clientLogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *clientLogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	send := c.log.sender()
	if send == nil {
		return c.base.Write(e, fields)
	}
	buf, err := c.enc.EncodeEntry(e, fields)
	if err != nil {
		return c.base.Write(e, fields)
	}
	text := strings.TrimRight(buf.String(), "\n")
	buf.Free()
	if send(messageType(e.Level), text) != nil {
		return c.base.Write(e, fields)
	}
	return nil
}

func (c *clientLogCore) Sync() error { return c.base.Sync() }

// messageType is the window/logMessage type of a zap level.
func messageType(l zapcore.Level) protocol.MessageType {
	switch {
	case l >= zapcore.ErrorLevel:
		return protocol.MessageTypeError
	case l == zapcore.WarnLevel:
		return protocol.MessageTypeWarning
	case l == zapcore.InfoLevel:
		return protocol.MessageTypeInfo
	}
	return messageTypeDebug
}

// sendLog is clientLog's send for this session. It writes the notification
// itself rather than through notify, which logs a failure: that would
// come back here.
func (s *Server) sendLog(typ protocol.MessageType, text string) error {
	return s.conn.Notify(s.ctx, protocol.MethodWindowLogMessage, &protocol.LogMessageParams{Type: typ, Message: text})
}
