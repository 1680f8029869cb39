// Package hubtest is a stand-in for the Hugging Face Hub that tests start
// on loopback: a repository's file list with LFS sha256 (the revision
// API), resolve URLs that redirect LFS files to a second host (as the
// Hub's CDN), HTTP Range, and faults to order: a corrupted file, a
// connection cut mid-file, a server that ignores Range. It records the
// requests each host saw. Nothing in it reaches the internet.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// A Request is what one host saw.
type Request struct {
	Host          string // "hub" or "cdn"
	Path          string
	Range         string
	Authorization string
}

// A Server is the stand-in Hub (Endpoint) and its CDN.
type Server struct {
	Hub, CDN *httptest.Server

	// mu guards everything below.
	mu          sync.Mutex
	repos       map[string]*repo // "ORG/NAME" → repo
	requests    []Request
	cut         map[string]int64 // file → bytes to send before cutting the connection (once)
	corrupt     map[string]bool  // file → served with one byte flipped
	ignoreRange bool
}

type repo struct {
	commit string
	files  map[string]file
	order  []string
}

type file struct {
	data []byte
	lfs  bool
}

// New starts the two servers; Close stops them.
func New() *Server {
	s := &Server{repos: map[string]*repo{}, cut: map[string]int64{}, corrupt: map[string]bool{}}
	s.Hub = httptest.NewServer(http.HandlerFunc(s.serveHub))
	s.CDN = httptest.NewServer(http.HandlerFunc(s.serveCDN))
	return s
}

// Close stops both servers.
func (s *Server) Close() {
	s.Hub.Close()
	s.CDN.Close()
}

// Endpoint is the value for HF_ENDPOINT.
func (s *Server) Endpoint() string { return s.Hub.URL }

// AddFile puts a file into repo (created on first use at a fixed commit);
// lfs files are listed with their sha256 and served through the CDN.
func (s *Server) AddFile(repoName, path string, data []byte, lfs bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[repoName]
	if r == nil {
		sum := sha1.Sum([]byte(repoName))
		r = &repo{commit: hex.EncodeToString(sum[:]), files: map[string]file{}}
		s.repos[repoName] = r
	}
	if _, ok := r.files[path]; !ok {
		r.order = append(r.order, path)
	}
	r.files[path] = file{data: data, lfs: lfs}
}

// Commit is the commit repo's main resolves to.
func (s *Server) Commit(repoName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[repoName].commit
}

// CutAfter makes the next download of path stop after n bytes, the
// connection closed as by a network failure.
func (s *Server) CutAfter(path string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut[path] = n
}

// Corrupt makes every download of path carry one wrong byte.
func (s *Server) Corrupt(path string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corrupt[path] = on
}

// IgnoreRange makes the servers answer every request with the whole file.
func (s *Server) IgnoreRange(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreRange = on
}

// Requests returns what the servers saw, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) record(host string, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Host: host, Path: r.URL.Path, Range: r.Header.Get("Range"), Authorization: r.Header.Get("Authorization")})
}

type sibling struct {
	RFilename string `json:"rfilename"`
	BlobID    string `json:"blobId"`
	Size      int64  `json:"size"`
	LFS       *lfs   `json:"lfs,omitempty"`
}

type lfs struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func gitBlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Server) serveHub(w http.ResponseWriter, r *http.Request) {
	s.record("hub", r)
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/api/models/"); ok {
		name, _, ok := strings.Cut(rest, "/revision/")
		s.mu.Lock()
		rp := s.repos[name]
		s.mu.Unlock()
		if !ok || rp == nil {
			http.Error(w, "Repository not found", http.StatusNotFound)
			return
		}
		out := struct {
			SHA      string    `json:"sha"`
			Siblings []sibling `json:"siblings"`
		}{SHA: rp.commit}
		s.mu.Lock()
		for _, path := range rp.order {
			f := rp.files[path]
			// For LFS files the Hub's blobId is the pointer's id; the size is the pointer's too.
			sb := sibling{RFilename: path, BlobID: gitBlobID(f.data), Size: int64(len(f.data))}
			if f.lfs {
				sum := sha256.Sum256(f.data)
				sb.LFS = &lfs{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.data))}
				sb.BlobID, sb.Size = gitBlobID([]byte("pointer "+path)), 134
			}
			out.Siblings = append(out.Siblings, sb)
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
		return
	}
	// /ORG/NAME/resolve/COMMIT/FILE
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)
	if len(parts) < 5 || parts[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	name, rev, path := parts[0]+"/"+parts[1], parts[3], parts[4]
	s.mu.Lock()
	rp := s.repos[name]
	var f file
	ok := rp != nil && (rev == rp.commit || rev == "main")
	if ok {
		f, ok = rp.files[path]
	}
	s.mu.Unlock()
	if !ok {
		w.Header().Set("X-Error-Message", "Entry not found")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if f.lfs {
		sum := sha256.Sum256(f.data)
		http.Redirect(w, r, s.CDN.URL+"/blobs/"+name+"/"+hex.EncodeToString(sum[:])+"?file="+path, http.StatusFound)
		return
	}
	s.serveFile(w, r, path, f.data)
}

func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	s.record("cdn", r)
	rest := strings.TrimPrefix(r.URL.Path, "/blobs/")
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		http.NotFound(w, r)
		return
	}
	name, sum := rest[:i], rest[i+1:]
	s.mu.Lock()
	rp := s.repos[name]
	var data []byte
	if rp != nil {
		for _, f := range rp.files {
			h := sha256.Sum256(f.data)
			if hex.EncodeToString(h[:]) == sum {
				data = f.data
			}
		}
	}
	s.mu.Unlock()
	if data == nil {
		http.NotFound(w, r)
		return
	}
	s.serveFile(w, r, r.URL.Query().Get("file"), data)
}

// serveFile answers with data, honouring Range unless told not to, and
// applies the faults ordered for path.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, path string, data []byte) {
	s.mu.Lock()
	cut, doCut := s.cut[path]
	delete(s.cut, path)
	if s.corrupt[path] && len(data) > 0 {
		data = bytes.Clone(data)
		data[len(data)/2] ^= 0xff
	}
	ignore := s.ignoreRange
	s.mu.Unlock()
	if ignore {
		r.Header.Del("Range")
	}
	if doCut {
		// Promise the whole file, send part of it, then drop the connection.
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:min(int(cut), len(data))])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	http.ServeContent(w, r, path, time.Time{}, bytes.NewReader(data))
}
