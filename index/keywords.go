package index

import "strings"

// keywords are the reserved words and predeclared names of each language
// family: identifiers retrieval never looks up (Go's builtin.go defines
// `true` and `len`, which no completion needs to be shown).
var keywords = map[string]map[string]bool{
	"go": words(`break case chan const continue default defer else fallthrough for func go goto if import
		interface map package range return select struct switch type var
		any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune
		string uint uint8 uint16 uint32 uint64 uintptr true false iota nil
		append cap clear close complex copy delete imag len make max min new panic print println real recover`),
	"python": words(`False None True and as assert async await break class continue def del elif else except
		finally for from global if import in is lambda nonlocal not or pass raise return try while with yield
		self cls print len range str int float bool list dict set tuple object type super isinstance open`),
	"js": words(`break case catch class const continue debugger default delete do else export extends false
		finally for function if import in instanceof new null return super switch this throw true try typeof
		var void while with yield let static async await of undefined any number string boolean object
		interface type enum implements private protected public readonly declare namespace console`),
	"rust": words(`as async await break const continue crate dyn else enum extern false fn for if impl in let
		loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where
		while i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str String Vec Option
		Result Some None Ok Err Box`),
	"c": words(`auto break case char const continue default do double else enum extern float for goto if
		inline int long register restrict return short signed sizeof static struct switch typedef union
		unsigned void volatile while bool true false NULL size_t class namespace template typename public
		private protected virtual override new delete this nullptr using std`),
	"java": words(`abstract assert boolean break byte case catch char class const continue default do double
		else enum extends final finally float for goto if implements import instanceof int interface long
		native new package private protected public return short static strictfp super switch synchronized
		this throw throws transient try void volatile while true false null var String Object`),
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
