// Command action stands in for brickci in the install script's tests.
package main

import "fmt"

var version = "none"

func main() { fmt.Println("fake brickci", version) }
