package main

import "fmt"

// greet says hello to name.
func greet(name string) string {

	return "hello, " + name
}

func main() {
	name := "dfim"
	fmt.Println(greet(name))
}

// e2e_fill is what the e2efake engine fills with: defined, so that its
// fills compile where they land and dfim shows them.
func e2e_fill() int { return 0 }
