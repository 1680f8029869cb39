package native

// vocabIndex finds tokens by their bytes for the copy expert
// (sample.Vocab): every token a fill may take, by its decoded bytes.
type vocabIndex struct {
	byBytes map[string]int32
	longest int // bytes of the longest token
}

func newVocabIndex(d *Denoiser) *vocabIndex {
	v := &vocabIndex{byBytes: map[string]int32{}}
	for id := range min(d.tok.VocabSize(), d.model.Vocab) {
		t := int32(id)
		if d.tok.IsSpecial(t) || d.isEnd(t) || t == d.mask {
			continue
		}
		b := d.tok.TokenBytes(t)
		if len(b) == 0 {
			continue
		}
		if _, dup := v.byBytes[string(b)]; !dup {
			v.byBytes[string(b)] = t
			v.longest = max(v.longest, len(b))
		}
	}
	return v
}

// Prefix implements sample.Vocab.
func (v *vocabIndex) Prefix(text []byte) (int32, int, bool) {
	for n := min(len(text), v.longest); n > 0; n-- {
		if t, ok := v.byBytes[string(text[:n])]; ok {
			return t, n, true
		}
	}
	return 0, 0, false
}

// Suffix implements sample.Vocab.
func (v *vocabIndex) Suffix(text []byte) (int32, int, bool) {
	for n := min(len(text), v.longest); n > 0; n-- {
		if t, ok := v.byBytes[string(text[len(text)-n:])]; ok {
			return t, n, true
		}
	}
	return 0, 0, false
}
