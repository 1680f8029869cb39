package tokenizer

import "unicode/utf8"

// GPT-2's byte-level BPE writes every byte as a printable rune so that
// vocabularies are text: printable Latin-1 bytes stand for themselves, the
// others (controls, space, 0x7f-0xa0, 0xad) map to U+0100 upwards in order.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := rune(0)
	for b := range 256 {
		printable := ('!' <= b && b <= '~') || (0xa1 <= b && b <= 0xac) || (0xae <= b && b <= 0xff)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// encodeBytes writes raw bytes in the byte-level alphabet of the vocabulary.
func encodeBytes(raw string) string {
	buf := make([]byte, 0, 2*len(raw))
	for i := 0; i < len(raw); i++ {
		buf = utf8.AppendRune(buf, byteToRune[raw[i]])
	}
	return string(buf)
}

// decodeBytes turns vocabulary text back into raw bytes. A rune outside the
// alphabet (a hand-made vocabulary) is kept as its UTF-8.
func decodeBytes(dst []byte, text string) []byte {
	for _, r := range text {
		if b, ok := runeToByte[r]; ok {
			dst = append(dst, b)
		} else {
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst
}
