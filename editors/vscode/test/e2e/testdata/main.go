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
