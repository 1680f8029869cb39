package tokenizer

import (
	"strings"
	"sync"
)

// appendWord appends the tokens of one pre-token, from the cache when the
// word was seen before: code repeats its identifiers and indentation.
func (t *Tokenizer) appendWord(dst []int32, word string) []int32 {
	if ids, ok := t.cache.get(word); ok {
		return append(dst, ids...)
	}
	start := len(dst)
	dst = t.bpe(dst, word)
	t.cache.put(word, dst[start:])
	return dst
}

// symbol is one token of a word being merged, in a linked list.
type symbol struct {
	id         int32
	prev, next int32 // indexes in the word's symbols, -1 at the ends
}

// candidate is a possible merge of symbols left and right.
type candidate struct {
	rank        int32
	left, right int32 // symbol indexes
	leftID      int32 // ids when queued, to spot stale candidates
	rightID     int32
	result      int32
}

func (a candidate) less(b candidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
}

// bpe merges the bytes of word by rank, lowest first and leftmost among
// equals, as HF tokenizers and llama.cpp do, and appends the result.
func (t *Tokenizer) bpe(dst []int32, word string) []int32 {
	if t.byRaw != nil {
		if id, ok := t.byRaw[word]; ok {
			return append(dst, id)
		}
	}
	syms := make([]symbol, 0, len(word))
	for i := 0; i < len(word); i++ {
		id := t.byteTok[word[i]]
		if id < 0 {
			id = t.unk // a vocabulary without this byte: UNK, or drop it
			if id < 0 {
				continue
			}
		}
		syms = append(syms, symbol{id: id, prev: int32(len(syms)) - 1, next: int32(len(syms)) + 1})
	}
	if len(syms) == 0 {
		return dst
	}
	syms[len(syms)-1].next = -1
	var q queue
	for i := 1; i < len(syms); i++ {
		t.push(&q, syms, int32(i-1), int32(i))
	}
	for len(q) > 0 {
		c := q.pop()
		l, r := &syms[c.left], &syms[c.right]
		if l.id != c.leftID || r.id != c.rightID || l.next != c.right {
			continue // one side was merged since this was queued
		}
		l.id = c.result
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = c.left
		}
		r.id = -1
		if l.prev >= 0 {
			t.push(&q, syms, l.prev, c.left)
		}
		if l.next >= 0 {
			t.push(&q, syms, c.left, l.next)
		}
	}
	for i := int32(0); i >= 0; i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	return dst
}

func (t *Tokenizer) push(q *queue, syms []symbol, left, right int32) {
	a, b := syms[left].id, syms[right].id
	if m, ok := t.merges[pairKey(a, b)]; ok {
		q.push(candidate{rank: m.rank, left: left, right: right, leftID: a, rightID: b, result: m.result})
	}
}

// queue is a binary min-heap of candidates (container/heap without the
// interface calls).
type queue []candidate

func (q *queue) push(c candidate) {
	*q = append(*q, c)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() candidate {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && h[l].less(h[m]) {
			m = l
		}
		if r := l + 1; r < n && h[r].less(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// wordCache remembers the tokens of recent words. It is bounded: when full
// it starts over, which keeps the hot words of the file being edited.
type wordCache struct {
	mu    sync.Mutex // guards words
	words map[string][]int32
}

const (
	cacheWords   = 1 << 16
	cacheMaxWord = 256 // longer words (long literals) are not worth keeping
)

func (c *wordCache) init() { c.words = make(map[string][]int32) }

func (c *wordCache) get(word string) ([]int32, bool) {
	if len(word) > cacheMaxWord {
		return nil, false
	}
	c.mu.Lock()
	ids, ok := c.words[word]
	c.mu.Unlock()
	return ids, ok
}

func (c *wordCache) put(word string, ids []int32) {
	if len(word) > cacheMaxWord {
		return
	}
	ids = append([]int32(nil), ids...)
	word = strings.Clone(word) // do not pin the caller's whole text
	c.mu.Lock()
	if len(c.words) >= cacheWords {
		clear(c.words)
	}
	c.words[word] = ids
	c.mu.Unlock()
}
