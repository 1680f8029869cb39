// Package examples holds a small file to try dfim on.
package examples

// Stack is a last-in, first-out stack of ints.
type Stack struct {
	items []int
}

// Push adds v on top of the stack.
func (s *Stack) Push(v int) {

}

// Pop removes and returns the top of the stack; ok is false when it is empty.
func (s *Stack) Pop() (v int, ok bool) {
	if len(s.items) == 0 {
		return 0, false
	}
	v = s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}

// Len returns the number of items on the stack.
func (s *Stack) Len() int {
	return len(s.items)
}
