package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.uber.org/zap"
)

// maxFrame is the largest message read into memory; a larger one is skipped.
// It is well above the document size limit so that an oversized didOpen is
// still read, recorded as too large, and answered with empty results.
const maxFrame = 256 << 20

// stream frames LSP messages (Content-Length headers) like jsonrpc2.NewStream,
// but a frame that is not a valid JSON-RPC message is answered with a
// ParseError and skipped instead of ending the connection: jsonrpc2.Conn
// closes the connection on any read error.
type stream struct {
	rwc io.ReadWriteCloser
	in  *bufio.Reader
	log *zap.Logger

	// writeMu guards writes to rwc: both Conn and Read (for parse errors) write.
	writeMu sync.Mutex
}

func newStream(rwc io.ReadWriteCloser, log *zap.Logger) *stream {
	return &stream{rwc: rwc, in: bufio.NewReaderSize(rwc, 64<<10), log: log}
}

// Read returns the next valid message. Its error ends the connection, so it
// returns one only when the transport fails.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for {
		data, n, err := s.readFrame()
		if err != nil {
			return nil, n, err
		}
		if data == nil {
			continue // bad header or oversized frame, already logged
		}
		msg, err := jsonrpc2.DecodeMessage(data)
		if err == nil {
			return msg, n, nil
		}
		s.log.Warn("malformed JSON-RPC message skipped", zap.Error(err), zap.Int("bytes", len(data)))
		s.writeRaw(parseErrorReply(err))
	}
}

// readFrame reads one frame. It returns nil data (and no error) for a frame
// it skipped.
func (s *stream) readFrame() ([]byte, int64, error) {
	var total int64
	length := int64(-1)
	for {
		line, err := s.in.ReadString('\n')
		total += int64(len(line))
		if err != nil {
			return nil, total, fmt.Errorf("reading message header: %w", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			if length >= 0 || total > 2 {
				break
			}
			continue // stray blank line between frames
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			s.log.Warn("malformed header line skipped", zap.String("line", line))
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || n < 0 {
				s.log.Warn("bad Content-Length header", zap.String("value", value))
				continue
			}
			length = n
		}
	}
	if length < 0 {
		s.log.Warn("message without Content-Length skipped")
		return nil, total, nil
	}
	if length > maxFrame {
		s.log.Warn("oversized message skipped", zap.Int64("bytes", length), zap.Int("limit", maxFrame))
		n, err := io.CopyN(io.Discard, s.in, length)
		total += n
		if err != nil {
			return nil, total, fmt.Errorf("skipping oversized message: %w", err)
		}
		return nil, total, nil
	}
	data := make([]byte, length)
	if _, err := io.ReadFull(s.in, data); err != nil {
		return nil, total, fmt.Errorf("reading message body: %w", err)
	}
	return data, total + length, nil
}

func parseErrorReply(err error) []byte {
	b, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0",
		"id":      nil,
		"error":   map[string]any{"code": jsonrpc2.ParseError, "message": "dfim: cannot parse message: " + err.Error()},
	})
	return b
}

// Write sends msg. It ignores ctx being done: a reply must still go out
// after the request it answers was cancelled.
func (s *stream) Write(_ context.Context, msg jsonrpc2.Message) (int64, error) {
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("marshaling message: %w", err)
	}
	return s.writeRaw(data)
}

func (s *stream) writeRaw(data []byte) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n, err := fmt.Fprintf(s.rwc, "Content-Length: %d\r\n\r\n%s", len(data), data)
	if err != nil {
		return int64(n), fmt.Errorf("writing message: %w", err)
	}
	return int64(n), nil
}

func (s *stream) Close() error { return s.rwc.Close() }
