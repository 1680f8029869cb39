package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// A stTensor is one tensor of a safetensors file: its dtype ("F32", "F16",
// "BF16"), shape (outermost first, as PyTorch writes it) and bytes, a slice
// of the file's read-only mapping.
type stTensor struct {
	name, dtype, file string
	shape             []int
	data              []byte
}

func (t *stTensor) elements() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// checkpoint is the tensors of every safetensors file of a checkpoint,
// memory-mapped: a 7B model's 15 GB are paged in as they are copied out,
// never read into the heap.
//
// The format is small (an 8-byte little-endian header length, a JSON
// header of name → dtype, shape, data_offsets, then the raw data), so dfim
// reads it itself rather than through github.com/nlpodyssey/safetensors,
// which decodes from a []byte the caller supplies (no mapping of its own)
// and would add a dependency for some forty lines of parsing.
type checkpoint struct {
	tensors map[string]*stTensor
	maps    [][]byte
}

func (c *checkpoint) close() {
	for _, m := range c.maps {
		unix.Munmap(m)
	}
	c.maps = nil
}

// openCheckpoint maps the safetensors files of dir: those named by
// model.safetensors.index.json when it exists (a sharded checkpoint), else
// every *.safetensors file.
func openCheckpoint(dir string) (*checkpoint, error) {
	var files []string
	idx := filepath.Join(dir, "model.safetensors.index.json")
	if b, err := os.ReadFile(idx); err == nil {
		var ix struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(b, &ix); err != nil {
			return nil, fmt.Errorf("%s: %v; the index of a sharded checkpoint must be JSON with a weight_map", idx, err)
		}
		seen := map[string]bool{}
		for _, f := range ix.WeightMap {
			if !seen[f] && f == filepath.Base(f) {
				seen[f] = true
				files = append(files, filepath.Join(dir, f))
			} else if f != filepath.Base(f) {
				return nil, fmt.Errorf("%s: shard %q is not a file name in the checkpoint's folder", idx, f)
			}
		}
		sort.Strings(files)
	} else {
		files, _ = filepath.Glob(filepath.Join(dir, "*.safetensors"))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.safetensors files; a Hugging Face checkpoint holds its weights in safetensors (pickled .bin weights are not read)", dir)
	}
	c := &checkpoint{tensors: map[string]*stTensor{}}
	for _, f := range files {
		if err := c.mapFile(f); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

var dtypeSize = map[string]int{"F32": 4, "F16": 2, "BF16": 2}

func (c *checkpoint) mapFile(path string) error {
	fd, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size < 8 {
		return fmt.Errorf("%s: %d bytes is too short for a safetensors file (truncated download?)", path, size)
	}
	data, err := unix.Mmap(int(fd.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("%s: memory-mapping: %v", path, err)
	}
	c.maps = append(c.maps, data)
	n := binary.LittleEndian.Uint64(data)
	if n > uint64(size-8) || n > 1<<30 {
		return fmt.Errorf("%s: header of %d bytes in a file of %d; the file is truncated or not safetensors", path, n, size)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &header); err != nil {
		return fmt.Errorf("%s: header: %v; the file is not safetensors", path, err)
	}
	body := data[8+n:]
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var h struct {
			Dtype   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			return fmt.Errorf("%s: tensor %s: %v", path, name, err)
		}
		es, ok := dtypeSize[h.Dtype]
		if !ok {
			return fmt.Errorf("%s: tensor %s has dtype %s; dfim converts F32, F16 and BF16 checkpoints", path, name, h.Dtype)
		}
		t := &stTensor{name: name, dtype: h.Dtype, file: path, shape: h.Shape}
		want := uint64(es)
		for _, d := range h.Shape {
			if d < 0 || (d > 0 && want > 1<<50/uint64(d)) {
				return fmt.Errorf("%s: tensor %s has shape %v", path, name, h.Shape)
			}
			want *= uint64(d)
		}
		if len(h.Offsets) != 2 || h.Offsets[0] > h.Offsets[1] || h.Offsets[1] > uint64(len(body)) || h.Offsets[1]-h.Offsets[0] != want {
			return fmt.Errorf("%s: tensor %s: data_offsets %v do not hold %d bytes of %v %s within the file's %d bytes of data; the file is truncated or corrupt",
				path, name, h.Offsets, want, h.Shape, h.Dtype, len(body))
		}
		t.data = body[h.Offsets[0]:h.Offsets[1]:h.Offsets[1]]
		if prev, dup := c.tensors[name]; dup {
			return fmt.Errorf("tensor %s is in both %s and %s", name, prev.file, path)
		}
		c.tensors[name] = t
	}
	return nil
}
