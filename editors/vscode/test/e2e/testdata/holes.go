package main

import "fmt"

func report(name string) {
	<<fill>>
	fmt.Println(name)
}
