package models

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// DefaultEndpoint is the Hugging Face Hub; HF_ENDPOINT replaces it (a
// mirror, or a test's stand-in).
const DefaultEndpoint = "https://huggingface.co"

// A Hub talks to the Hugging Face Hub's HTTP API.
type Hub struct {
	Endpoint string // scheme://host[:port][/path], no trailing slash
	// Token is sent as "Authorization: Bearer" to Endpoint's host and to
	// no other: a redirect to another host (the Hub's CDN) goes without it.
	Token string
	// Offline (HF_HUB_OFFLINE=1) allows the cache only: any request is an
	// error.
	Offline bool
	// Client is the transport; nil: http.DefaultTransport. Its
	// CheckRedirect is replaced.
	Client *http.Client
}

// HubFromEnv reads HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE.
func HubFromEnv(getenv func(string) string) *Hub {
	h := &Hub{Endpoint: strings.TrimRight(getenv("HF_ENDPOINT"), "/"), Token: strings.TrimSpace(getenv("HF_TOKEN"))}
	if h.Endpoint == "" {
		h.Endpoint = DefaultEndpoint
	}
	switch strings.ToLower(getenv("HF_HUB_OFFLINE")) {
	case "1", "true", "yes", "on":
		h.Offline = true
	}
	return h
}

// ErrOffline is returned (wrapped) when HF_HUB_OFFLINE forbids a request.
var ErrOffline = errors.New("HF_HUB_OFFLINE is set")

// ErrChecksum is returned (wrapped) when a downloaded file's hash is not
// the one the Hub published.
var ErrChecksum = errors.New("checksum mismatch")

// A RemoteFile is one file of a repository at a commit.
type RemoteFile struct {
	Path   string
	Size   int64
	SHA256 string // LFS files: the sha256 of the content
	GitSHA string // the git blob id (sha1 of "blob SIZE\x00" + content); checked for files not in LFS
}

// Hash is the file's content address in the cache: the LFS sha256, else
// the git blob sha1.
func (f RemoteFile) Hash() string {
	if f.SHA256 != "" {
		return f.SHA256
	}
	return f.GitSHA
}

// client is h.Client with the redirect policy that keeps the token on the
// endpoint's host.
func (h *Hub) client() *http.Client {
	c := &http.Client{}
	if h.Client != nil {
		*c = *h.Client
	}
	host := h.host()
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return fmt.Errorf("%s: more than 10 redirects", via[0].URL.Redacted())
		}
		// Go forwards Authorization to subdomains of the first host, and
		// the Hub's CDN is one; the token belongs to the endpoint alone.
		if req.URL.Host != host {
			req.Header.Del("Authorization")
		}
		return nil
	}
	return c
}

func (h *Hub) host() string {
	u, err := url.Parse(h.Endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

// get sends a GET to the endpoint with the token and the extra headers.
func (h *Hub) get(ctx context.Context, u string, header http.Header) (*http.Response, error) {
	if h.Offline {
		return nil, fmt.Errorf("%w: not fetching %s; unset HF_HUB_OFFLINE to download", ErrOffline, u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "dfim")
	if h.Token != "" && req.URL.Host == h.host() {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	return h.client().Do(req)
}

// statusError says what an HTTP failure from the Hub means for the user.
func (h *Hub) statusError(what string, resp *http.Response) error {
	msg := resp.Header.Get("X-Error-Message")
	if msg != "" {
		msg = " (" + msg + ")"
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "set HF_TOKEN to a Hugging Face token that may read it (gated models need their terms accepted on the Hub first)"
		if h.Token != "" {
			hint = "HF_TOKEN is set but may not read it: accept the model's terms on the Hub, or use a token with read access"
		}
		return fmt.Errorf("%s: %s%s; %s", what, resp.Status, msg, hint)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %s%s; check the repository name and revision", what, resp.Status, msg)
	}
	return fmt.Errorf("%s: %s%s", what, resp.Status, msg)
}

// revisionInfo is the part of /api/models/{repo}/revision/{rev}?blobs=true
// this package reads.
type revisionInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
		BlobID    string `json:"blobId"`
		Size      int64  `json:"size"`
		LFS       *struct {
			SHA256 string `json:"sha256"`
			Size   int64  `json:"size"`
		} `json:"lfs"`
	} `json:"siblings"`
}

// maxInfoBytes bounds the file list: metadata, not data.
const maxInfoBytes = 32 << 20

// Files lists repo's files at rev, with their sizes and hashes, and the
// commit rev resolves to.
func (h *Hub) Files(ctx context.Context, repo, rev string) (commit string, files []RemoteFile, err error) {
	u := h.Endpoint + "/api/models/" + repo + "/revision/" + url.PathEscape(rev) + "?blobs=true"
	what := fmt.Sprintf("listing the files of %s at %s", repo, rev)
	resp, err := h.get(ctx, u, nil)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", nil, h.statusError(what, resp)
	}
	var info revisionInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxInfoBytes)).Decode(&info); err != nil {
		return "", nil, fmt.Errorf("%s: reading the Hub's answer: %w", what, err)
	}
	if !isHex(info.SHA, 40) {
		return "", nil, fmt.Errorf("%s: the Hub gave no commit (sha %q)", what, info.SHA)
	}
	for _, s := range info.Siblings {
		if err := checkRepoPath(s.RFilename); err != nil {
			return "", nil, fmt.Errorf("%s: %v", what, err)
		}
		f := RemoteFile{Path: s.RFilename, Size: s.Size}
		if isHex(s.BlobID, 40) {
			f.GitSHA = strings.ToLower(s.BlobID)
		}
		if s.LFS != nil {
			if !isHex(s.LFS.SHA256, 64) {
				return "", nil, fmt.Errorf("%s: %s has no valid LFS sha256 (%q)", what, s.RFilename, s.LFS.SHA256)
			}
			f.SHA256, f.Size = strings.ToLower(s.LFS.SHA256), s.LFS.Size
		}
		files = append(files, f)
	}
	return strings.ToLower(info.SHA), files, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// resolveURL is where the Hub serves a file of repo at commit.
func (h *Hub) resolveURL(repo, commit, file string) string {
	segs := strings.Split(file, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return h.Endpoint + "/" + repo + "/resolve/" + commit + "/" + strings.Join(segs, "/")
}

// download fetches f into partial, resuming from what partial already
// holds, and checks its hash. On success partial holds the verified
// content; on an interruption it keeps what arrived, for the next try; on
// a hash mismatch it is removed.
func (h *Hub) download(ctx context.Context, repo, commit string, f RemoteFile, partial string, p Progress) error {
	out, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", f.Path, err)
	}
	defer out.Close()
	if err := lockPartial(out); err != nil {
		return fmt.Errorf("downloading %s: another dfim model pull is downloading it into %s (%v); wait for it to finish", f.Path, partial, err)
	}
	st, err := out.Stat()
	if err != nil {
		return err
	}
	have := st.Size()
	if have > f.Size {
		have = 0 // longer than the file: not a prefix of it
	}
	u := h.resolveURL(repo, commit, f.Path)
	var resp *http.Response
	for try := 0; ; try++ {
		hdr := http.Header{}
		if have > 0 {
			hdr.Set("Range", fmt.Sprintf("bytes=%d-", have))
		}
		if have == f.Size && f.Size > 0 {
			break // complete already: only the check is left
		}
		resp, err = h.get(ctx, u, hdr)
		if err != nil {
			return fmt.Errorf("downloading %s: %w", f.Path, err)
		}
		start, ok := int64(0), false
		switch resp.StatusCode {
		case http.StatusOK:
			start, ok = 0, true // Range ignored: the whole file comes
		case http.StatusPartialContent:
			start, ok = contentRangeStart(resp.Header.Get("Content-Range"))
			ok = ok && start == have
		case http.StatusRequestedRangeNotSatisfiable:
		default:
			err := h.statusError("downloading "+f.Path+" of "+repo, resp)
			resp.Body.Close()
			return err
		}
		if ok {
			have = start
			break
		}
		// The server answered a different range: start over, once.
		resp.Body.Close()
		resp = nil
		if try > 0 || have == 0 {
			return fmt.Errorf("downloading %s of %s: the server answered a range other than the one asked for", f.Path, repo)
		}
		have = 0
	}
	if err := out.Truncate(have); err != nil {
		return err
	}
	sum := newFileHash(f)
	if _, err := io.Copy(sum, io.NewSectionReader(out, 0, have)); err != nil {
		return fmt.Errorf("reading the partial download %s: %w", partial, err)
	}
	if p != nil {
		p.Start(f.Path, f.Size, have)
	}
	got := have
	if resp != nil {
		defer resp.Body.Close()
		if _, err := out.Seek(have, io.SeekStart); err != nil {
			return err
		}
		w := io.MultiWriter(out, sum, progressWriter{p})
		n, cerr := io.Copy(w, ctxReader{ctx, io.LimitReader(resp.Body, f.Size-have+1)})
		got += n
		if cerr == nil && got < f.Size {
			cerr = io.ErrUnexpectedEOF
		}
		if cerr != nil {
			if p != nil {
				p.Finish(cerr)
			}
			if ctx.Err() != nil {
				cerr = ctx.Err()
			}
			return fmt.Errorf("download of %s interrupted after %s of %s (%w); the part is kept: pull again to resume",
				f.Path, HumanBytes(got), HumanBytes(f.Size), cerr)
		}
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if got != f.Size || sum.hex() != f.Hash() {
		out.Close()
		os.Remove(partial)
		err := fmt.Errorf("%w: %s of %s@%s: got %d bytes with hash %s, want %d bytes with %s; the file was removed: pull again, and if it repeats the mirror (HF_ENDPOINT) or the repository is broken",
			ErrChecksum, f.Path, repo, commit, got, sum.hex(), f.Size, f.Hash())
		if p != nil {
			p.Finish(err)
		}
		return err
	}
	if p != nil {
		p.Finish(nil)
	}
	return nil
}

// contentRangeStart reads the first byte of "bytes START-END/TOTAL".
func contentRangeStart(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil
}

// fileHash computes the hash the Hub published for a file: sha256 of an
// LFS file, the git blob sha1 otherwise.
type fileHash struct{ hash.Hash }

func newFileHash(f RemoteFile) fileHash {
	if f.SHA256 != "" {
		return fileHash{sha256.New()}
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", f.Size)
	return fileHash{h}
}

func (h fileHash) hex() string { return hex.EncodeToString(h.Sum(nil)) }

type progressWriter struct{ p Progress }

func (w progressWriter) Write(b []byte) (int, error) {
	if w.p != nil {
		w.p.Advance(int64(len(b)))
	}
	return len(b), nil
}

// ctxReader stops a copy as soon as ctx is done, even when the rest of
// the body is already buffered.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
